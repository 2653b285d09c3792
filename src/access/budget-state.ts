/**
 * Spend counters for budgets, one per (key, period). Like LimiterState, a Redis implementation
 * fits the same interface (INCRBY inside a Lua script keeps `reserve` atomic across replicas).
 */
export interface BudgetState {
  /**
   * Atomically: when `spent + cost ≤ limit`, adds `cost` and admits; otherwise adds nothing.
   * `seed` is the spend already recorded for this period (from the event store), used only when
   * the counter for `period` does not exist yet.
   */
  reserve(
    subject: string,
    period: string,
    limit: number,
    cost: number,
    seed: number,
  ): Promise<{ admitted: boolean; spent: number }>;
  /** Adds `delta` (negative refunds) to the counter of `period`, if it exists. */
  adjust(subject: string, period: string, delta: number): Promise<void>;
}

/**
 * In-process BudgetState: synchronous bodies, so check-and-add cannot interleave. One counter per
 * subject (the current period replaces the previous one), so memory is bounded by the number of
 * keys with a budget; `maxSubjects` caps it outright (forgetting a counter re-seeds it from the
 * store on the next request, which loses only in-flight reservations).
 */
export class MemoryBudgetState implements BudgetState {
  private readonly counters = new Map<string, { period: string; spent: number }>();
  private readonly maxSubjects: number;

  constructor(options: { maxSubjects?: number } = {}) {
    this.maxSubjects = options.maxSubjects ?? 100_000;
  }

  async reserve(
    subject: string,
    period: string,
    limit: number,
    cost: number,
    seed: number,
  ): Promise<{ admitted: boolean; spent: number }> {
    let c = this.counters.get(subject);
    if (c === undefined || c.period !== period) {
      if (c === undefined && this.counters.size >= this.maxSubjects) {
        const oldest = this.counters.keys().next();
        if (oldest.done !== true) this.counters.delete(oldest.value);
      }
      c = { period, spent: seed };
      this.counters.set(subject, c);
    }
    if (c.spent + cost > limit) return { admitted: false, spent: c.spent };
    c.spent += cost;
    return { admitted: true, spent: c.spent };
  }

  async adjust(subject: string, period: string, delta: number): Promise<void> {
    const c = this.counters.get(subject);
    if (c !== undefined && c.period === period) c.spent = Math.max(0, c.spent + delta);
  }
}
