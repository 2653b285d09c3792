import type { AuditEvent } from '../core/audit-event.js';

/**
 * True for audit events of Tollgate's own admin actions (`http_method: ADMIN`, endpoint
 * `admin:…`, see src/core/admin-action-event.ts): they are in the chain, but are not AI requests, so
 * request metrics and GenAI spans leave them out.
 */
export function isAdminEvent(e: AuditEvent): boolean {
  return e.http_method === 'ADMIN';
}
