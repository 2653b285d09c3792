import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

/**
 * KEYS: the window hash (field = bucket start ms, value = sum).
 * ARGV: now, windowMs, bucketMs, amount. Adds `amount` to the current bucket (0 only reads),
 * drops buckets that left the window, returns the window's sum.
 */
const ADD = new RedisScript(`
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local bucketMs = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local bucket = now - (now % bucketMs)
if amount ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], bucket, amount) end
local cutoff = now - windowMs
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local start = tonumber(all[i])
  if start + bucketMs <= cutoff then
    redis.call('HDEL', KEYS[1], all[i])
  else
    total = total + tonumber(all[i + 1])
  end
end
redis.call('PEXPIRE', KEYS[1], windowMs + bucketMs)
return tostring(total)
`);

export interface SlidingWindowOptions extends SharedStateOptions {
  windowMs: number;
  /** Resolution: the window is counted in buckets of this size (default windowMs / 60). */
  bucketMs?: number;
}

/**
 * A sliding-window sum shared by replicas (detector windows: requests, tokens, failures per
 * subject over the last N minutes). Bucketed like src/detection/bucketed-window.ts: memory per key
 * is bounded by windowMs / bucketMs, and the window edge is accurate to one bucket.
 *
 * Unavailable Redis: `add` returns null (the detector skips this observation and the operator is
 * told through `onUnavailable`); detection is advisory, so no request is refused for it.
 */
export class RedisSlidingWindow {
  private readonly prefix: string;
  private readonly bucketMs: number;
  /** Window keys name a subject: named by their keyed hash. */
  private readonly names: StateKeyNames;

  constructor(private readonly o: SlidingWindowOptions) {
    this.prefix = `${o.prefix ?? 'tg:'}sw:`;
    this.names = keyNamesFor(o.keySecret);
    this.bucketMs = Math.max(1, Math.floor(o.bucketMs ?? o.windowMs / 60));
  }

  /** Adds `amount` at `nowMs` to `key`'s window and returns the window's sum, or null without Redis. */
  async add(key: string, amount: number, nowMs: number): Promise<number | null> {
    try {
      const total = await ADD.run(
        this.o.client,
        [this.prefix + this.names.of(key)],
        [nowMs, this.o.windowMs, this.bucketMs, amount],
      );
      return Number(total);
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('window.add', err));
      return null;
    }
  }

  /** The window's sum at `nowMs`, or null without Redis. */
  sum(key: string, nowMs: number): Promise<number | null> {
    return this.add(key, 0, nowMs);
  }
}
