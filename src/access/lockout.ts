/**
 * Lockout after repeated authentication failures: a subject (an IP as `ip:<addr>`, or a key
 * fingerprint as `key:<api_key_id>`) with `maxFailures` failures within `windowMs` is refused
 * for `coolOffMs`. A success does not clear the count: an attacker holding one valid key must
 * not be able to reset the counter between guesses.
 */
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';

export interface LockoutOptions {
  clock: Clock;
  /** Failures within the window that trigger a lockout (default 10). */
  maxFailures?: number;
  /** Sliding window for counting failures (default 5 minutes). */
  windowMs?: number;
  /** How long a locked subject is refused (default 15 minutes). */
  coolOffMs?: number;
  /** Subjects tracked at most; the least recently failing are forgotten first (default 100 000). */
  maxSubjects?: number;
}

export interface LockState {
  locked: boolean;
  /** Epoch ms when the lockout ends; null when not locked. */
  until: number | null;
  /**
   * True when the shared state (Redis) did not answer and `redis_failure_policy: fail-closed`
   * refuses the request: the caller answers TG_ERR_STATE_UNAVAILABLE, not a lockout.
   */
  unavailable?: boolean;
}

export interface FailureResult extends LockState {
  /** Failures counted in the current window (including this one). */
  failures: number;
  /** True only for the failure that started the lockout: record and alert on this one. */
  justLocked: boolean;
}

/**
 * What the managed policy needs from a lockout: the in-process {@link Lockout} (one replica) or
 * the Redis-backed one (src/state/redis-lockout.ts, replicas share counts and locks). Callers
 * await both; the in-process one answers synchronously.
 */
export interface LockoutGuard {
  check(subject: string): LockState | Promise<LockState>;
  recordFailure(subject: string): FailureResult | Promise<FailureResult>;
}

interface Entry {
  /** Failure times within the window, oldest first; at most maxFailures kept. */
  failures: number[];
  lockedUntil: number | null;
}

export class Lockout implements LockoutGuard {
  private readonly clock: Clock;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly coolOffMs: number;
  private readonly maxSubjects: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: LockoutOptions) {
    this.clock = options.clock;
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.coolOffMs = options.coolOffMs ?? 15 * 60_000;
    this.maxSubjects = options.maxSubjects ?? 100_000;
    if (this.maxFailures < 1 || this.windowMs <= 0 || this.coolOffMs <= 0) {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'lockout' });
    }
  }

  /** Whether `subject` is locked now. Check before authenticating; a locked subject is refused unread. */
  check(subject: string): LockState {
    const e = this.entries.get(subject);
    const now = this.clock.now();
    if (e?.lockedUntil != null && e.lockedUntil > now) return { locked: true, until: e.lockedUntil };
    return { locked: false, until: null };
  }

  /** Counts a failure; locks the subject when the window holds `maxFailures` failures. */
  recordFailure(subject: string): FailureResult {
    const now = this.clock.now();
    let e = this.entries.get(subject);
    if (e !== undefined) this.entries.delete(subject); // re-inserted below: Map order = least recently failing first
    e ??= { failures: [], lockedUntil: null };
    if (e.lockedUntil !== null && e.lockedUntil > now) {
      this.entries.set(subject, e);
      return { locked: true, until: e.lockedUntil, failures: e.failures.length, justLocked: false };
    }
    if (e.lockedUntil !== null) e = { failures: [], lockedUntil: null }; // cool-off over: start afresh
    const cutoff = now - this.windowMs;
    e.failures = e.failures.filter((t) => t > cutoff);
    e.failures.push(now);
    if (e.failures.length > this.maxFailures) e.failures.shift();
    let justLocked = false;
    if (e.failures.length >= this.maxFailures) {
      e.lockedUntil = now + this.coolOffMs;
      justLocked = true;
    }
    if (this.entries.size >= this.maxSubjects) this.evict(now);
    this.entries.set(subject, e);
    return { locked: justLocked, until: e.lockedUntil, failures: e.failures.length, justLocked };
  }

  /** Subjects currently tracked (for metrics and tests of the memory bound). */
  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    const cutoff = now - this.windowMs;
    for (const [k, e] of this.entries) {
      const active = (e.lockedUntil !== null && e.lockedUntil > now) || e.failures.some((t) => t > cutoff);
      if (!active) this.entries.delete(k);
    }
    // Still full: forget the least recently failing subjects that are not locked; a flood of
    // fresh addresses must not be a way to unlock someone.
    for (const [k, e] of this.entries) {
      if (this.entries.size < this.maxSubjects) return;
      if (e.lockedUntil === null || e.lockedUntil <= now) this.entries.delete(k);
    }
    while (this.entries.size >= this.maxSubjects) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
