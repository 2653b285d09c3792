/**
 * The events list of the admin API and the live view: `tollgate events` filters from query
 * parameters, newest first, LIMITed, paged with a `before` cursor (`<ts_ms>.<event id>`).
 */
import { EVENT_STATUSES, type AuditEvent, type EventStatus } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { EventFilter, EventStore } from '../store/event-store.js';
import type { SqliteDatabase } from '../store/sqlite/open-sqlite.js';
import { sqlitePage } from '../store/sqlite/sqlite-event-reads.js';
import { parseSince } from './time-window.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** The filters the dashboard and `GET /admin/events` accept, as given (for re-rendering the form). */
export interface EventQuery {
  user: string;
  session: string;
  feature: string;
  key: string;
  model: string;
  status: EventStatus | '';
  since: string;
  /** End of the time range (same forms as `since`; empty: now). */
  until: string;
  limit: number;
  before: string;
}

export interface EventPage {
  events: AuditEvent[];
  /** Cursor of the next (older) page, or null at the end. */
  next_before: string | null;
}

const TEXT_FILTERS = ['user', 'session', 'feature', 'key', 'model'] as const;

/** Reads and checks the filters; a bad value is TG_ERR_ADMIN_BAD_REQUEST naming the parameter only. */
export function parseEventQuery(params: URLSearchParams): EventQuery {
  const q: EventQuery = {
    user: '',
    session: '',
    feature: '',
    key: '',
    model: '',
    status: '',
    since: '',
    until: '',
    limit: DEFAULT_PAGE_SIZE,
    before: '',
  };
  for (const f of TEXT_FILTERS) {
    const v = params.get(f)?.trim() ?? '';
    if (v.length > 200) throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: f });
    q[f] = v;
  }
  const status = params.get('status')?.trim().toUpperCase() ?? '';
  if (status !== '') {
    if (!(EVENT_STATUSES as readonly string[]).includes(status))
      throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'status' });
    q.status = status as EventStatus;
  }
  q.since = params.get('since')?.trim() ?? '';
  q.until = params.get('until')?.trim() ?? '';
  const limit = params.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE)
      throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'limit' });
    q.limit = n;
  }
  const before = params.get('before')?.trim() ?? '';
  if (before !== '' && !/^\d{1,16}\.(\d{1,16}|[0-9A-Za-z-]{1,64})$/.test(before))
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'before' });
  q.before = before;
  return q;
}

/** The store filter of a query (without paging). */
export function eventFilter(q: EventQuery, nowMs: number): EventFilter {
  const f: EventFilter = { order: 'desc' };
  if (q.user) f.user = q.user;
  if (q.session) f.session = q.session;
  if (q.feature) f.feature = q.feature;
  if (q.key) f.key = q.key;
  if (q.model) f.model = q.model;
  if (q.status) f.status = q.status;
  if (q.since) f.sinceMs = parseSince(q.since, nowMs, 'since');
  if (q.until) f.untilMs = parseSince(q.until, nowMs, 'until');
  return f;
}

/**
 * One page, newest first. The cursor bounds the time (`ts_ms` ≤ its time, indexed) and skips the
 * events of that same millisecond already shown, so paging neither repeats nor loses events.
 */
export async function listEvents(
  store: EventStore,
  q: EventQuery,
  nowMs: number,
  eventsDb: SqliteDatabase | null = null,
): Promise<EventPage> {
  const filter = eventFilter(q, nowMs);
  if (eventsDb) {
    // SQLite: exact keyset paging on (ts_ms, rowid); the cursor is `<ts_ms>.<rowid>`.
    let before = null;
    if (q.before) {
      const [ts, rowid] = q.before.split('.');
      if (!/^\d+$/.test(rowid ?? ''))
        throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'before' });
      before = { tsMs: Number(ts), rowid: Number(rowid) };
    }
    filter.limit = q.limit + 1;
    const rows = sqlitePage(eventsDb, filter, before);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      events: page.map((r) => r.event),
      next_before: rows.length > q.limit && last ? `${last.cursor.tsMs}.${last.cursor.rowid}` : null,
    };
  }
  let skipUntilId: string | null = null;
  let cursorMs: number | null = null;
  if (q.before) {
    const dot = q.before.indexOf('.');
    cursorMs = Number(q.before.slice(0, dot));
    skipUntilId = q.before.slice(dot + 1);
    filter.untilMs = Math.min(filter.untilMs ?? Infinity, cursorMs + 1);
  }
  // Events of the cursor's millisecond that were on the previous page come first; fetch enough
  // extra rows to step over them (a millisecond rarely holds more than a handful).
  const extra = skipUntilId ? 64 : 0;
  filter.limit = q.limit + 1 + extra;
  let rows = await store.query(filter);
  if (skipUntilId !== null) {
    const at = rows.findIndex((e) => e.id === skipUntilId);
    if (at >= 0) rows = rows.slice(at + 1);
    else rows = rows.filter((e) => Date.parse(e.timestamp) < cursorMs!);
  }
  const more = rows.length > q.limit;
  const events = rows.slice(0, q.limit);
  const last = events[events.length - 1];
  return { events, next_before: more && last ? `${Date.parse(last.timestamp)}.${last.id}` : null };
}
