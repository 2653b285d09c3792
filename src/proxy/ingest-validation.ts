import {
  AUDIT_EVENT_FIELDS,
  EVENT_STATUSES,
  LATER_NULLABLE_FIELDS,
  SCHEMA_VERSION,
  type AuditEvent,
} from '../core/audit-event.js';
import { hasValidHash } from '../integrity/hash-chain.js';

/** Chain ids the ingest route accepts: SDK instances only (`sdk-…`), so no client can write into a gateway's chain. */
const SDK_CHAIN_ID = /^sdk-[A-Za-z0-9._-]{1,60}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const KNOWN = new Set<string>(AUDIT_EVENT_FIELDS);

const NUMERIC_NULLABLE = [
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'total_tokens',
  'latency_ms',
  'time_to_first_token_ms',
  'queue_time_ms',
  'upstream_latency_ms',
  'http_status_code',
  'cost_micro_usd',
  'provider_requests_remaining',
  'provider_requests_limit',
  'provider_tokens_remaining',
  'provider_tokens_limit',
  'cache_write_tokens',
  'audio_input_tokens',
  'image_input_tokens',
  'billing_quantity',
] as const;

const STRING_NULLABLE = [
  'billing_unit',
  'unpriced_reason',
  'request_id',
  'trace_id',
  'span_id',
  'instance_id',
  'ip_address',
  'user_agent',
  'request_source',
  'api_provider',
  'endpoint',
  'http_method',
  'model_requested',
  'model_used',
  'auth_method',
  'api_key_id',
  'api_key_prefix',
  'virtual_key_id',
  'error_code',
  'error_message',
  'finish_reason',
  'user_id',
  'session_id',
  'feature_name',
  'team',
  'pricing_version',
  'prompt',
  'response',
  'provider_requests_reset',
  'provider_tokens_reset',
  'provider_key_id',
] as const;

/**
 * The first problem found in an ingested event, by field name; null when the event is acceptable.
 * A field added after schema v1's first release (LATER_NULLABLE_FIELDS) that an older SDK does
 * not send is set to null here (it is not hashed while null, so the event still verifies).
 */
export function ingestProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'event';
  const e = value as Record<string, unknown>;
  for (const f of LATER_NULLABLE_FIELDS) if (!(f in e)) e[f] = null;
  for (const f of AUDIT_EVENT_FIELDS) if (!(f in e)) return f;
  for (const k of Object.keys(e)) if (!KNOWN.has(k)) return k;
  if (e.schema_version !== SCHEMA_VERSION) return 'schema_version';
  if (typeof e.id !== 'string' || !/^[0-9a-f-]{36}$/.test(e.id)) return 'id';
  if (typeof e.timestamp !== 'string' || Number.isNaN(Date.parse(e.timestamp))) return 'timestamp';
  if (e.source !== 'sdk') return 'source';
  if (typeof e.chain_id !== 'string' || !SDK_CHAIN_ID.test(e.chain_id)) return 'chain_id';
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1) return 'seq';
  if (typeof e.prev_hash !== 'string' || !HEX64.test(e.prev_hash)) return 'prev_hash';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'hash';
  if (!(EVENT_STATUSES as readonly unknown[]).includes(e.status)) return 'status';
  if (!['reported', 'estimated', 'none'].includes(e.usage_source as string)) return 'usage_source';
  if (!['none', 'redacted', 'full', 'encrypted'].includes(e.content_mode as string)) return 'content_mode';
  if (
    e.auth_result !== null &&
    !['SUCCESS', 'FAILED', 'MISSING', 'EXPIRED', 'REVOKED'].includes(e.auth_result as string)
  )
    return 'auth_result';
  for (const f of NUMERIC_NULLABLE)
    if (e[f] !== null && (typeof e[f] !== 'number' || !Number.isFinite(e[f]))) return f;
  for (const f of STRING_NULLABLE) if (e[f] !== null && typeof e[f] !== 'string') return f;
  if (typeof e.retry_count !== 'number' || !Number.isSafeInteger(e.retry_count)) return 'retry_count';
  if (e.stream !== null && typeof e.stream !== 'boolean') return 'stream';
  if (typeof e.is_anomalous !== 'boolean') return 'is_anomalous';
  if (!Array.isArray(e.threat_indicators) || !e.threat_indicators.every((t) => typeof t === 'string'))
    return 'threat_indicators';
  if (
    !Array.isArray(e.redactions) ||
    !e.redactions.every(
      (r: unknown) =>
        !!r &&
        typeof (r as { type?: unknown }).type === 'string' &&
        typeof (r as { count?: unknown }).count === 'number',
    )
  )
    return 'redactions';
  // The hash covers every field, so an event changed after the SDK chained it is refused here.
  if (!hasValidHash(e as unknown as AuditEvent)) return 'hash';
  return null;
}

/**
 * Within one batch, consecutive events of a chain must link (seq + 1, prev_hash = previous hash).
 * Returns the index of the first event that does not, or -1. Links across batches are checked by
 * `tollgate verify`, which sees the whole chain.
 */
export function firstBrokenLink(events: readonly AuditEvent[]): number {
  const last = new Map<string, AuditEvent>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const prev = last.get(e.chain_id!);
    if (prev && (e.seq !== prev.seq! + 1 || e.prev_hash !== prev.hash)) return i;
    last.set(e.chain_id!, e);
  }
  return -1;
}
