/**
 * Per-subject detector state with bounded memory: entries idle longer than `ttlMs` expire, and
 * past `maxEntries` the least recently used entry is evicted. A JavaScript Map iterates in
 * insertion order, so re-inserting on access keeps the least recently used entry first and
 * expiry and eviction are O(1) from the front.
 */
export class BoundedStateMap<V> {
  private readonly entries = new Map<string, { value: V; lastMs: number }>();
  private evictedCount = 0;
  private expiredCount = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The state of `key`, created by `create` when absent or expired; marks it used at `nowMs`. */
  touch(key: string, nowMs: number, create: () => V): V {
    const found = this.entries.get(key);
    let value: V;
    if (found && nowMs - found.lastMs <= this.ttlMs) {
      this.entries.delete(key);
      value = found.value;
    } else {
      if (found) {
        this.entries.delete(key);
        this.expiredCount++;
      }
      value = create();
    }
    this.entries.set(key, { value, lastMs: Math.max(nowMs, found?.lastMs ?? nowMs) });
    this.expireFront(nowMs, 2);
    if (this.entries.size > this.maxEntries) this.evictFront();
    return value;
  }

  /** The state of `key` without creating or touching it; undefined when absent or expired. */
  peek(key: string, nowMs: number): V | undefined {
    const found = this.entries.get(key);
    return found && nowMs - found.lastMs <= this.ttlMs ? found.value : undefined;
  }

  /** Expires every idle entry; returns the number left. */
  sweep(nowMs: number): number {
    this.expireFront(nowMs, Number.POSITIVE_INFINITY);
    return this.entries.size;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries removed for the size cap (LRU) and for idleness, since creation. */
  get stats(): { evicted: number; expired: number } {
    return { evicted: this.evictedCount, expired: this.expiredCount };
  }

  private expireFront(nowMs: number, max: number): void {
    let n = 0;
    for (const [key, entry] of this.entries) {
      if (n >= max || nowMs - entry.lastMs <= this.ttlMs) return;
      this.entries.delete(key);
      this.expiredCount++;
      n++;
    }
  }

  private evictFront(): void {
    const first = this.entries.keys().next();
    if (first.done !== true) {
      this.entries.delete(first.value);
      this.evictedCount++;
    }
  }
}
