/**
 * Storage of rate-limit buckets. The in-memory implementation is below; a Redis one (shared by
 * gateway replicas) implements the same interface with one Lua script per call, which Redis
 * runs atomically — the same all-or-nothing guarantee `take` gives in process.
 *
 * Buckets are token buckets: `capacity` tokens, refilled continuously at `capacity` per
 * `refillMs` (so "60 requests per minute" = capacity 60, refillMs 60 000). An absent bucket is full.
 */
export interface TakeRequest {
  bucket: string;
  capacity: number;
  refillMs: number;
  cost: number;
}

export type TakeResult = { admitted: true } | { admitted: false; bucket: string; retryAfterMs: number };

export interface LimiterState {
  /**
   * Atomically: when every bucket holds at least its cost, debits all of them and admits;
   * otherwise debits none and names the first bucket short, with the wait until it holds enough.
   * No other take or adjust may interleave between the check and the debit.
   */
  take(requests: readonly TakeRequest[], nowMs: number): Promise<TakeResult>;
  /** Credits `amount` (negative debits, and may leave the bucket in debt), capped at capacity. */
  adjust(bucket: string, capacity: number, refillMs: number, amount: number, nowMs: number): Promise<void>;
}

const ADMITTED: TakeResult = Object.freeze({ admitted: true });

interface Bucket {
  tokens: number;
  at: number;
}

/** Tokens in a bucket at `nowMs`, after continuous refill (absent bucket = full). */
function refilled(b: Bucket | undefined, capacity: number, refillMs: number, nowMs: number): number {
  if (b === undefined) return capacity;
  const elapsed = nowMs > b.at ? nowMs - b.at : 0;
  return Math.min(capacity, b.tokens + (elapsed * capacity) / refillMs);
}

/**
 * In-process LimiterState. Every method body runs synchronously to completion (the returned
 * promise is already settled), so check-and-debit cannot interleave with another caller on the
 * event loop. Memory is bounded: at `maxBuckets`, buckets that have refilled are dropped (a full
 * bucket and an absent one are the same), then the least recently updated; `evictions` counts
 * the latter, which forget a partly spent bucket (a client could get a fresh allowance).
 */
export class MemoryLimiterState implements LimiterState {
  private readonly buckets = new Map<string, Bucket & { capacity: number; refillMs: number }>();
  private readonly maxBuckets: number;
  evictions = 0;

  constructor(options: { maxBuckets?: number } = {}) {
    this.maxBuckets = options.maxBuckets ?? 100_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  async take(requests: readonly TakeRequest[], nowMs: number): Promise<TakeResult> {
    // Hot path (every request): no allocation besides the result, one Map lookup per bucket.
    for (const r of requests) {
      const tokens = refilled(this.buckets.get(r.bucket), r.capacity, r.refillMs, nowMs);
      if (tokens < r.cost) {
        return {
          admitted: false,
          bucket: r.bucket,
          retryAfterMs: Math.ceil(((r.cost - tokens) * r.refillMs) / r.capacity),
        };
      }
    }
    for (const r of requests) this.apply(r.bucket, r.capacity, r.refillMs, -r.cost, nowMs);
    return ADMITTED;
  }

  async adjust(
    bucket: string,
    capacity: number,
    refillMs: number,
    amount: number,
    nowMs: number,
  ): Promise<void> {
    this.apply(bucket, capacity, refillMs, amount, nowMs);
  }

  private apply(bucket: string, capacity: number, refillMs: number, amount: number, nowMs: number): void {
    const b = this.buckets.get(bucket);
    const tokens = Math.min(capacity, refilled(b, capacity, refillMs, nowMs) + amount);
    if (tokens >= capacity) {
      if (b !== undefined) this.buckets.delete(bucket); // full == absent
      return;
    }
    if (b !== undefined) {
      b.tokens = tokens;
      b.at = nowMs;
      b.capacity = capacity;
      b.refillMs = refillMs;
      return;
    }
    if (this.buckets.size >= this.maxBuckets) this.makeRoom(nowMs);
    this.buckets.set(bucket, { tokens, at: nowMs, capacity, refillMs });
  }

  private makeRoom(nowMs: number): void {
    for (const [name, b] of this.buckets) {
      if (refilled(b, b.capacity, b.refillMs, nowMs) >= b.capacity) this.buckets.delete(name);
    }
    if (this.buckets.size < this.maxBuckets) return;
    // Still full: drop the least recently updated tenth in one pass (amortised, rare).
    const byAge = [...this.buckets].sort((x, y) => x[1].at - y[1].at);
    const drop = Math.max(1, Math.ceil(this.maxBuckets / 10));
    for (const [name] of byAge.slice(0, drop)) {
      this.buckets.delete(name);
      this.evictions++;
    }
  }
}
