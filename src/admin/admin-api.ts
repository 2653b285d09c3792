/**
 * The admin API under `/admin/*` (JSON), behind the admin token (`Authorization: Bearer …`) or a
 * dashboard session (cookie, plus `X-CSRF-Token` on every state-changing request). Every admin
 * action and every refused credential is recorded in the gateway's chain.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseSeverity } from '../alerting/alert.js';
import type { AlertFilter } from '../alerting/alert-store.js';
import { isTollgateError, TollgateError } from '../core/errors.js';
import {
  createKey,
  keyStatus,
  updateKey,
  type CreateKeyInput,
  type KeyChanges,
} from '../access/virtual-keys.js';
import { COST_REPORT_BY, SESSION_ROWS_DEFAULT, type CostReportBy } from '../reports/cost-report.js';
import { decodeSessionCursor, type SessionCursor } from '../store/rollups.js';
import type { MountedRoute } from '../http/mounted-route.js';
import { activityFromParams, searchFromParams, sessionTimeline } from './investigation.js';
import {
  actorOf,
  authenticate,
  recordAdminAction,
  recordUnauthenticated,
  type AdminConsole,
  type AdminPrincipal,
} from './admin-console.js';
import { readJsonObject, sameOrigin } from './admin-request.js';
import { sendAdminError, sendJson } from './admin-response.js';
import { costOverview } from './cost-overview.js';
import { eventDetail } from './event-detail.js';
import { listEvents, parseEventQuery } from './event-listing.js';
import { parseCreateKeyInput, parseKeyChanges } from './key-input.js';
import { keyView } from './key-view.js';
import { securitySummary } from './security-summary.js';
import { parseSince } from './time-window.js';

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  principal: AdminPrincipal;
  segments: string[];
  params: URLSearchParams;
}

/** Window of a report: `since` (default 24 h) to now, plus a minute for the current bucket. */
export function reportWindow(
  c: AdminConsole,
  params: URLSearchParams,
  defaultSince = '24h',
): { sinceMs: number; untilMs: number; nowMs: number } {
  const nowMs = c.clock.now();
  const sinceMs = parseSince(params.get('since')?.trim() || defaultSince, nowMs, 'since');
  return { sinceMs, untilMs: nowMs + 60_000, nowMs };
}

/** `by` of the cost report, default `feature`. */
export function reportBy(params: URLSearchParams): CostReportBy {
  const by = params.get('by')?.trim() || 'feature';
  if (!(COST_REPORT_BY as readonly string[]).includes(by))
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'by' });
  return by as CostReportBy;
}

/** The most session rows one cost request returns (`limit`); more are further pages. */
export const SESSION_PAGE_MAX = 1000;

/**
 * The page of a cost report by session: `limit` (1..SESSION_PAGE_MAX, default
 * SESSION_ROWS_DEFAULT) and `after` (the previous page's `sessions.next_cursor`).
 */
export function sessionPageParams(params: URLSearchParams): { limit: number; after: SessionCursor | null } {
  const limitText = params.get('limit')?.trim();
  const limit = limitText ? Number(limitText) : SESSION_ROWS_DEFAULT;
  if (
    !/^\d{1,7}$/.test(limitText ?? '1') ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > SESSION_PAGE_MAX
  )
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'limit' });
  const afterText = params.get('after')?.trim();
  if (!afterText) return { limit, after: null };
  const after = decodeSessionCursor(afterText);
  if (!after) throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'after' });
  return { limit, after };
}

