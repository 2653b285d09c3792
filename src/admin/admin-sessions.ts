/**
 * Server-side sessions of the dashboard. The cookie carries only a random session id; the admin
 * token never leaves the login request. Each session has its own CSRF token, required on every
 * state-changing request (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern").
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { verifyAdminToken } from '../access/admin-token.js';

export interface AdminSession {
  id: string;
  csrf: string;
  createdMs: number;
  /** Idle expiry: pushed forward on each use, never past `absoluteExpiryMs`. */
  expiresMs: number;
  absoluteExpiryMs: number;
}

export interface AdminSessionOptions {
  clock: Clock;
  /** Idle lifetime (default 30 min). */
  idleMs?: number;
  /** Absolute lifetime from login (default 12 h). */
  absoluteMs?: number;
  /** Live sessions kept at most; the oldest goes first (default 1000). */
  maxSessions?: number;
}

/** The name of the session cookie. */
export const SESSION_COOKIE = 'tg_session';

/** In-memory session map with idle and absolute expiry; a restart logs everyone out. */
export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();
  private readonly clock: Clock;
  readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly maxSessions: number;

  constructor(o: AdminSessionOptions) {
    this.clock = o.clock;
    this.idleMs = o.idleMs ?? 30 * 60_000;
    this.absoluteMs = o.absoluteMs ?? 12 * 3_600_000;
    this.maxSessions = o.maxSessions ?? 1000;
  }

  /** Starts a session (after a successful login). */
  create(): AdminSession {
    const now = this.clock.now();
    this.sweep(now);
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const absoluteExpiryMs = now + this.absoluteMs;
    const s: AdminSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      createdMs: now,
      expiresMs: Math.min(now + this.idleMs, absoluteExpiryMs),
      absoluteExpiryMs,
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id (and its idle expiry extended), or null. */
  touch(id: string | null | undefined): AdminSession | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    const now = this.clock.now();
    if (now >= s.expiresMs) {
      this.sessions.delete(id);
      return null;
    }
    s.expiresMs = Math.min(now + this.idleMs, s.absoluteExpiryMs);
    return s;
  }

  /** Ends a session (logout). */
  destroy(id: string): void {
    this.sessions.delete(id);
  }

  /** True when `presented` is this session's CSRF token (constant time). */
  checkCsrf(session: AdminSession, presented: string | null | undefined): boolean {
    return verifyAdminToken(session.csrf, presented);
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.sessions) if (now >= s.expiresMs) this.sessions.delete(id);
  }
}
