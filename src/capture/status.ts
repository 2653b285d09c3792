import type { EventStatus } from '../core/audit-event.js';

/** How an exchange ended, before it is mapped to the DESIGN.md status taxonomy. */
export interface Outcome {
  httpStatus: number | null;
  timedOut: boolean;
  cancelled: boolean;
  blocked: boolean;
  /** A gateway credential was refused (DESIGN.md: a refused gateway key is AUTH_FAILED). */
  authRefused?: boolean;
  /** A connection-level failure to reach the upstream (refused, reset, DNS). */
  connectFailed: boolean;
}

/** The status taxonomy of DESIGN.md: one status per event, by the first rule that matches. */
export function classifyStatus(o: Outcome): EventStatus {
  if (o.authRefused === true) return 'AUTH_FAILED';
  if (o.blocked) return 'BLOCKED';
  if (o.cancelled) return 'CANCELLED';
  if (o.timedOut) return 'TIMEOUT';
  if (o.connectFailed) return 'SERVER_ERROR';
  const s = o.httpStatus;
  if (s === null) return 'SERVER_ERROR';
  if (s === 429) return 'RATE_LIMITED';
  if (s === 401 || s === 403) return 'AUTH_FAILED';
  if (s >= 500) return 'SERVER_ERROR';
  if (s >= 400) return 'CLIENT_ERROR';
  return 'SUCCESS';
}