/** Mounts the admin API at `/admin`. */
export function createAdminApi(
  c: AdminConsole,
  log?: (msg: string, fields?: Record<string, unknown>) => void,
): MountedRoute {
  return {
    prefix: '/admin',
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      const principal = authenticate(c, req);
      if (!principal) {
        recordUnauthenticated(c, req, 'admin:auth');
        return sendAdminError(res, 'TG_ERR_ADMIN_UNAUTHORIZED');
      }
      const segments = pathSegments(url.pathname);
      if (segments === null) {
        // Broken percent-encoding (`%zz`, a lone `%`): a clear 400 and an event, not a 502.
        recordAdminAction(c, req, {
          action: 'admin:bad_path',
          principal,
          ok: false,
          errorCode: 'TG_ERR_REQUEST_BAD_PATH',
        });
        return sendAdminError(res, 'TG_ERR_REQUEST_BAD_PATH');
      }
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        // A browser session may only change state from this origin and with its CSRF token.
        const csrf = req.headers['x-csrf-token'];
        if (
          !sameOrigin(req) ||
          (principal.via === 'session' &&
            !c.sessions.checkCsrf(principal.session, typeof csrf === 'string' ? csrf : null))
        ) {
          recordAdminAction(c, req, {
            action: `admin:${segments.join('.') || 'root'}`,
            principal,
            ok: false,
            errorCode: 'TG_ERR_ADMIN_CSRF',
          });
          return sendAdminError(res, 'TG_ERR_ADMIN_CSRF');
        }
      }
      try {
        await route({ req, res, principal, segments, params: url.searchParams }, method);
      } catch (err) {
        if (isTollgateError(err)) return sendAdminError(res, err.code);
        log?.('admin request failed', { err: err instanceof Error ? err.name : 'unknown' });
        if (!res.headersSent) sendAdminError(res, 'TG_ERR_ADMIN_INTERNAL');
      }
    },
  };

  async function route(call: Call, method: string): Promise<void> {
    const [head, id, verb] = call.segments;
    const get = method === 'GET' || method === 'HEAD';
    if (head === 'whoami' && get) return whoami(call);
    if (head === 'events' && get && id === undefined) return events(call);
    if (head === 'events' && get && id !== undefined && verb === undefined) return event(call, id);
    if (head === 'alerts' && get && id === undefined) return alerts(call);
    if (head === 'alerts' && get && id !== undefined && verb === undefined) return alert(call, id);
    if (head === 'alerts' && method === 'POST' && id !== undefined && verb === 'ack') return ack(call, id);
    if (head === 'reports' && get && id === 'cost') return cost(call);
    if (head === 'reports' && get && id === 'security') return security(call);
    if (head === 'keys' && get && id === undefined) return keys(call);
    if (head === 'keys' && method === 'POST' && id === undefined) return createKeyRoute(call);
    if (head === 'keys' && method === 'PATCH' && id !== undefined && verb === undefined)
      return updateKeyRoute(call, id);
    if (
      head === 'keys' &&
      (method === 'POST' || method === 'DELETE') &&
      id !== undefined &&
      (verb === 'revoke' || (method === 'DELETE' && verb === undefined))
    )
      return revoke(call, id);
    if (head === 'integrity' && get) return sendJson(call.res, 200, await c.integrity.status());
    if (head === 'search' && get && id === undefined) {
      const r = await searchFromParams(c, call.params);
      return sendJson(call.res, 200, {
        q: r.text,
        since: r.since,
        until: r.until || null,
        events: r.events ?? [],
      });
    }
    if (head === 'sessions' && get && id !== undefined && verb === undefined)
      return sendJson(call.res, 200, await sessionTimeline(c, id));
    if (head === 'activity' && get && id === undefined)
      return sendJson(call.res, 200, await activityFromParams(c, call.params));
    if (head === 'verify' && method === 'POST') return verify(call);
    throw new TollgateError('TG_ERR_ROUTE_NOT_FOUND');
  }

  function whoami(call: Call): void {
    const p = call.principal;
    sendJson(call.res, 200, {
      auth: p.via,
      actor: actorOf(p),
      ...(p.via === 'session'
        ? { session_expires: new Date(p.session.expiresMs).toISOString(), csrf_token: p.session.csrf }
        : {}),
    });
  }

  async function events(call: Call): Promise<void> {
    const page = await listEvents(c.store, parseEventQuery(call.params), c.clock.now());
    sendJson(call.res, 200, page);
  }

  async function event(call: Call, id: string): Promise<void> {
    const proof = call.params.get('proof');
    const detail = await eventDetail(c, id, { proof: proof === '1' || proof === 'true' });
    if (!detail) throw new TollgateError('TG_ERR_ADMIN_NOT_FOUND', { what: 'event' });
    sendJson(call.res, 200, detail);
  }

  async function alerts(call: Call): Promise<void> {
    const f: AlertFilter = { limit: 100 };
    const p = call.params;
    if (p.get('since')) f.sinceMs = parseSince(p.get('since')!.trim(), c.clock.now(), 'since');
    const status = p.get('status');
    if (status) {
      if (status !== 'open' && status !== 'acknowledged')
        throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'status' });
      f.status = status;
    }
    const severity = p.get('severity');
    if (severity) {
      const s = parseSeverity(severity);
      if (!s) throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'severity' });
      f.minSeverity = s;
    }
    if (p.get('rule')) f.ruleId = p.get('rule')!;
    const limit = p.get('limit');
    if (limit) {
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'limit' });
      f.limit = n;
    }
    sendJson(call.res, 200, { alerts: await c.alerts.list(f) });
  }

  async function alert(call: Call, id: string): Promise<void> {
    const a = await c.alerts.get(id);
    if (!a) throw new TollgateError('TG_ERR_ADMIN_NOT_FOUND', { what: 'alert' });
    sendJson(call.res, 200, a);
  }

  async function ack(call: Call, id: string): Promise<void> {
    const done = await acknowledgeAlert(c, call.req, call.principal, id);
    if (!done) throw new TollgateError('TG_ERR_ADMIN_NOT_FOUND', { what: 'alert' });
    sendJson(call.res, 200, done);
  }

  async function cost(call: Call): Promise<void> {
    const w = reportWindow(c, call.params);
    sendJson(
      call.res,
      200,
      await costOverview(c, { by: reportBy(call.params), ...w, ...sessionPageParams(call.params) }),
    );
  }

  async function security(call: Call): Promise<void> {
    const w = reportWindow(c, call.params);
    sendJson(call.res, 200, await securitySummary(c, w.sinceMs, w.untilMs));
  }

  async function keys(call: Call): Promise<void> {
    const now = c.clock.now();
    sendJson(call.res, 200, {
      keys: (await c.keys.list()).map((k) => ({ ...keyView(k), status: keyStatus(k, now) })),
    });
  }

  async function createKeyRoute(call: Call): Promise<void> {
    const created = await createAdminKey(c, call.req, call.principal, await readJsonObject(call.req));
    // The key is in this response only: Tollgate keeps its hash.
    sendJson(call.res, 201, { key: created.key, ...keyView(created.record), status: 'active' });
  }

  async function updateKeyRoute(call: Call, id: string): Promise<void> {
    const record = await updateAdminKey(c, call.req, call.principal, id, await readJsonObject(call.req));
    sendJson(call.res, 200, { ...keyView(record), status: keyStatus(record, c.clock.now()) });
  }

  async function revoke(call: Call, id: string): Promise<void> {
    if (!(await revokeAdminKey(c, call.req, call.principal, id)))
      throw new TollgateError('TG_ERR_ADMIN_NOT_FOUND', { what: 'key' });
    sendJson(call.res, 200, { revoked: id });
  }

  async function verify(call: Call): Promise<void> {
    const waitMs = verifyWaitMs(call.params);
    const run = runVerify(c, call.req, call.principal);
    const result = await settledWithin(run, waitMs);
    if (result !== null) return sendJson(call.res, 200, result);
    // Still running: answer before a client or proxy gives up on the connection; the run goes
    // on, and its result (and its audit event) is what GET /admin/integrity shows next.
    call.res.setHeader('location', '/admin/integrity');
    sendJson(call.res, 202, { verify_running: true, status: '/admin/integrity', waited_ms: waitMs });
  }
}

