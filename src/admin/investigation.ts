/**
 * What an investigator reads beside the event list: a session as a timeline (its requests in
 * order with input tokens and cost so far, and the alerts on it), and a subject's activity around
 * an alert (± 1 h) with the other subjects of the same incident.
 */
import type { Alert, AlertSubject } from '../alerting/alert.js';
import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { EventFilter } from '../store/event-store.js';
import type { AdminConsole } from './admin-console.js';
import { parseSince } from './time-window.js';

/** Requests of a session shown at most (the newest when there are more). */
export const SESSION_LIMIT = 500;

export interface SessionTimeline {
  session: string;
  /** Oldest first. */
  events: AuditEvent[];
  /** True when the session had more requests than are shown. */
  truncated: boolean;
  /** Cost so far after each request (micro-USD, unpriced ones add nothing), same order as `events`. */
  costSoFar: number[];
  unpriced: number;
  alerts: Alert[];
}

/** A session's requests in order, cost so far, and the alerts whose subject it is. */
export async function sessionTimeline(c: AdminConsole, session: string): Promise<SessionTimeline> {
  if (session === '' || session.length > 200)
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'session' });
  const newest = await c.store.query({ session, order: 'desc', limit: SESSION_LIMIT + 1 });
  const truncated = newest.length > SESSION_LIMIT;
  const events = newest.slice(0, SESSION_LIMIT).reverse();
  let total = 0;
  const costSoFar = events.map((e) => (total += e.cost_micro_usd ?? 0));
  const alerts = events.length
    ? (await c.alerts.list({ sinceMs: Date.parse(events[0]!.timestamp) - 3_600_000, limit: 500 })).filter(
        (a) => a.subject.kind === 'session' && a.subject.value === session,
      )
    : [];
  return {
    session,
    events,
    truncated,
    costSoFar,
    unpriced: events.filter((e) => e.cost_micro_usd === null).length,
    alerts,
  };
}

/** The subject kinds whose activity can be listed, and how an event names each. */
const SUBJECT_FIELD: Partial<Record<AlertSubject['kind'], (e: AuditEvent) => string | null>> = {
  user: (e) => e.user_id,
  session: (e) => e.session_id,
  ip: (e) => e.ip_address,
  api_key: (e) => e.api_key_id,
  model: (e) => e.model_used ?? e.model_requested,
};

/** Subject kinds `subjectActivity` reads. */
export const ACTIVITY_KINDS = Object.keys(SUBJECT_FIELD) as AlertSubject['kind'][];

/** Events of one window scanned at most for a subject no index serves (an IP). */
const WINDOW_SCAN = 5000;

export interface SubjectActivity {
  subject: AlertSubject;
  fromMs: number;
  untilMs: number;
  /** Newest first. */
  events: AuditEvent[];
  /** True when the window held more than could be read. */
  truncated: boolean;
  /** The alert it was opened from, if any. */
  alert: Alert | null;
  /** Other subjects named by the alert's evidence events and by alerts overlapping the window. */
  related: { subject: AlertSubject; why: string }[];
}

