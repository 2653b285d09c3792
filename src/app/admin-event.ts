import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { newEventId } from '../core/ids.js';
import {
  GAP_REASON_CODE,
  GAP_RECORD_ACTION,
  GAP_RECORD_ACTOR,
  formatGapMessage,
  type GapRange,
} from '../integrity/gap-record.js';
import { createChainer } from '../integrity/hash-chain.js';
import type { EventStore } from '../store/event-store.js';
import { ADMIN_METHOD } from '../store/rollups.js';

/** Chain of the administrative actions taken from the command line (keys, erasure). */
export const CLI_ADMIN_CHAIN = 'admin-cli';

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
  e.auth_result = a.ok ? 'SUCCESS' : 'FAILED';
  e.status = a.ok ? 'SUCCESS' : a.errorCode === 'TG_ERR_ADMIN_UNAUTHORIZED' ? 'AUTH_FAILED' : 'CLIENT_ERROR';
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

/**
 * The chained gap record of events the writer could neither store nor spool (docs/integrity.md
 * "Accounted gaps"): an administrative event of the writer whose `error_message` names the missing
 * range and the hash of its last event, so `tollgate verify` can tell an accounted gap from a
 * deletion. The caller chains it (the pipeline's `recordEvent`), in the chain of the lost events.
 */
export function writerGapEvent(
  gap: GapRange,
  clock: Clock,
  source: AuditEvent['source'] = 'gateway',
): AuditEvent {
  const e = adminActionEvent(
    {
      action: GAP_RECORD_ACTION,
      actor: GAP_RECORD_ACTOR,
      subject: null,
      ok: false,
      errorCode: GAP_REASON_CODE[gap.reason],
    },
    clock,
    source,
  );
  e.status = 'SERVER_ERROR';
  e.auth_method = null;
  e.auth_result = null;
  e.error_message = formatGapMessage(gap);
  return e;
}

/** Appends an admin action from the CLI to its own chain (the gateway's chains are not touched). */
export async function recordCliAdminAction(
  store: EventStore,
  a: AdminAction,
  clock: Clock,
): Promise<AuditEvent> {
  const heads = await store.chains();
  const head = heads.find((h) => h.chain_id === CLI_ADMIN_CHAIN) ?? null;
  const event = adminActionEvent(a, clock);
  event.instance_id = CLI_ADMIN_CHAIN;
  createChainer({ chainId: CLI_ADMIN_CHAIN, head }).link(event);
  await store.append([event]);
  return event;
}
