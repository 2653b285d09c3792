/**
 * The events list of the admin API and the live view: `tollgate events` filters from query
 * parameters, newest first, LIMITed, paged with a `before` cursor (the store's page cursor).
 */
import { EVENT_STATUSES, type AuditEvent, type EventStatus } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import { parsePageCursor, type EventFilter, type EventStore } from '../store/event-store.js';
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
  if (before !== '' && parsePageCursor(before) === null)
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
 * One page, newest first, through the store's keyset page (`EventStore.page`): the cursor is the
 * store's (`<time µs>.<position>`), exact on every store, so paging neither repeats nor loses events.
 */
export async function listEvents(store: EventStore, q: EventQuery, nowMs: number): Promise<EventPage> {
  const filter = eventFilter(q, nowMs);
  filter.limit = q.limit;
  const page = await store.page(filter, q.before || null);
  return { events: page.events, next_before: page.next };
}
