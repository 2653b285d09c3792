/**
 * The dashboard at `/ui/`: server-rendered HTML over the admin console's data, one small script
 * (live refresh), no third-party code. Login exchanges the admin token for a server-side session
 * (HttpOnly, SameSite=Strict cookie holding a random id); every POST needs the session's CSRF
 * token and a same-origin `Origin`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyAdminToken } from '../access/admin-token.js';
import {
  acknowledgeAlert,
  reportBy,
  reportWindow,
  runVerify,
  sessionPageParams,
  settledWithin,
} from '../admin/admin-api.js';
import {
  authenticate,
  recordAdminAction,
  recordUnauthenticated,
  type AdminConsole,
  type AdminPrincipal,
} from '../admin/admin-console.js';
import { cookieValue, readForm, sameOrigin } from '../admin/admin-request.js';
import { SESSION_COOKIE, type AdminSession } from '../admin/admin-sessions.js';
import { costOverview } from '../admin/cost-overview.js';
import { eventDetail } from '../admin/event-detail.js';
import { listEvents, parseEventQuery } from '../admin/event-listing.js';
import { setSecurityHeaders } from '../admin/security-headers.js';
import { securitySummary } from '../admin/security-summary.js';
import { isTollgateError, type ErrorCode } from '../core/errors.js';
import type { MountedRoute } from '../http/mounted-route.js';
import { costView } from './cost-view.js';
import { activityView } from './activity-view.js';
import { searchView } from './search-view.js';
import { sessionView } from './session-view.js';
import { activityFromParams, searchFromParams, sessionTimeline } from '../admin/investigation.js';
import { DASHBOARD_CSS, DASHBOARD_ICON, DASHBOARD_JS } from './dashboard-assets.js';
import { eventView } from './event-view.js';
import { eventRows, eventsView } from './events-view.js';
import { html, type SafeHtml } from './html-template.js';
import { integrityView } from './integrity-view.js';
import { loginView } from './login-view.js';
import { pageLayout, type DashboardView } from './page-layout.js';
import { securityView } from './security-view.js';

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | SafeHtml,
  extra: Record<string, string> = {},
): void {
  setSecurityHeaders(res);
  res.writeHead(status, { 'content-type': type, ...extra });
  res.end(typeof body === 'string' ? body : body.value);
}

function sendPage(res: ServerResponse, status: number, page: SafeHtml): void {
  send(res, status, 'text/html; charset=utf-8', page);
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  setSecurityHeaders(res);
  res.writeHead(303, { location, ...(cookie ? { 'set-cookie': cookie } : {}) });
  res.end();
}

/** RFC 6265 §4.1: HttpOnly (no script access), SameSite=Strict (not sent on cross-site requests). */
function sessionCookie(s: AdminSession, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}`;
}

/** How long the verify button waits for the result before it shows the page with the run going on. */
const VERIFY_UI_WAIT_MS = 10_000;
const CLEARED_COOKIE = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  TG_ERR_ADMIN_BAD_REQUEST:
    'A filter value is not valid (since: 24h, 7d or an ISO-8601 time; status: one of the listed statuses).',
  TG_ERR_ADMIN_NOT_FOUND: 'Nothing with this id.',
  TG_ERR_ADMIN_CSRF: 'The form was stale or came from another site; reload the page and try again.',
};

/** Mounts the dashboard at `/ui`. */
export function createDashboard(
  c: AdminConsole,
  log?: (msg: string, fields?: Record<string, unknown>) => void,
): MountedRoute {
  return {
    prefix: '/ui',
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://ui.invalid');
      const path = url.pathname.replace(/\/+$/, '') || '/ui';
      const method = req.method ?? 'GET';
      try {
        if (path === '/ui/assets/app.css') return send(res, 200, 'text/css; charset=utf-8', DASHBOARD_CSS);
        if (path === '/ui/assets/icon.svg') return send(res, 200, 'image/svg+xml', DASHBOARD_ICON);
        if (path === '/ui/assets/app.js')
          return send(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_JS);
        if (path === '/ui/login' && method === 'GET' && url.searchParams.has('link'))
          return linkLogin(req, res, url.searchParams.get('link'));
        if (path === '/ui/login')
          return method === 'POST'
            ? await login(req, res)
            : sendPage(
                res,
                200,
                pageLayout({ title: 'Tollgate dashboard', view: null, csrf: null, body: loginView(null) }),
              );
        const principal = authenticate(c, req);
        if (principal === null || principal.via !== 'session') {
          // Browsers get the login page; the bearer token is for /admin/* scripts.
          if (method === 'GET' || method === 'HEAD') return redirect(res, '/ui/login');
          // Counted per address and minute; the path is not recorded (it is the caller's to choose).
          recordUnauthenticated(c, req, 'admin:ui');
          return sendPage(
            res,
            401,
            pageLayout({
              title: 'Signed out',
              view: null,
              csrf: null,
              body: loginView('Your session ended; sign in again.'),
            }),
          );
        }
        const session = principal.session;
        if (method === 'POST') {
          const form = await readForm(req);
          if (!sameOrigin(req) || !c.sessions.checkCsrf(session, form.get('csrf'))) {
            recordAdminAction(c, req, {
              action: `admin:ui${path.slice(3).replace(/\//g, '.')}`,
              principal,
              ok: false,
              errorCode: 'TG_ERR_ADMIN_CSRF',
            });
            return errorPage(res, 'TG_ERR_ADMIN_CSRF', session);
          }
          return await post(req, res, path, principal);
        }
        if (method !== 'GET' && method !== 'HEAD') return errorPage(res, 'TG_ERR_ROUTE_NOT_FOUND', session);
        return await get(res, path, url.searchParams, session);
      } catch (err) {
        if (isTollgateError(err))
          return errorPage(res, err.code, c.sessions.touch(cookieValue(req, SESSION_COOKIE)));
        log?.('dashboard request failed', { err: err instanceof Error ? err.name : 'unknown' });
        if (!res.headersSent) errorPage(res, 'TG_ERR_ADMIN_INTERNAL', null);
      }
    },
  };

  function errorPage(res: ServerResponse, code: ErrorCode, session: AdminSession | null): void {
    const status =
      code === 'TG_ERR_ADMIN_CSRF'
        ? 403
        : code === 'TG_ERR_ADMIN_BAD_REQUEST'
          ? 400
          : code.endsWith('NOT_FOUND')
            ? 404
            : 500;
    sendPage(
      res,
      status,
      pageLayout({
        title: 'Something went wrong',
        view: null,
        csrf: session?.csrf ?? null,
        body: html`<p class="notice error" role="alert">
            ${MESSAGES[code] ?? 'The request failed.'} <span class="mono">${code}</span>
          </p>
          <p><a href="/ui/events">Back to the events</a></p>`,
      }),
    );
  }

  /** Signs in with a one-time link printed by `tollgate serve`; a used or expired link is refused and recorded. */
  function linkLogin(req: IncomingMessage, res: ServerResponse, secret: string | null): void {
    if (!c.loginLinks.consume(secret)) {
      recordUnauthenticated(c, req, 'admin:login');
      return sendPage(
        res,
        401,
        pageLayout({
          title: 'Tollgate dashboard',
          view: null,
          csrf: null,
          body: loginView(
            'This sign-in link was already used or has expired (a link works once). Sign in with the admin token, or restart tollgate serve for a new link.',
          ),
        }),
      );
    }
    startSession(req, res);
  }

  function startSession(req: IncomingMessage, res: ServerResponse): void {
    const session = c.sessions.create();
    recordAdminAction(c, req, { action: 'admin:login', principal: { via: 'session', session }, ok: true });
    redirect(
      res,
      '/ui/events',
      sessionCookie(session, Math.ceil((session.absoluteExpiryMs - session.createdMs) / 1000)),
    );
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const ok = sameOrigin(req) && verifyAdminToken(c.token, form.get('token'));
    if (!ok) {
      recordUnauthenticated(c, req, 'admin:login');
      return sendPage(
        res,
        401,
        pageLayout({
          title: 'Tollgate dashboard',
          view: null,
          csrf: null,
          body: loginView('That token is not valid. The attempt was recorded.'),
        }),
      );
    }
    startSession(req, res);
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    principal: AdminPrincipal & { via: 'session' },
  ): Promise<void> {
    if (path === '/ui/logout') {
      c.sessions.destroy(principal.session.id);
      recordAdminAction(c, req, { action: 'admin:logout', principal, ok: true });
      return redirect(res, '/ui/login', CLEARED_COOKIE);
    }
    const ack = /^\/ui\/alerts\/([^/]+)\/ack$/.exec(path);
    if (ack) {
      await acknowledgeAlert(c, req, principal, decodeURIComponent(ack[1]!));
      return redirect(res, '/ui/security');
    }
    if (path === '/ui/verify') {
      // A small store's result is on the page the button leads back to; a long run goes on, and
      // the page says so until it ends (the browser is not held for minutes).
      await settledWithin(runVerify(c, req, principal), VERIFY_UI_WAIT_MS); // fails in time: the error page
      return redirect(res, '/ui/integrity');
    }
    return errorPage(res, 'TG_ERR_ROUTE_NOT_FOUND', principal.session);
  }

  async function get(
    res: ServerResponse,
    path: string,
    params: URLSearchParams,
    session: AdminSession,
  ): Promise<void> {
    // The script (keyboard shortcuts, live refresh) is on every page; it is one small same-origin file.
    const page = (title: string, view: DashboardView | null, body: SafeHtml, script = true): void =>
      sendPage(res, 200, pageLayout({ title, view, csrf: session.csrf, body, script }));
    if (path === '/ui') return redirect(res, '/ui/events');
    if (path === '/ui/events') {
      const q = parseEventQuery(params);
      const events = await listEvents(c.store, q, c.clock.now());
      if (params.get('fragment') === 'rows') return sendPage(res, 200, eventRows(events.events));
      return page('Live events', 'events', eventsView(q, events), true);
    }
    const one = /^\/ui\/events\/([^/]+)$/.exec(path);
    if (one) {
      const detail = await eventDetail(c, decodeURIComponent(one[1]!));
      if (!detail) return errorPage(res, 'TG_ERR_ADMIN_NOT_FOUND', session);
      return page(`Event ${detail.event.id}`, 'events', eventView(detail));
    }
    if (path === '/ui/search') {
      const r = await searchFromParams(c, params);
      return page('Search', 'search', searchView(r, r.events, r.limit));
    }
    const sessionPath = /^\/ui\/sessions\/([^/]+)$/.exec(path);
    if (sessionPath) {
      const id = decodeURIComponent(sessionPath[1]!);
      return page(`Session ${id}`, 'events', sessionView(await sessionTimeline(c, id)));
    }
    if (path === '/ui/activity') {
      const activity = await activityFromParams(c, params);
      return page('Activity around an alert', 'security', activityView(activity));
    }
    if (path === '/ui/cost') {
      const by = reportBy(params);
      const since = params.get('since')?.trim() || '24h';
      return page(
        'Cost',
        'cost',
        costView(
          await costOverview(c, { by, ...reportWindow(c, params), ...sessionPageParams(params) }),
          by,
          since,
        ),
      );
    }
    if (path === '/ui/security') {
      const since = params.get('since')?.trim() || '24h';
      const w = reportWindow(c, params);
      return page(
        'Security',
        'security',
        securityView(await securitySummary(c, w.sinceMs, w.untilMs), since, session.csrf),
      );
    }
    if (path === '/ui/integrity')
      return page('Integrity', 'integrity', integrityView(await c.integrity.status(), session.csrf));
    return errorPage(res, 'TG_ERR_ROUTE_NOT_FOUND', session);
  }
}
