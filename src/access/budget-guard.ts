/**
 * Spend budgets, enforced before the request goes upstream: a key's (`--budget-usd X --period
 * day|month`) and the enforced budgets of config (subjects `user:…`, `team:…`, `feature:…`,
 * `key:…`). Periods are UTC calendar days or months. A request reserves its worst-case cost
 * (integer micro-USD, src/access/worst-case-cost.ts) and settles with the actual cost; the
 * reservation is atomic, so N concurrent requests cannot together spend more than the budget plus
 * what their real costs exceed their worst cases by (docs/access-control.md states when that is).
 */
import type { Clock } from '../core/clock.js';
import type { BudgetState } from './budget-state.js';
import type { BudgetPeriod } from './virtual-keys.js';

/** Whose budget: a key id and its budget (null = none). */
export interface BudgetSubject {
  id: string;
  budgetMicroUsd: number | null;
  budgetPeriod: BudgetPeriod | null;
}

export interface BudgetReservation {
  readonly subjectId: string;
  readonly period: string;
  readonly reservedMicroUsd: number;
  settled: boolean;
}

export type BudgetDecision =
  | { ok: true; reservation: BudgetReservation | null }
  | {
      ok: false;
      /** Seconds until the period ends and the budget resets, for `Retry-After`. */
      retryAfterSeconds: number;
      /** When the period ends and the budget resets, epoch ms (UTC). */
      resetsAtMs: number;
      /** Spend committed in the period (settled and reserved), as the refusal saw it. */
      spentMicroUsd: number;
      /** The budget. */
      limitMicroUsd: number;
      /** The refused request's worst case. */
      requestedMicroUsd: number;
      errorCode: 'TG_ERR_POLICY_BUDGET_EXCEEDED';
      httpStatus: 429;
      status: 'BLOCKED';
    };

/** Start and end (epoch ms, UTC) of the period containing `nowMs`. */
export function budgetPeriodBounds(period: BudgetPeriod, nowMs: number): { start: number; end: number } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === 'day') {
    const start = Date.UTC(y, m, d.getUTCDate());
    return { start, end: start + 86_400_000 };
  }
  return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
}

export class BudgetGuard {
  private readonly state: BudgetState;
  private readonly clock: Clock;
  private readonly loadSpent: (subjectId: string, periodStartMs: number) => Promise<number>;
  /** One seed load per (key, period), shared by concurrent first requests; bounded. */
  private readonly seeds = new Map<string, Promise<number>>();
  /** The current day and month, recomputed only when the clock passes their end. */
  private readonly current: Record<BudgetPeriod, { start: number; end: number; id: string }> = {
    day: { start: 0, end: 0, id: '' },
    month: { start: 0, end: 0, id: '' },
  };

  /**
   * `loadSpent` returns what the key already spent since the period start (the sum of
   * `cost_micro_usd` in the event store), so a restart does not reset budgets. Default: 0.
   */
  constructor(options: {
    state: BudgetState;
    clock: Clock;
    loadSpent?: (subjectId: string, periodStartMs: number) => Promise<number>;
  }) {
    this.state = options.state;
    this.clock = options.clock;
    this.loadSpent = options.loadSpent ?? (async () => 0);
  }

  /** Reserves `estimatedMicroUsd` (0 when the model has no price: it cannot be estimated). */
  async reserve(subject: BudgetSubject, estimatedMicroUsd: number): Promise<BudgetDecision> {
    if (subject.budgetMicroUsd === null || subject.budgetPeriod === null)
      return { ok: true, reservation: null };
    const now = this.clock.now();
    let bounds = this.current[subject.budgetPeriod];
    if (now >= bounds.end || now < bounds.start) {
      const b = budgetPeriodBounds(subject.budgetPeriod, now);
      bounds = { ...b, id: `${subject.budgetPeriod}:${b.start}` };
      this.current[subject.budgetPeriod] = bounds;
    }
    const period = bounds.id;
    const seedKey = `${subject.id}|${period}`;
    let seedPromise = this.seeds.get(seedKey);
    if (seedPromise === undefined) {
      if (this.seeds.size >= 100_000) this.seeds.clear();
      seedPromise = this.loadSpent(subject.id, bounds.start);
      this.seeds.set(seedKey, seedPromise);
      // A failed load is not kept: the requests sharing it are refused, the next one loads again.
      const failed = seedPromise;
      failed.catch(() => {
        if (this.seeds.get(seedKey) === failed) this.seeds.delete(seedKey);
      });
    }
    const seed = await seedPromise;
    const cost = Math.max(0, Math.ceil(estimatedMicroUsd));
    // A request whose cost cannot be estimated (0) is admitted only while budget remains:
    // spent + 0 ≤ limit − 1 ⇔ spent < limit.
    const result = await this.state.reserve(
      subject.id,
      period,
      subject.budgetMicroUsd - (cost === 0 ? 1 : 0),
      cost,
      seed,
    );
    if (result.admitted)
      return {
        ok: true,
        reservation: { subjectId: subject.id, period, reservedMicroUsd: cost, settled: false },
      };
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((bounds.end - now) / 1000)),
      resetsAtMs: bounds.end,
      spentMicroUsd: result.spent,
      limitMicroUsd: subject.budgetMicroUsd,
      requestedMicroUsd: cost,
      errorCode: 'TG_ERR_POLICY_BUDGET_EXCEEDED',
      httpStatus: 429,
      status: 'BLOCKED',
    };
  }

  /** Replaces the estimate by the actual cost; `null` (unpriced or unknown) keeps the estimate. */
  async settle(reservation: BudgetReservation | null, actualMicroUsd: number | null): Promise<void> {
    if (reservation === null || reservation.settled) return;
    reservation.settled = true;
    if (actualMicroUsd === null) return;
    const delta = Math.max(0, Math.round(actualMicroUsd)) - reservation.reservedMicroUsd;
    if (delta !== 0) await this.state.adjust(reservation.subjectId, reservation.period, delta);
  }
}
