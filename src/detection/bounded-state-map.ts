/**
 * Per-subject detector state with bounded memory: entries idle longer than `ttlMs` expire, and
 * past `maxEntries` the least recently used of a small sample is evicted (approximate LRU, the
 * way Redis samples keys: redis.io/docs/latest/develop/reference/eviction).
 *
 * Entries are never re-inserted on access: deleting and re-adding keys of a large Map leaves
 * holes that V8 only compacts on rehash, which made an exact LRU cost tens of µs per access at
 * 100,000 subjects. Instead a cursor walks the map a couple of entries per access and drops the
 * expired ones it passes, so idle state goes away within one walk of the map.
 */
export class BoundedStateMap<V> {
  private readonly entries = new Map<string, { value: V; lastMs: number }>();
  private cursor: Iterator<[string, { value: V; lastMs: number }]> = this.entries.entries();
  private evictedCount = 0;
  private expiredCount = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The state of `key`, created by `create` when absent or expired; marks it used at `nowMs`. */
  touch(key: string, nowMs: number, create: () => V): V {
    const found = this.entries.get(key);
    if (found) {
      if (nowMs - found.lastMs <= this.ttlMs) {
        if (nowMs > found.lastMs) found.lastMs = nowMs;
        this.step(nowMs, 1);
        return found.value;
      }
      this.expiredCount++;
      found.value = create();
      found.lastMs = nowMs;
      return found.value;
    }
    const value = create();
    this.entries.set(key, { value, lastMs: nowMs });
    this.step(nowMs, 2);
    if (this.entries.size > this.maxEntries) this.evictOne();
    return value;
  }

  /** The state of `key` without creating or touching it; undefined when absent or expired. */
  peek(key: string, nowMs: number): V | undefined {
    const found = this.entries.get(key);
    return found && nowMs - found.lastMs <= this.ttlMs ? found.value : undefined;
  }

  /** Expires every idle entry; returns the number left. */
  sweep(nowMs: number): number {
    for (const [key, entry] of this.entries) {
      if (nowMs - entry.lastMs > this.ttlMs) {
        this.entries.delete(key);
        this.expiredCount++;
      }
    }
    this.cursor = this.entries.entries();
    return this.entries.size;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries removed for the size cap and for idleness, since creation. */
  get stats(): { evicted: number; expired: number } {
    return { evicted: this.evictedCount, expired: this.expiredCount };
  }

  /** The next entry under the cursor, wrapping around; undefined when the map is empty. */
  private nextEntry(): [string, { value: V; lastMs: number }] | undefined {
    let r = this.cursor.next();
    if (r.done === true) {
      this.cursor = this.entries.entries();
      r = this.cursor.next();
    }
    return r.done === true ? undefined : r.value;
  }

  private step(nowMs: number, n: number): void {
    for (let i = 0; i < n; i++) {
      const e = this.nextEntry();
      if (!e) return;
      if (nowMs - e[1].lastMs > this.ttlMs) {
        this.entries.delete(e[0]);
        this.expiredCount++;
      }
    }
  }

  private evictOne(): void {
    let victim: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = 0, n = Math.min(5, this.entries.size); i < n; i++) {
      const e = this.nextEntry();
      if (e && e[1].lastMs < oldest) {
        oldest = e[1].lastMs;
        victim = e[0];
      }
    }
    if (victim !== undefined) {
      this.entries.delete(victim);
      this.evictedCount++;
    }
  }
}
