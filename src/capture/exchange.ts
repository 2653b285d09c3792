import type { AuditEvent, EventSource } from '../core/audit-event.js';
import type { BilledUnits, ProviderApi } from '../providers/provider-api.js';
import type { ProviderQuota } from '../upstream/provider-rate-limit-headers.js';
import { apiForEndpoint } from '../providers/registry.js';
import type { AssembledStream } from './sse-assembler.js';
import type { TraceContext } from './trace-context.js';

/** Attribution of a request to people and product parts (from x-tollgate-* headers or SDK options). */
export interface Attribution {
  user: string | null;
  session: string | null;
  feature: string | null;
  source: string | null;
  team: string | null;
}

export type AuthFields = Pick<
  AuditEvent,
  'auth_method' | 'auth_result' | 'api_key_id' | 'api_key_prefix' | 'virtual_key_id'
>;

/**
 * Everything one entry point (gateway or SDK) observed about one client request. `captureEvent`
 * turns it into exactly one audit event; neither entry point builds events itself.
 */
export interface Exchange {
  source: EventSource;
  instanceId: string;
  eventId: string;
  /** Wall-clock ms at request start. */
  startedAt: number;
  requestId: string | null;
  trace: TraceContext | null;
  spanId: string | null;
  ip: string | null;
  userAgent: string | null;
  attribution: Attribution;
  provider: string | null;
  /** Path under the API base, e.g. `/chat/completions`. */
  endpoint: string;
  /** The provider API the endpoint is (src/providers/registry.ts): how its answer is read. */
  api: ProviderApi;
  method: string;
  /** The parsed JSON request body, when there was one. */
  requestBody: Record<string, unknown> | null;
  auth: AuthFields;
  httpStatus: number | null;
  /** Non-streamed response body as text (bounded by the caller). */
  responseText: string | null;
  /** The assembled stream, for streamed responses. */
  stream: AssembledStream | null;
  /**
   * Billed units counted while a successful body too large to keep passed (ProviderApi
   * `countedBilling`); null otherwise.
   */
  countedBilling: BilledUnits | null;
  latencyMs: number | null;
  ttftMs: number | null;
  upstreamLatencyMs: number | null;
  queueMs: number | null;
  retryCount: number;
  /** What the answer's rate-limit headers said about the provider key's quota (null: nothing). */
  providerQuota: ProviderQuota | null;
  /** Fingerprint of the provider key the request went upstream with (null: nothing went upstream). */
  providerKeyId: string | null;
  /** Providers tried before the one that answered, with why they failed (`openai (HTTP 503)`). */
  failover: string[] | null;
  timedOut: boolean;
  cancelled: boolean;
  connectFailed: boolean;
  /** Refused by a Tollgate policy (quota, budget, model not allowed, fail-closed …). */
  blocked: boolean;
  /** A gateway credential refused whatever the HTTP status (a locked-out key or address answers 429). */
  authRefused: boolean;
  /** A Tollgate-side error (code and non-sensitive message) when the gateway ended the exchange. */
  failure: { code: string; message: string } | null;
}

/** An exchange with nothing observed yet; entry points fill it as the request proceeds. */
export function newExchange(
  init: Pick<Exchange, 'source' | 'instanceId' | 'eventId' | 'startedAt' | 'endpoint' | 'method'>,
): Exchange {
  // Written out field by field (no spread) so every exchange shares one object shape.
  return {
    source: init.source,
    instanceId: init.instanceId,
    eventId: init.eventId,
    startedAt: init.startedAt,
    endpoint: init.endpoint,
    api: apiForEndpoint(init.endpoint),
    method: init.method,
    requestId: null,
    trace: null,
    spanId: null,
    ip: null,
    userAgent: null,
    attribution: { user: null, session: null, feature: null, source: null, team: null },
    provider: null,
    requestBody: null,
    auth: {
      auth_method: null,
      auth_result: null,
      api_key_id: null,
      api_key_prefix: null,
      virtual_key_id: null,
    },
    httpStatus: null,
    responseText: null,
    stream: null,
    countedBilling: null,
    latencyMs: null,
    ttftMs: null,
    upstreamLatencyMs: null,
    queueMs: null,
    retryCount: 0,
    providerQuota: null,
    providerKeyId: null,
    failover: null,
    timedOut: false,
    cancelled: false,
    connectFailed: false,
    blocked: false,
    authRefused: false,
    failure: null,
  };
}
