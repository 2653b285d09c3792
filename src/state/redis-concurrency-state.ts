import { MemoryConcurrencyState, type ConcurrencyState } from '../access/concurrency-state.js';
import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { keyNamesFor, type StateKeyNames } from './state-key-names.js';

/** Leases as a sorted set scored by expiry. ARGV: id, limit, now, until. */
const ACQUIRE = new RedisScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1
`);

/**
 * ConcurrencyState shared by replicas: one sorted set of leases per subject (named by its keyed
 * hash), checked and added in one Lua script. Unavailable Redis: `fail-closed` refuses;
 * `fail-open` counts this replica's own requests meanwhile (at most `limit` per replica).
 */
export class RedisConcurrencyState implements ConcurrencyState {
  private readonly prefix: string;
  private readonly names: StateKeyNames;
  private readonly local = new MemoryConcurrencyState();

  constructor(private readonly o: SharedStateOptions) {
    this.prefix = `${o.prefix ?? 'tg:'}cc:`;
    this.names = keyNamesFor(o.keySecret);
  }

  async acquire(
    subject: string,
    id: string,
    limit: number,
    leaseMs: number,
    nowMs: number,
  ): Promise<boolean> {
    try {
      const ok = await ACQUIRE.run(
        this.o.client,
        [`${this.prefix}${this.names.of(subject)}`],
        [id, limit, nowMs, nowMs + leaseMs],
      );
      return ok === 1;
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('concurrency.acquire', err));
      if (this.o.policy !== 'fail-open') return false;
      return this.local.acquire(subject, id, limit, leaseMs, nowMs);
    }
  }

  async release(subject: string, id: string): Promise<void> {
    await this.local.release(subject, id);
    try {
      await this.o.client.zrem(`${this.prefix}${this.names.of(subject)}`, id);
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('concurrency.release', err));
    }
  }
}
