import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import { Lockout, type FailureResult, type LockState, type LockoutGuard } from '../access/lockout.js';
import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

/**
 * KEYS: failures (sorted set of failure times), lock (locked-until ms).
 * ARGV: now, windowMs, maxFailures, coolOffMs, a unique member for this failure.
 * Returns {locked, until, failures, justLocked}.
 */
const RECORD_FAILURE = new RedisScript(`
local now = tonumber(ARGV[1])
local untilMs = tonumber(redis.call('GET', KEYS[2]))
if untilMs ~= nil and untilMs > now then
  return {1, untilMs, redis.call('ZCARD', KEYS[1]), 0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[5])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  local u = now + tonumber(ARGV[4])
  redis.call('SET', KEYS[2], u, 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return {1, u, n, 1}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {0, 0, n, 0}
`);

export interface RedisLockoutOptions extends SharedStateOptions {
  clock: Clock;
  maxFailures?: number;
  windowMs?: number;
  coolOffMs?: number;
}

/**
 * The lockout of src/access/lockout.ts shared by replicas: the same rules (maxFailures within a
 * sliding window lock a subject for coolOffMs; a success does not clear the count), kept in Redis
 * so an attacker spreading guesses over replicas is counted once. The methods are asynchronous
 * (the in-process Lockout is synchronous); the managed policy awaits them.
 *
 * Unavailable Redis: `fail-open` falls back to an in-process lockout with the same rules, so a
 * brute force during the outage is still stopped per replica (a lock taken there stays in force
 * on this replica after Redis returns); `fail-closed` answers `unavailable` (the managed policy
 * refuses with TG_ERR_STATE_UNAVAILABLE, retry in a second).
 */
export class RedisLockout implements LockoutGuard {
  private readonly prefix: string;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly coolOffMs: number;
  /** fail-open: counts and locks while Redis is down. */
  private readonly local: Lockout | null;
  /** Subjects are IPs and key fingerprints: keys are named by their keyed hash. */
  private readonly names: StateKeyNames;

  constructor(private readonly o: RedisLockoutOptions) {
    this.prefix = `${o.prefix ?? 'tg:'}lk:`;
    this.names = keyNamesFor(o.keySecret);
    this.maxFailures = o.maxFailures ?? 10;
    this.windowMs = o.windowMs ?? 5 * 60_000;
    this.coolOffMs = o.coolOffMs ?? 15 * 60_000;
    if (this.maxFailures < 1 || this.windowMs <= 0 || this.coolOffMs <= 0) {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'lockout' });
    }
    this.local =
      o.policy === 'fail-open'
        ? new Lockout({
            clock: o.clock,
            maxFailures: this.maxFailures,
            windowMs: this.windowMs,
            coolOffMs: this.coolOffMs,
          })
        : null;
  }

  /** Whether `subject` is locked now. */
  async check(subject: string): Promise<LockState> {
    const now = this.o.clock.now();
    try {
      const v = await this.o.client.get(`${this.prefix}l:${this.names.of(subject)}`);
      const until = v === null ? null : Number(v);
      if (until !== null && until > now) return { locked: true, until };
      return this.local && this.local.size > 0 ? this.local.check(subject) : { locked: false, until: null };
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('lockout.check', err));
      return this.local ? this.local.check(subject) : { locked: true, until: now + 1000, unavailable: true };
    }
  }

  /** Counts a failure; locks the subject when the window holds `maxFailures` failures. */
  async recordFailure(subject: string): Promise<FailureResult> {
    const now = this.o.clock.now();
    const name = this.names.of(subject);
    try {
      const [locked, until, failures, justLocked] = (await RECORD_FAILURE.run(
        this.o.client,
        [`${this.prefix}f:${name}`, `${this.prefix}l:${name}`],
        [now, this.windowMs, this.maxFailures, this.coolOffMs, `${now}:${randomBytes(6).toString('hex')}`],
      )) as [number, number, number, number];
      return {
        locked: locked === 1,
        until: locked === 1 ? Number(until) : null,
        failures: Number(failures),
        justLocked: justLocked === 1,
      };
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('lockout.record', err));
      return this.local
        ? this.local.recordFailure(subject)
        : { locked: false, until: null, failures: 0, justLocked: false };
    }
  }
}
