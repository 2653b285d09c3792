import type { LimiterState, TakeRequest, TakeResult } from '../access/limiter-state.js';
import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

/**
 * Token buckets as Redis hashes {t: tokens, at: ms}, with the same arithmetic as
 * MemoryLimiterState: continuous refill of `capacity` per `refillMs`, an absent bucket is full, a
 * bucket that refilled is deleted, and each bucket expires once it would have refilled anyway.
 * ARGV: now, then (capacity, refillMs, cost) per key.
 */
const TAKE = new RedisScript(`
local now = tonumber(ARGV[1])
local left = {}
for i = 1, #KEYS do
  local cap = tonumber(ARGV[i * 3 - 1])
  local refill = tonumber(ARGV[i * 3])
  local cost = tonumber(ARGV[i * 3 + 1])
  local b = redis.call('HMGET', KEYS[i], 't', 'at')
  local t = cap
  if b[1] then
    local el = now - tonumber(b[2])
    if el < 0 then el = 0 end
    t = math.min(cap, tonumber(b[1]) + el * cap / refill)
  end
  if t < cost then
    return {0, i, math.ceil((cost - t) * refill / cap)}
  end
  left[i] = t - cost
end
for i = 1, #KEYS do
  local cap = tonumber(ARGV[i * 3 - 1])
  local refill = tonumber(ARGV[i * 3])
  if left[i] >= cap then
    redis.call('DEL', KEYS[i])
  else
    redis.call('HSET', KEYS[i], 't', tostring(left[i]), 'at', tostring(now))
    redis.call('PEXPIRE', KEYS[i], math.ceil((cap - left[i]) * refill / cap) + 1000)
  end
end
return {1}
`);

/** ARGV: now, capacity, refillMs, amount. */
const ADJUST = new RedisScript(`
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local refill = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local t = cap
if b[1] then
  local el = now - tonumber(b[2])
  if el < 0 then el = 0 end
  t = math.min(cap, tonumber(b[1]) + el * cap / refill)
end
t = math.min(cap, t + amount)
if t >= cap then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', tostring(t), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((cap - t) * refill / cap) + 1000)
end
return 1
`);

/**
 * LimiterState shared by gateway replicas through Redis: one Lua script per call, so a take is
 * all-or-nothing across every replica (a 100 rpm limit on 4 replicas admits 100, not 400).
 * Replicas pass their own clock's `nowMs`; a bucket never refills backwards when clocks disagree.
 *
 * When Redis does not answer, `policy` decides: `fail-open` admits (and reports through
 * `onUnavailable`, so the operator gets an alert), `fail-closed` refuses with a one-second retry.
 */
export class RedisLimiterState implements LimiterState {
  private readonly prefix: string;
  /** Bucket names carry the subject (`rpm:<id>`): keys are named by their keyed hash. */
  private readonly names: StateKeyNames;

  constructor(private readonly o: SharedStateOptions) {
    this.prefix = `${o.prefix ?? 'tg:'}rl:`;
    this.names = keyNamesFor(o.keySecret);
  }

  async take(requests: readonly TakeRequest[], nowMs: number): Promise<TakeResult> {
    if (requests.length === 0) return { admitted: true };
    const args: (string | number)[] = [nowMs];
    for (const r of requests) args.push(r.capacity, r.refillMs, r.cost);
    let res: unknown;
    try {
      res = await TAKE.run(
        this.o.client,
        requests.map((r) => this.prefix + this.names.of(r.bucket)),
        args,
      );
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('limiter.take', err));
      if (this.o.policy === 'fail-open') return { admitted: true };
      return { admitted: false, bucket: requests[0]!.bucket, retryAfterMs: 1000 };
    }
    const [ok, index, wait] = res as [number, number?, number?];
    if (ok === 1) return { admitted: true };
    return { admitted: false, bucket: requests[(index ?? 1) - 1]!.bucket, retryAfterMs: wait ?? 1000 };
  }

  async adjust(
    bucket: string,
    capacity: number,
    refillMs: number,
    amount: number,
    nowMs: number,
  ): Promise<void> {
    try {
      await ADJUST.run(
        this.o.client,
        [this.prefix + this.names.of(bucket)],
        [nowMs, capacity, refillMs, amount],
      );
    } catch (err) {
      // A lost settle only leaves the token estimate in place; the request already ran.
      this.o.onUnavailable?.(stateUnavailable('limiter.adjust', err));
    }
  }
}
