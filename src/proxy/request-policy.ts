import type { IncomingHttpHeaders } from 'node:http';
import type { AuditEvent } from '../core/audit-event.js';
import type { ErrorCode } from '../core/errors.js';
import type { Attribution, AuthFields } from '../capture/exchange.js';

export interface AdmissionContext {
  headers: IncomingHttpHeaders;
  ip: string | null;
  endpoint: string;
  /** The request target's query, from `?` on (`''` when none): Gemini may send its key as `?key=`. */
  query?: string;
  model: string | null;
  body: Record<string, unknown> | null;
  /** Wall-clock ms of the request start. */
  now: number;
  /** Who the request is for (x-tollgate-* headers), when known. */
  attribution?: Attribution;
}

export interface Refusal {
  code: ErrorCode;
  /** `auth` refusals are recorded as AUTH_FAILED; `policy` refusals as BLOCKED. */
  kind: 'auth' | 'policy';
  retryAfterSec?: number;
  /** Non-sensitive facts for the client and the event (which budget, when it resets); no keys, no content. */
  detail?: Record<string, string>;
}

export interface Admission {
  auth: AuthFields;
  refusal: Refusal | null;
  /**
   * Attribution the credential fixes (a gateway key's user and team): it replaces what the
   * x-tollgate-* headers said, in the event and for budgets and limits.
   */
  attribution?: Partial<Pick<Attribution, 'user' | 'team'>>;
  /**
   * Headers to set on the upstream request (managed mode puts the provider key here). When set,
   * the client's own credential headers (CLIENT_CREDENTIAL_HEADERS) are removed first.
   */
  upstreamHeaders?: Record<string, string>;
  /** The gateway key's own in-flight limit (`keys create --concurrent`), enforced by LimitsPolicy. */
  keyConcurrent?: { keyId: string; limit: number };
  /** Fingerprint of the provider key the request goes upstream with, when it is not the client's (managed mode). */
  providerKeyId?: string;
  /** Called once with the finished event (settles token reservations, budgets, lockout counters). */
  settle?: (event: AuditEvent) => void;
}

/**
 * Decides whether a request may go upstream and how it authenticates. Passthrough mode
 * fingerprints the client's own provider key; managed mode checks gateway-issued keys, limits
 * and budgets. Admission happens before any upstream call, so a refusal never reaches the provider.
 */
export interface RequestPolicy {
  admit(ctx: AdmissionContext): Admission | Promise<Admission>;
}
