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

interface Bucket {
  tokens: number;
  at: number;
  capacity: number;
  refillMs: number;
}

function refilled(b: Bucket, nowMs: number): number {
  const elapsed = Math.max(0, nowMs - b.at);
  return Math.min(b.capacity, b.tokens + (elapsed * b.capacity) / b.refillMs);
}

/**
 * In-process LimiterState. Every method body runs synchronously to completion (the returned
 * promise is already settled), so check-and-debit cannot interleave with another caller on the
 * event loop. Memory is bounded: at `maxBuckets`, full buckets are dropped (a full bucket and an
 * absent one are the same), then the least recently used; `evictions` counts the latter, which
 * forget a partly spent bucket (a client could get a fresh allowance).
 */
export class MemoryLimiterState implements LimiterState {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxBuckets: number;
  evictions = 0;

  constructor(options: { maxBuckets?: number } = {}) {
    this.maxBuckets = options.maxBuckets ?? 100_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  async take(requests: readonly TakeRequest[], nowMs: number): Promise<TakeResult> {
    for (const r of requests) {
      const b = this.buckets.get(r.bucket);
      const tokens = b === undefined ? r.capacity : refilled({ ...b, capacity: r.capacity, refillMs: r.refillMs }, nowMs);
      if (tokens < r.cost) {
        return { admitted: false, bucket: r.bucket, retryAfterMs: Math.ceil(((r.cost - tokens) * r.refillMs) / r.capacity) };
      }
    }
    for (const r of requests) this.apply(r.bucket, r.capacity, r.refillMs, -r.cost, nowMs);
    return { admitted: true };
  }

  async adjust(bucket: string, capacity: number, refillMs: number, amount: number, nowMs: number): Promise<void> {
    this.apply(bucket, capacity, refillMs, amount, nowMs);
  }

  private apply(bucket: string, capacity: number, refillMs: number, amount: number, nowMs: number): void {
    const old = this.buckets.get(bucket);
    const base = old === undefined ? capacity : refilled({ ...old, capacity, refillMs }, nowMs);
    const tokens = Math.min(capacity, base + amount);
    // Re-insert so Map order is least-recently-used first.
    this.buckets.delete(bucket);
    if (tokens >= capacity) return; // full == absent
    if (this.buckets.size >= this.maxBuckets) this.makeRoom(nowMs);
    this.buckets.set(bucket, { tokens, at: nowMs, capacity, refillMs });
  }

  private makeRoom(nowMs: number): void {
    for (const [name, b] of this.buckets) {
      if (refilled(b, nowMs) >= b.capacity) this.buckets.delete(name);
    }
    while (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (oldest.done === true) break;
      this.buckets.delete(oldest.value);
      this.evictions++;
    }
  }
}
