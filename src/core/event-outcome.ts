import type { AuditEvent } from './audit-event.js';

/**
 * The one definition of how an event ended, for every figure that counts errors: the CLI security
 * report, the dashboard and rollups, `errors.rate`, auth-failure rules. DESIGN.md "The audit event":
 * `CANCELLED` means the client went away, which is not an error of the service.
 */

/** A refused credential: status AUTH_FAILED, or an auth result other than SUCCESS. */
export function isAuthFailure(e: Pick<AuditEvent, 'status' | 'auth_result'>): boolean {
  return e.status === 'AUTH_FAILED' || (e.auth_result !== null && e.auth_result !== 'SUCCESS');
}

/** An error: any status but SUCCESS and CANCELLED (auth failures and Tollgate's refusals included). */
export function isError(e: Pick<AuditEvent, 'status'>): boolean {
  return e.status !== 'SUCCESS' && e.status !== 'CANCELLED';
}

/**
 * A failed request, for error rates per model or key and `errors.rate`: an error that is not an
 * authentication failure (those have their own rule and report section).
 */
export function isRequestFailure(e: Pick<AuditEvent, 'status' | 'auth_result'>): boolean {
  return isError(e) && !isAuthFailure(e);
}