/** A subject's requests from `atMs - 1 h` to `atMs + 1 h` (or around an alert's first and last firing). */
export async function subjectActivity(
  c: AdminConsole,
  o: { subject: AlertSubject; atMs?: number; alertId?: string },
): Promise<SubjectActivity> {
  const field = SUBJECT_FIELD[o.subject.kind];
  if (!field || o.subject.value === '' || o.subject.value.length > 200)
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'kind' });
  const alert = o.alertId ? await c.alerts.get(o.alertId) : null;
  if (o.alertId && !alert) throw new TollgateError('TG_ERR_ADMIN_NOT_FOUND', { id: o.alertId });
  const hour = 3_600_000;
  const fromMs = alert ? Date.parse(alert.first_seen) - hour : (o.atMs ?? c.clock.now()) - hour;
  const untilMs = alert ? Date.parse(alert.last_seen) + hour : (o.atMs ?? c.clock.now()) + hour;
  const filter: EventFilter = { sinceMs: fromMs, untilMs, order: 'desc' };
  const v = o.subject.value;
  // Indexed filters where the store has them; an IP is matched in the window's events.
  if (o.subject.kind === 'user') filter.user = v;
  else if (o.subject.kind === 'session') filter.session = v;
  else if (o.subject.kind === 'api_key') filter.key = v;
  else if (o.subject.kind === 'model') filter.model = v;
  filter.limit = o.subject.kind === 'ip' ? WINDOW_SCAN : 500;
  const read = await c.store.query(filter);
  const events = read.filter((e) => field(e) === v);
  const related = new Map<string, { subject: AlertSubject; why: string }>();
  const note = (subject: AlertSubject, why: string): void => {
    if (subject.kind === o.subject.kind && subject.value === v) return;
    const k = `${subject.kind}\u0000${subject.value}`;
    if (!related.has(k)) related.set(k, { subject, why });
  };
  if (alert) {
    const evidence = await Promise.all(alert.evidence.event_ids.slice(0, 50).map((id) => c.store.get(id)));
    for (const e of evidence) {
      if (!e) continue;
      for (const kind of ACTIVITY_KINDS) {
        if (kind === 'model') continue;
        const value = SUBJECT_FIELD[kind]!(e);
        if (value) note({ kind, value }, 'in the alert’s evidence');
      }
    }
  }
  const overlapping = await c.alerts.list({ sinceMs: fromMs, untilMs, limit: 200 });
  for (const a of overlapping)
    if (a.id !== alert?.id && SUBJECT_FIELD[a.subject.kind])
      note(a.subject, `alert ${a.rule_id} in this window`);
  return {
    subject: o.subject,
    fromMs,
    untilMs,
    events,
    truncated: read.length === filter.limit,
    alert,
    related: [...related.values()].slice(0, 50),
  };
}

/** Results of `/ui/search` and `GET /admin/search`, with the query as read. */
export interface SearchResult {
  text: string;
  since: string;
  until: string;
  limit: number;
  /** Null when there was nothing to search for. */
  events: AuditEvent[] | null;
}

/**
 * A search from query parameters: `q` (words, `"phrases"`), `since` (default 24h), `until`,
 * `limit` (≤ 500, default 100). A bad value is TG_ERR_ADMIN_BAD_REQUEST naming the parameter.
 */
export async function searchFromParams(c: AdminConsole, params: URLSearchParams): Promise<SearchResult> {
  const text = params.get('q')?.trim() ?? '';
  if (text.length > 500) throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'q' });
  const since = params.get('since')?.trim() || '24h';
  const until = params.get('until')?.trim() ?? '';
  const limitText = params.get('limit')?.trim() ?? '';
  const limit = limitText === '' ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'limit' });
  const now = c.clock.now();
  const sinceMs = parseSince(since, now, 'since');
  const untilMs = until ? parseSince(until, now, 'until') : undefined;
  const events = text
    ? await c.search.search({ text, sinceMs, ...(untilMs !== undefined ? { untilMs } : {}), limit })
    : null;
  return { text, since, until, limit, events };
}

/** A subject's activity from query parameters: `alert` (its subject and times), or `kind`, `value` and `at`. */
export async function activityFromParams(c: AdminConsole, params: URLSearchParams): Promise<SubjectActivity> {
  const alertId = params.get('alert')?.trim() ?? '';
  const at = params.get('at')?.trim() ?? '';
  let subject = { kind: params.get('kind') ?? '', value: params.get('value') ?? '' } as AlertSubject;
  if (alertId && !params.get('kind')) {
    const alert = await c.alerts.get(alertId);
    if (!alert) throw new TollgateError('TG_ERR_ADMIN_NOT_FOUND', { what: 'alert' });
    subject = alert.subject;
  }
  return subjectActivity(c, {
    subject,
    ...(alertId ? { alertId } : {}),
    ...(at ? { atMs: parseSince(at, c.clock.now(), 'at') } : {}),
  });
}