/** How long `POST /admin/verify` holds the request for the result by default (`wait`, seconds). */
export const VERIFY_WAIT_DEFAULT_S = 60;
const VERIFY_WAIT_MAX_S = 3600;

/** The `wait` parameter of `POST /admin/verify` in ms: 0..3600 seconds, default 60. */
export function verifyWaitMs(params: URLSearchParams): number {
  const text = params.get('wait')?.trim();
  if (text === undefined || text === '') return VERIFY_WAIT_DEFAULT_S * 1000;
  const s = Number(text);
  if (!/^\d{1,4}$/.test(text) || s > VERIFY_WAIT_MAX_S)
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: 'wait' });
  return s * 1000;
}

/**
 * The value of `work` if it settles within `ms` (its error if it fails), else null; `work` goes
 * on either way, and a failure after the wait is not an unhandled rejection (the caller has
 * answered by then; `work` records its own outcome). With 0 it does not wait at all.
 */
export async function settledWithin<T>(work: Promise<T>, ms: number): Promise<T | null> {
  work.catch(() => {});
  if (ms <= 0) return null;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Acknowledges an alert as an audited action (API and dashboard). */
export async function acknowledgeAlert(
  c: AdminConsole,
  req: IncomingMessage,
  principal: AdminPrincipal,
  id: string,
) {
  const done = await c.alerts.acknowledge(id, actorOf(principal), c.clock.now());
  recordAdminAction(c, req, {
    action: 'admin:alerts.ack',
    principal,
    subject: id,
    ok: done !== null,
    errorCode: done ? null : 'TG_ERR_ADMIN_NOT_FOUND',
  });
  return done;
}

/** Creates a gateway key as an audited action; the plaintext key is returned once. */
export async function createAdminKey(
  c: AdminConsole,
  req: IncomingMessage,
  principal: AdminPrincipal,
  body: Record<string, unknown>,
) {
  let input: CreateKeyInput;
  try {
    input = parseCreateKeyInput(body);
  } catch (err) {
    recordAdminAction(c, req, {
      action: 'admin:keys.create',
      principal,
      ok: false,
      errorCode: isTollgateError(err) ? err.code : null,
    });
    throw err;
  }
  const created = await createKey(c.keys, c.clock, input);
  recordAdminAction(c, req, { action: 'admin:keys.create', principal, subject: created.record.id, ok: true });
  return created;
}

/**
 * Changes a key in place as an audited action (the key itself stays valid). Throws
 * TG_ERR_ADMIN_BAD_REQUEST for a bad body (detail names the field), TG_ERR_ADMIN_NOT_FOUND for
 * an unknown id, TG_ERR_ADMIN_CONFLICT for a revoked key.
 */
export async function updateAdminKey(
  c: AdminConsole,
  req: IncomingMessage,
  principal: AdminPrincipal,
  id: string,
  body: Record<string, unknown>,
) {
  const audit = (ok: boolean, errorCode: string | null) =>
    recordAdminAction(c, req, { action: 'admin:keys.update', principal, subject: id, ok, errorCode });
  let changes: KeyChanges;
  let out: Awaited<ReturnType<typeof updateKey>>;
  try {
    changes = parseKeyChanges(body);
    out = await updateKey(c.keys, c.clock, id, changes);
  } catch (err) {
    const usage = isTollgateError(err) && err.code === 'TG_ERR_USAGE';
    audit(false, usage ? 'TG_ERR_ADMIN_BAD_REQUEST' : isTollgateError(err) ? err.code : null);
    // The key check names the field in the record's terms (budgetMicroUsd); the API answers 400.
    if (usage)
      throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter: String(err.detail?.field ?? 'body') });
    throw err;
  }
  if ('refused' in out) {
    const code = out.refused === 'revoked' ? 'TG_ERR_ADMIN_CONFLICT' : 'TG_ERR_ADMIN_NOT_FOUND';
    audit(false, code);
    throw new TollgateError(code, { what: 'key' });
  }
  audit(true, null);
  return out.record;
}

