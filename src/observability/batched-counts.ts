import type { Counter } from 'prom-client';

interface Pending<L extends string> {
  labels: Partial<Record<L, string>>;
  /** Counted since the last read. */
  n: number;
  /** The series exists in the counter (a first count of 0 still creates it, as `inc(labels, 0)` does). */
  created: boolean;
}

/**
 * Increments of one prom-client `Counter`, kept per label set and added to it when it is read (its
 * `collect`, which prom-client runs on every scrape and every `get`). prom-client hashes the label
 * object on each `inc` (sorting and joining the label names), most of the metrics listener's CPU per
 * event; here the caller names the label set by a key it builds from the values. Only whole
 * non-negative counts wait: their sum is exact in any grouping, so a read shows the same value as
 * with an `inc` per event, and the series appear in the same order. Anything else goes to the
 * counter at once (and throws there, as before).
 */
export class BatchedCounts<L extends string> {
  private readonly pending = new Map<string, Pending<L>>();

  constructor(private readonly counter: Counter<L>) {}

  /** Counts `n` for the label set `key` (the same key must always mean the same `labels`). */
  add(key: string, labels: () => Partial<Record<L, string>>, n = 1): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      this.counter.inc(labels(), n);
      return;
    }
    const p = this.pending.get(key);
    if (p) p.n += n;
    else this.pending.set(key, { labels: labels(), n, created: false });
  }

  /** Adds what was counted since the last call to the counter (call it from the counter's `collect`). */
  flush(): void {
    for (const p of this.pending.values()) {
      if (p.n === 0 && p.created) continue;
      this.counter.inc(p.labels, p.n);
      p.n = 0;
      p.created = true;
    }
  }
}
