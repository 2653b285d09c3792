/**
 * Spend budgets per key, user, feature or team, per UTC day or month. The tracker adds each
 * written event's cost to the budgets it falls under and reports 80% and 100% crossings once per
 * period; the gateway refuses (status BLOCKED, TG_ERR_POLICY_BUDGET_EXCEEDED) when a budget with
 * `enforce: true` is at or past 100%. Alerts and refusals are wired by the gateway, not here.
 *
 * This tracker is in-process state (one replica). Spend is integer micro-USD; an event without a
 * price adds nothing but is counted as unpriced, so a budget's spend is "at least" this much.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';

export type BudgetScope = 'key' | 'user' | 'feature' | 'team';
export type BudgetPeriod = 'day' | 'month';
export type BudgetThreshold = 80 | 100;

/** One budget as written in config. */
export interface BudgetConfig {
  scope: BudgetScope;
  /** The key id (virtual key id, else api_key_id fingerprint), user id, feature name or team. */
  subject: string;
  period: BudgetPeriod;
  limit_usd: number;
  /** Refuse requests once spend reaches the limit; otherwise only alert. */
  enforce: boolean;
}

/** The subjects one request belongs to; the gateway fills what it knows before calling check(). */
export interface BudgetSubjects {
  key?: string | null;
  user?: string | null;
  feature?: string | null;
  team?: string | null;
}

/** A threshold crossed for the first time in a period. */
export interface BudgetCrossing {
  budget: BudgetConfig;
  threshold: BudgetThreshold;
  /** Period start, ISO-8601 UTC. */
  period_start: string;
  spent_micro_usd: number;
  limit_micro_usd: number;
}

/** The state of one budget in its current period. */
export interface BudgetStatus {
  budget: BudgetConfig;
  period_start: string;
  spent_micro_usd: number;
  limit_micro_usd: number;
  unpriced_requests: number;
}

export interface BudgetCheck {
  /** False when an enforced budget of one of the subjects is at or past its limit. */
  allowed: boolean;
  /** Thresholds newly crossed since the last check (each reported once per budget and period). */
  crossed: BudgetCrossing[];
  /** The enforced budget that refused, when not allowed. */
  blockedBy: BudgetConfig | null;
}

