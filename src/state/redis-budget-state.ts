import { MemoryBudgetState, type BudgetState } from '../access/budget-state.js';
import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

/** A counter per (subject, period), created from the seed. ARGV: limit, cost, seed, ttlMs. */
const RESERVE = new RedisScript(`
local spent = tonumber(redis.call('GET', KEYS[1]))
if spent == nil then
  spent = tonumber(ARGV[3])
  redis.call('SET', KEYS[1], spent, 'PX', ARGV[4])
end
local cost = tonumber(ARGV[2])
if spent + cost > tonumber(ARGV[1]) then return {0, spent} end
return {1, redis.call('INCRBY', KEYS[1], cost)}
`);

/** ARGV: delta. Never below zero; absent counters stay absent (they re-seed from the store). */
const ADJUST = new RedisScript(`
local spent = tonumber(redis.call('GET', KEYS[1]))
if spent == nil then return 0 end
local v = spent + tonumber(ARGV[1])
if v < 0 then v = 0 end
redis.call('SET', KEYS[1], v, 'KEEPTTL')
return 1
`);

/** Counters outlive the longest period (a month) by a few days, then expire on their own. */
const COUNTER_TTL_MS = 35 * 24 * 3600_000;

/**
 * BudgetState shared by replicas: spend counters in micro-USD (integers, so INCRBY is exact),
 * reserved atomically in a Lua script. Unavailable Redis: `fail-closed` refuses; `fail-open` keeps
 * enforcing on this replica alone, with in-process counters seeded like Redis's (from the store),
 * so while Redis is down spend is at most the budget per replica, never unbounded.
 */
export class RedisBudgetState implements BudgetState {
  private readonly prefix: string;
  /** Subjects (virtual key ids) are named by their keyed hash; the period stays readable. */
  private readonly names: StateKeyNames;
  /** This replica's own counters while Redis does not answer (fail-open). */
  private readonly local = new MemoryBudgetState();

  constructor(private readonly o: SharedStateOptions) {
    this.prefix = `${o.prefix ?? 'tg:'}bg:`;
    this.names = keyNamesFor(o.keySecret);
  }

  async reserve(
    subject: string,
    period: string,
    limit: number,
    cost: number,
    seed: number,
  ): Promise<{ admitted: boolean; spent: number }> {
    try {
      const [ok, spent] = (await RESERVE.run(
        this.o.client,
        [`${this.prefix}${this.names.of(subject)}:${period}`],
        [Math.round(limit), Math.round(cost), Math.round(seed), COUNTER_TTL_MS],
      )) as [number, number];
      return { admitted: ok === 1, spent: Number(spent) };
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('budget.reserve', err));
      if (this.o.policy !== 'fail-open') return { admitted: false, spent: seed };
      return this.local.reserve(subject, period, limit, cost, seed);
    }
  }

  async adjust(subject: string, period: string, delta: number): Promise<void> {
    try {
      await ADJUST.run(
        this.o.client,
        [`${this.prefix}${this.names.of(subject)}:${period}`],
        [Math.round(delta)],
      );
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('budget.adjust', err));
      await this.local.adjust(subject, period, delta);
    }
  }
}
