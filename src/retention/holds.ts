/**
 * Placing, listing and releasing legal holds (hold-record.ts), and the check that refuses an
 * erasure of held data. Holds are recorded on the command line's chain (`admin-cli`).
 */
import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.js';
import { adminActionEvent } from '../core/admin-action-event.js';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import { adminEvents } from '../integrity/prune-state.js';
import type { EventStore } from '../store/event-store.js';
import { appendAdminEvent } from './append-admin-event.js';
import {
  HOLD_CREATE_ACTION,
  HOLD_RELEASE_ACTION,
  describeHoldScope,
  formatHoldMessage,
  formatHoldReleaseMessage,
  holdsFrom,
  type Hold,
  type HoldScope,
} from './hold-record.js';

/** Longest reason kept (the record's field is bounded; a reason is a case number and a line). */
export const MAX_HOLD_REASON = 300;

/** Every hold of the store, released ones included, oldest first. */
export async function listHolds(store: EventStore): Promise<Hold[]> {
  return holdsFrom(await adminEvents(store));
}

/** Places a hold; returns it as recorded. */
export async function createHold(
  store: EventStore,
  chainId: string,
  scope: HoldScope,
  reason: string,
  actor: string,
  clock: Clock,
  /** Chains and stores the record (default: at the head of `chainId`, which only the caller writes). */
  record: (e: AuditEvent) => Promise<AuditEvent> = (e) => appendAdminEvent(store, chainId, e),
): Promise<Hold> {
  const text = reason.trim();
  if (
    scope.user === null &&
    scope.session === null &&
    scope.key === null &&
    scope.since === null &&
    scope.until === null
  )
    throw new TollgateError('TG_ERR_RETENTION_HOLD_INVALID', {
      reason: 'no scope: give --user, --session, --key or --since/--until',
    });
  if (text.length === 0 || text.length > MAX_HOLD_REASON)
    throw new TollgateError('TG_ERR_RETENTION_HOLD_INVALID', {
      reason: `a reason of 1 to ${MAX_HOLD_REASON} characters is required`,
    });
  for (const [name, v] of [
    ['since', scope.since],
    ['until', scope.until],
  ] as const)
    if (v !== null && Number.isNaN(Date.parse(v)))
      throw new TollgateError('TG_ERR_RETENTION_HOLD_INVALID', { reason: `--${name} is not a time` });
  const id = `hold_${randomBytes(5).toString('hex')}`;
  const e = adminActionEvent(
    { action: HOLD_CREATE_ACTION, actor, subject: null, userId: scope.user, ok: true },
    clock,
  );
  e.session_id = scope.session;
  e.error_message = formatHoldMessage({ id, ...scope, reason: text });
  const stored = await record(e);
  const hold = holdsFrom([stored])[0];
  if (!hold)
    throw new TollgateError('TG_ERR_RETENTION_HOLD_INVALID', { reason: 'the hold could not be recorded' });
  return hold;
}

/** Releases a hold in force; returns the release event. */
export async function releaseHold(
  store: EventStore,
  chainId: string,
  id: string,
  reason: string | null,
  actor: string,
  clock: Clock,
): Promise<{ hold: Hold; event: AuditEvent }> {
  const hold = (await listHolds(store)).find((h) => h.id === id && h.released_at === null);
  if (!hold) throw new TollgateError('TG_ERR_RETENTION_HOLD_NOT_FOUND', { hold: id });
  const e = adminActionEvent(
    { action: HOLD_RELEASE_ACTION, actor, subject: null, userId: hold.user, ok: true },
    clock,
  );
  e.session_id = hold.session;
  e.error_message = formatHoldReleaseMessage(
    id,
    reason?.trim() ? reason.trim().slice(0, MAX_HOLD_REASON) : null,
  );
  return { hold, event: await appendAdminEvent(store, chainId, e) };
}

/**
 * Throws TG_ERR_RETENTION_HELD, naming the hold, when a hold in force covers any stored event of
 * the person (a hold on the person, or on a session, key or time range with their events).
 */
export async function assertUserNotHeld(store: EventStore, userId: string): Promise<void> {
  for (const h of await listHolds(store)) {
    if (h.released_at !== null) continue;
    if (h.user !== null && h.user !== userId) continue;
    const covers =
      h.user === userId ||
      (await store.count({
        user: userId,
        ...(h.session !== null ? { session: h.session } : {}),
        ...(h.key !== null ? { key: h.key } : {}),
        ...(h.since !== null ? { sinceMs: Date.parse(h.since) } : {}),
        ...(h.until !== null ? { untilMs: Date.parse(h.until) } : {}),
      })) > 0;
    if (covers)
      throw new TollgateError('TG_ERR_RETENTION_HELD', {
        hold: h.id,
        scope: describeHoldScope(h),
        reason: h.reason,
        placed_at: h.created_at,
        release_with: `tollgate hold release ${h.id}`,
      });
  }
}
