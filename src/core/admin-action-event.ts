import { blankEvent, type AuditEvent } from './audit-event.js';
import type { Clock } from './clock.js';
import { ERROR_CATALOG } from './errors.js';
import { newEventId } from './ids.js';

/** `http_method` of the events Tollgate itself records (admin actions, erasures, gap records), not traffic. */
export const ADMIN_METHOD = 'ADMIN';

export interface AdminAction {
  /** What was done, as an endpoint-like name: `admin:keys.create`, `admin:erase`, `admin:alerts.ack`. */
  action: string;
  /** Who did it (`cli`, or the admin session's name). */
  actor: string;
  /** The subject: a key id, the destroyed data-key ids (erase, comma-separated), an alert id. */
  subject: string | null;
  /** For erasure: the person whose data it concerns. */
  userId?: string | null;
  ok: boolean;
  /** A code for a refused or failed action. */
  errorCode?: string | null;
  ip?: string | null;
}

/**
 * The audit event of an administrative action: admin actions land in the same tamper-evident
 * trail as traffic (issue 7). It carries ids and codes only.
 */
export function adminActionEvent(
  a: AdminAction,
  clock: Clock,
  source: AuditEvent['source'] = 'gateway',
): AuditEvent {
  const e = blankEvent({
    id: newEventId(clock.now()),
    timestamp: new Date(clock.now()).toISOString(),
    source,
  });
  e.request_id = e.id;
  e.endpoint = a.action;
  e.http_method = ADMIN_METHOD;
  e.api_provider = 'tollgate';
  e.auth_method = 'admin_token';
  // Only a refused credential (no or a wrong token, a forged dashboard form) is an auth failure:
  // the security report counts those. An authenticated admin's bad input or a failure of the
  // store is not, and a failure on Tollgate's side is a server error, not the client's.
  const refused =
    !a.ok && (a.errorCode === 'TG_ERR_ADMIN_UNAUTHORIZED' || a.errorCode === 'TG_ERR_ADMIN_CSRF');
  e.auth_result = refused ? 'FAILED' : 'SUCCESS';
  e.status = a.ok
    ? 'SUCCESS'
    : a.errorCode === 'TG_ERR_ADMIN_UNAUTHORIZED'
      ? 'AUTH_FAILED'
      : serverSide(a.errorCode)
        ? 'SERVER_ERROR'
        : 'CLIENT_ERROR';
  e.error_code = a.errorCode ?? null;
  e.request_source = a.actor;
  // The key the action is about: a virtual key (keys.*), or the destroyed data keys (erase).
  e.virtual_key_id = a.action.startsWith('admin:keys') || a.action === 'admin:erase' ? a.subject : null;
  e.user_id = a.userId ?? null;
  e.ip_address = a.ip ?? null;
  e.feature_name = 'admin';
  e.content_mode = 'none';
  e.usage_source = 'none';
  return e;
}

/** Whether a code names a failure on Tollgate's side (its HTTP status is 5xx); free-form codes are not. */
function serverSide(code: string | null | undefined): boolean {
  if (!code || !Object.hasOwn(ERROR_CATALOG, code)) return false;
  return ERROR_CATALOG[code as keyof typeof ERROR_CATALOG].http >= 500;
}
