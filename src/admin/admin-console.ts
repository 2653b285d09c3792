/**
 * Everything the admin API and the dashboard read and act on, wired once by `startTollgate`.
 * Both entry points share one session map, so a dashboard login also opens `/admin/*`.
 */
import type { IncomingMessage } from 'node:http';
import type { AlertStore } from '../alerting/alert-store.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { adminActionEvent } from '../core/admin-action-event.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { NoteVerifier } from '../integrity/signed-note.js';
import type { EventStore } from '../store/event-store.js';
import type { RollupReader } from '../store/rollups.js';
import type { ContentSearch } from '../store/content-search.js';
import type { KeyStore } from '../access/key-store.js';
import { verifyAdminToken } from '../access/admin-token.js';
import { AdminSessions, SESSION_COOKIE, type AdminSession } from './admin-sessions.js';
import { bearerToken, cookieValue, requestIp } from './admin-request.js';
import { IntegrityMonitor } from './integrity-monitor.js';
import { LoginLinks } from './login-links.js';
import { UnauthenticatedRequests } from './unauthenticated-requests.js';

export interface AdminDeps {
  /** The admin token (configured or generated; see access/admin-token.ts). */
  token: string;
  store: EventStore;
  /** The gateway-issued keys (in the same store as the events). */
  keys: KeyStore;
  rollups: RollupReader;
  /** Search in stored (redacted) content and fields. */
  search: ContentSearch;
  alerts: AlertStore;
  checkpoints: CheckpointStore;
  /** Keys whose checkpoint signatures verify (this instance's and the keyring). */
  verifiers: () => NoteVerifier[];
  /** Appends an event to the running gateway's chain (`tg.pipeline.recordEvent`). */
  record: (event: AuditEvent) => void;
  clock: Clock;
  trustProxy: boolean;
  /** The anchor file verify compares the store with, and the maximum checkpoint age (docs/integrity.md "Anchors"). */
  anchors?: { file: string | null; maxAgeMs: number | null };
}

export interface AdminConsole extends AdminDeps {
  sessions: AdminSessions;
  /** One-time sign-in links (`tollgate serve` prints one at start). */
  loginLinks: LoginLinks;
  integrity: IntegrityMonitor;
  /** Refused requests, counted per action, address and minute (one event each, not one per request). */
  unauthenticated: UnauthenticatedRequests;
  /** Records the refused requests still being counted, and stops their timer. */
  close(): void;
}

/** Who is making an admin request. */
export type AdminPrincipal = { via: 'token' } | { via: 'session'; session: AdminSession };

/** Builds the shared state of the admin API and dashboard. */
export function createAdminConsole(deps: AdminDeps, options: { sessionIdleMs?: number } = {}): AdminConsole {
  const unauthenticated = new UnauthenticatedRequests(deps.record, deps.clock);
  return {
    ...deps,
    unauthenticated,
    close: () => unauthenticated.close(),
    sessions: new AdminSessions({
      clock: deps.clock,
      ...(options.sessionIdleMs !== undefined ? { idleMs: options.sessionIdleMs } : {}),
    }),
    loginLinks: new LoginLinks(deps.clock),
    integrity: new IntegrityMonitor({
      store: deps.store,
      checkpoints: deps.checkpoints,
      verifiers: deps.verifiers,
      clock: deps.clock,
      anchors: deps.anchors ?? { file: null, maxAgeMs: null },
    }),
  };
}

/**
 * The principal of a request: a valid bearer token (checked in constant time) or a live session
 * cookie. A presented but wrong bearer token is refused even when a session cookie is valid.
 */
export function authenticate(c: AdminConsole, req: IncomingMessage): AdminPrincipal | null {
  const presented = bearerToken(req);
  if (presented !== null) return verifyAdminToken(c.token, presented) ? { via: 'token' } : null;
  const session = c.sessions.touch(cookieValue(req, SESSION_COOKIE));
  return session ? { via: 'session', session } : null;
}

/** What the audit trail calls the actor of a principal (never a token or session id). */
export function actorOf(p: AdminPrincipal | null): string {
  if (p === null) return 'anonymous';
  return p.via === 'token' ? 'admin-api' : 'dashboard';
}

/** Records an admin action in the gateway's chain (issue 7: same tamper-evident trail). */
export function recordAdminAction(
  c: AdminConsole,
  req: IncomingMessage,
  a: {
    action: string;
    principal: AdminPrincipal | null;
    subject?: string | null;
    ok: boolean;
    errorCode?: string | null;
  },
): AuditEvent {
  const event = adminActionEvent(
    {
      action: a.action,
      actor: actorOf(a.principal),
      subject: a.subject ?? null,
      ok: a.ok,
      errorCode: a.errorCode ?? null,
      ip: requestIp(req, c.trustProxy),
    },
    c.clock,
  );
  const ua = req.headers['user-agent'];
  // The user agent helps explain a burst of failed logins; the pipeline's field cleaning bounds it
  // (after redaction) and neutralises its control characters, as for every client value.
  event.user_agent = typeof ua === 'string' ? ua : null;
  c.record(event);
  return event;
}

/**
 * Counts a request refused for want of authentication (no or a wrong token, a failed login):
 * one event per action, address and minute (unauthenticated-requests.ts), never one per request.
 */
export function recordUnauthenticated(c: AdminConsole, req: IncomingMessage, action: string): void {
  const ua = req.headers['user-agent'];
  c.unauthenticated.count(action, requestIp(req, c.trustProxy), typeof ua === 'string' ? ua : null);
}
