import type { AuditEvent } from '../core/audit-event.js';

/** A failed authentication: the gateway or the provider refused the credential. */
export function isAuthFailure(event: AuditEvent): boolean {
  if (event.status === 'AUTH_FAILED') return true;
  const r = event.auth_result;
  return r === 'FAILED' || r === 'MISSING' || r === 'EXPIRED' || r === 'REVOKED';
}

/**
 * A failed request for `errors.rate`. Authentication failures have their own rule and a client
 * that went away (`CANCELLED`) is not a failure of the service, so neither counts.
 */
export function isRequestFailure(event: AuditEvent): boolean {
  return event.status !== 'SUCCESS' && event.status !== 'CANCELLED' && !isAuthFailure(event);
}
