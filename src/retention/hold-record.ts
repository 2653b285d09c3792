/**
 * Legal holds (docs/privacy.md "Legal hold"). A hold is an administrative event in the trail, and
 * so is its release: the holds in force are read back from the chain, where they cannot be
 * changed or removed without `verify` noticing. Held events and their content are never pruned,
 * and the person a hold names (or whose events it covers) cannot be erased while it is in force.
 *
 *   endpoint       `admin:hold.create` / `admin:hold.release`, http_method `ADMIN`
 *   user_id        the held user (create with --user), session_id the held session (--session)
 *   error_message  `legal hold: id=<hold id> user=<id|-> session=<id|-> key=<id|-> since=<ISO|->
 *                   until=<ISO|-> reason=<text>` (values URI-encoded, `-` for none)
 *                  `legal hold released: id=<hold id> reason=<text|->`
 */
import type { AuditEvent } from '../core/audit-event.js';
import { ADMIN_METHOD } from '../core/admin-action-event.js';

export const HOLD_CREATE_ACTION = 'admin:hold.create';
export const HOLD_RELEASE_ACTION = 'admin:hold.release';

/** What a hold covers: every given condition must hold (AND); at least one is given. */
export interface HoldScope {
  user: string | null;
  session: string | null;
  /** Matches `api_key_id`, `api_key_prefix` or `virtual_key_id` (as `tollgate events --key`). */
  key: string | null;
  /** Inclusive lower bound on the event's timestamp (ISO-8601). */
  since: string | null;
  /** Exclusive upper bound on the event's timestamp (ISO-8601). */
  until: string | null;
}

export interface HoldStatement extends HoldScope {
  /** `hold_<10 hex>`. */
  id: string;
  reason: string;
}

/** A hold as read from the trail. */
export interface Hold extends HoldStatement {
  /** When it was placed (the create event's timestamp), and by whom (`request_source`). */
  created_at: string;
  created_by: string | null;
  created_event_id: string;
  /** Null while in force. */
  released_at: string | null;
  release_reason: string | null;
  released_event_id: string | null;
}

const enc = (v: string | null): string => (v === null ? '-' : encodeURIComponent(v));

function dec(v: string): string | null {
  if (v === '-') return null;
  try {
    return decodeURIComponent(v);
  } catch {
    return null;
  }
}

export function formatHoldMessage(h: HoldStatement): string {
  return `legal hold: id=${h.id} user=${enc(h.user)} session=${enc(h.session)} key=${enc(h.key)} since=${enc(h.since)} until=${enc(h.until)} reason=${enc(h.reason)}`;
}

export function formatHoldReleaseMessage(id: string, reason: string | null): string {
  return `legal hold released: id=${id} reason=${enc(reason)}`;
}

const HOLD_ID = '(hold_[0-9a-f]{10})';
const CREATE =
  /^legal hold: id=(hold_[0-9a-f]{10}) user=(\S+) session=(\S+) key=(\S+) since=(\S+) until=(\S+) reason=(\S+)$/;
const RELEASE = new RegExp(`^legal hold released: id=${HOLD_ID} reason=(\\S+)$`);

export function isHoldEvent(e: AuditEvent): boolean {
  return (
    e.http_method === ADMIN_METHOD &&
    (e.endpoint === HOLD_CREATE_ACTION || e.endpoint === HOLD_RELEASE_ACTION)
  );
}

/** Every hold found in `events` (any order), with its release when there is one; oldest first. */
export function holdsFrom(events: Iterable<AuditEvent>): Hold[] {
  const sorted = [...events]
    .filter(isHoldEvent)
    .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  const holds = new Map<string, Hold>();
  for (const e of sorted) {
    const msg = e.error_message ?? '';
    if (e.endpoint === HOLD_CREATE_ACTION) {
      const m = CREATE.exec(msg);
      if (!m || holds.has(m[1]!)) continue;
      holds.set(m[1]!, {
        id: m[1]!,
        user: dec(m[2]!),
        session: dec(m[3]!),
        key: dec(m[4]!),
        since: dec(m[5]!),
        until: dec(m[6]!),
        reason: dec(m[7]!) ?? '',
        created_at: e.timestamp,
        created_by: e.request_source,
        created_event_id: e.id,
        released_at: null,
        release_reason: null,
        released_event_id: null,
      });
    } else {
      const m = RELEASE.exec(msg);
      const h = m ? holds.get(m[1]!) : undefined;
      if (!h || h.released_at !== null) continue;
      h.released_at = e.timestamp;
      h.release_reason = dec(m![2]!);
      h.released_event_id = e.id;
    }
  }
  return [...holds.values()];
}

/** True when the hold covers the event (a hold's own record is never "covered": it is kept anyway). */
export function holdCovers(h: HoldScope, e: AuditEvent): boolean {
  if (h.user !== null && e.user_id !== h.user) return false;
  if (h.session !== null && e.session_id !== h.session) return false;
  if (h.key !== null && e.api_key_id !== h.key && e.api_key_prefix !== h.key && e.virtual_key_id !== h.key)
    return false;
  const t = Date.parse(e.timestamp);
  if (h.since !== null && t < Date.parse(h.since)) return false;
  if (h.until !== null && t >= Date.parse(h.until)) return false;
  return true;
}

/** The first hold in force that covers the event, or null. */
export function heldBy(holds: readonly Hold[], e: AuditEvent): Hold | null {
  for (const h of holds) if (h.released_at === null && holdCovers(h, e)) return h;
  return null;
}

/** One line for people: what the hold covers. */
export function describeHoldScope(h: HoldScope): string {
  const parts: string[] = [];
  if (h.user !== null) parts.push(`user ${h.user}`);
  if (h.session !== null) parts.push(`session ${h.session}`);
  if (h.key !== null) parts.push(`key ${h.key}`);
  if (h.since !== null || h.until !== null)
    parts.push(`from ${h.since ?? 'the start'} to ${h.until ?? 'now on'}`);
  return parts.join(', ');
}