/** Revokes a key as an audited action; false when no key has this id. */
export async function revokeAdminKey(
  c: AdminConsole,
  req: IncomingMessage,
  principal: AdminPrincipal,
  id: string,
): Promise<boolean> {
  const done = await c.keys.revoke(id, c.clock.now());
  recordAdminAction(c, req, {
    action: 'admin:keys.revoke',
    principal,
    subject: id,
    ok: done,
    errorCode: done ? null : 'TG_ERR_ADMIN_NOT_FOUND',
  });
  return done;
}

/** Runs verification as an audited action; the event records whether the trail verified. */
export async function runVerify(c: AdminConsole, req: IncomingMessage, principal: AdminPrincipal) {
  let result;
  try {
    result = await c.integrity.verify(actorOf(principal));
  } catch (err) {
    // A run that could not finish (the store went away) is on record too.
    recordAdminAction(c, req, {
      action: 'admin:verify',
      principal,
      ok: false,
      errorCode: isTollgateError(err) ? err.code : 'TG_ERR_ADMIN_INTERNAL',
    });
    throw err;
  }
  recordAdminAction(c, req, {
    action: 'admin:verify',
    principal,
    subject: result.report.first_damage?.chain_id ?? null,
    ok: result.report.ok,
    errorCode: result.report.ok ? null : 'TG_ERR_INTEGRITY_BROKEN',
  });
  return result;
}

/** The decoded segments after `/admin`, or null when one is not valid percent-encoding. */
function pathSegments(pathname: string): string[] | null {
  try {
    return pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
}