/** Start of the UTC day or month containing `ms`. */
export function periodStart(period: BudgetPeriod, ms: number): number {
  const d = new Date(ms);
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

interface BudgetState {
  budget: BudgetConfig;
  limit: number;
  periodStartMs: number;
  spent: number;
  unpriced: number;
  reported: Set<BudgetThreshold>;
}

function subjectOf(scope: BudgetScope, s: BudgetSubjects): string | null | undefined {
  return s[scope];
}

/** Checks a budget list from config; throws TG_ERR_CONFIG_INVALID on the first bad entry. */
export function validateBudgets(budgets: readonly BudgetConfig[]): void {
  const seen = new Set<string>();
  budgets.forEach((b, i) => {
    const bad = (field: string): TollgateError =>
      new TollgateError('TG_ERR_CONFIG_INVALID', { section: 'budgets', index: i, field });
    if (!['key', 'user', 'feature', 'team'].includes(b.scope)) throw bad('scope');
    if (typeof b.subject !== 'string' || b.subject === '') throw bad('subject');
    if (b.period !== 'day' && b.period !== 'month') throw bad('period');
    if (typeof b.limit_usd !== 'number' || !Number.isFinite(b.limit_usd) || b.limit_usd <= 0)
      throw bad('limit_usd');
    if (typeof b.enforce !== 'boolean') throw bad('enforce');
    const id = `${b.scope}\u0000${b.subject}\u0000${b.period}`;
    if (seen.has(id)) throw bad('duplicate');
    seen.add(id);
  });
}

/**
 * Tracks spend against budgets with an injected clock: periods start at UTC midnight (day) or
 * the first of the month (month), and a new period starts from zero with its thresholds re-armed.
 */
export class BudgetTracker {
  private readonly states: BudgetState[];
  private readonly byScope = new Map<BudgetScope, Map<string, BudgetState[]>>();

  constructor(
    budgets: readonly BudgetConfig[],
    private readonly clock: Clock,
  ) {
    validateBudgets(budgets);
    const now = clock.now();
    this.states = budgets.map((budget) => ({
      budget,
      limit: Math.round(budget.limit_usd * 1_000_000),
      periodStartMs: periodStart(budget.period, now),
      spent: 0,
      unpriced: 0,
      reported: new Set(),
    }));
    for (const s of this.states) {
      const scope = this.byScope.get(s.budget.scope) ?? new Map<string, BudgetState[]>();
      const list = scope.get(s.budget.subject) ?? [];
      list.push(s);
      scope.set(s.budget.subject, list);
      this.byScope.set(s.budget.scope, scope);
    }
  }

  /** Budgets that apply to these subjects, rolled over to the current period. */
  private matching(subjects: BudgetSubjects): BudgetState[] {
    const now = this.clock.now();
    const out: BudgetState[] = [];
    for (const [scope, bySubject] of this.byScope) {
      const subject = subjectOf(scope, subjects);
      if (!subject) continue;
      for (const s of bySubject.get(subject) ?? []) {
        const start = periodStart(s.budget.period, now);
        if (start !== s.periodStartMs) {
          s.periodStartMs = start;
          s.spent = 0;
          s.unpriced = 0;
          s.reported.clear();
        }
        out.push(s);
      }
    }
    return out;
  }

  /** Adds a written event's cost to every budget it falls under (current period, by the clock). */
  record(
    event: Pick<
      AuditEvent,
      'virtual_key_id' | 'api_key_id' | 'user_id' | 'feature_name' | 'team' | 'cost_micro_usd'
    >,
  ): void {
    const states = this.matching({
      key: event.virtual_key_id ?? event.api_key_id,
      user: event.user_id,
      feature: event.feature_name,
      team: event.team,
    });
    for (const s of states) {
      if (event.cost_micro_usd === null) s.unpriced += 1;
      else s.spent += event.cost_micro_usd;
    }
  }

  /**
   * Whether a request of these subjects may proceed, and the thresholds newly crossed. Called
   * before forwarding a request (and may be called after recording, to alert promptly).
   */
  check(subjects: BudgetSubjects): BudgetCheck {
    const crossed: BudgetCrossing[] = [];
    let blockedBy: BudgetConfig | null = null;
    for (const s of this.matching(subjects)) {
      for (const threshold of [80, 100] as const) {
        // Integer comparison: spent / limit >= threshold% without division.
        if (s.spent * 100 >= s.limit * threshold && !s.reported.has(threshold)) {
          s.reported.add(threshold);
          crossed.push({
            budget: s.budget,
            threshold,
            period_start: new Date(s.periodStartMs).toISOString(),
            spent_micro_usd: s.spent,
            limit_micro_usd: s.limit,
          });
        }
      }
      if (s.budget.enforce && s.spent >= s.limit && blockedBy === null) blockedBy = s.budget;
    }
    return { allowed: blockedBy === null, crossed, blockedBy };
  }

  /** Every budget's state in its current period (for `tollgate keys list` and the dashboard). */
  status(): BudgetStatus[] {
    const now = this.clock.now();
    return this.states.map((s) => {
      const current = periodStart(s.budget.period, now) === s.periodStartMs;
      return {
        budget: s.budget,
        period_start: new Date(periodStart(s.budget.period, now)).toISOString(),
        spent_micro_usd: current ? s.spent : 0,
        limit_micro_usd: s.limit,
        unpriced_requests: current ? s.unpriced : 0,
      };
    });
  }

  /**
   * Seeds the current period's spend (micro-USD) for one budget, e.g. from the cost rollups at
   * startup, so a restart does not reset a month's spend to zero.
   */
  seed(budget: Pick<BudgetConfig, 'scope' | 'subject' | 'period'>, spentMicroUsd: number): void {
    for (const s of this.matching({ [budget.scope]: budget.subject })) {
      if (s.budget.period === budget.period) s.spent = spentMicroUsd;
    }
  }
}
