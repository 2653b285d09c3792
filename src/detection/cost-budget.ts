import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { AlertCandidate, Detector, DetectorResult } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { BucketedWindow } from './bucketed-window.js';
import { resolveConfig } from './config-check.js';
import type { SharedWindow, SharedWindows } from './shared-windows.js';

/** Which event field a budget is kept against. `global` is all traffic. */
export type BudgetScope = 'key' | 'virtual_key' | 'user' | 'team' | 'feature' | 'global';

/**
 * A spending limit watched by `cost.budget`. `subject` is one value of the scope, or `*` for a
 * separate budget per value (every user gets `limit_usd` a day). Periods are UTC days and months.
 */
export interface BudgetRule {
  scope: BudgetScope;
  subject: string;
  period: 'day' | 'month';
  limit_usd: number;
}

export interface CostBudgetConfig {
  budgets: BudgetRule[];
  /** A crossing of this fraction of the limit raises a MEDIUM warning (once per period). */
  warnFraction: number;
  /** Burn rate is the spend over this trailing window… */
  burnWindowMs: number;
  /** …over at least this many priced requests (one expensive request is not a trend)… */
  burnMinEvents: number;
  /** …and fires when, at that rate, the budget runs out within this horizon and before the period ends. */
  burnHorizonMs: number;
  /**
   * An enforced budget's refusal (BLOCKED, TG_ERR_POLICY_BUDGET_EXCEEDED) raises "Budget exhausted"
   * (HIGH) when the spend it names is at least this fraction of the budget: reservations of the
   * worst case refuse before the spend reaches 100 %, so the crossing alone might never fire.
   * Below it, the refused request was merely too large for what is left (no alert).
   */
  exhaustedFraction: number;
  maxSubjects: number;
}

export const DEFAULT_COST_BUDGET_CONFIG: CostBudgetConfig = {
  budgets: [],
  warnFraction: 0.8,
  burnWindowMs: 60_000,
  burnMinEvents: 10,
  burnHorizonMs: 2 * 60 * 60_000,
  exhaustedFraction: 0.9,
  maxSubjects: 100_000,
};

/** An enforced budget's refusal, as its event's error_message names it (src/proxy/budget-refusal.ts). */
interface BudgetRefusalFacts {
  scope: string;
  subject: string;
  period: BudgetRule['period'];
  resetsAt: string;
  spentMicro: number;
  limitMicro: number;
}

const REFUSAL =
  /budget: (\S+) (.+?) \((daily|monthly)\); resets_at: ([^;)]+); spent_usd: (\d+(?:\.\d+)?); limit_usd: (\d+(?:\.\d+)?)/;

/** The budget a BLOCKED budget refusal names, or null for any other event. */
export function budgetRefusalOf(event: AuditEvent): BudgetRefusalFacts | null {
  if (event.status !== 'BLOCKED' || event.error_code !== 'TG_ERR_POLICY_BUDGET_EXCEEDED') return null;
  const m = REFUSAL.exec(event.error_message ?? '');
  if (!m) return null;
  return {
    scope: m[1]!,
    subject: m[2]!,
    period: m[3] === 'monthly' ? 'month' : 'day',
    resetsAt: m[4]!,
    spentMicro: Math.round(Number(m[5]) * 1_000_000),
    limitMicro: Math.round(Number(m[6]) * 1_000_000),
  };
}

const BURN_BUCKETS = 6;
const DAY_MS = 86_400_000;

interface BudgetState {
  periodStartMs: number;
  /** This replica's spend in the period. */
  spentMicro: number;
  /** The spend last decided on: this replica's, or every replica's when shared. */
  lastSpent: number;
  burnSpend: BucketedWindow;
  burnCount: BucketedWindow;
}

function scopeValue(event: AuditEvent, scope: BudgetScope): string | null {
  switch (scope) {
    case 'key':
      return event.api_key_id;
    case 'virtual_key':
      return event.virtual_key_id;
    case 'user':
      return event.user_id;
    case 'team':
      return event.team;
    case 'feature':
      return event.feature_name;
    case 'global':
      return '*';
  }
}

function periodBounds(period: BudgetRule['period'], nowMs: number): [number, number] {
  if (period === 'day') {
    const start = Math.floor(nowMs / DAY_MS) * DAY_MS;
    return [start, start + DAY_MS];
  }
  const d = new Date(nowMs);
  return [
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  ];
}

function usd(micro: number): string {
  return `$${(micro / 1_000_000).toFixed(2)}`;
}

/** Longest period: the shared spend of a month is kept in one bucket of this length (day: one day). */
const PERIOD_WINDOW_MS: Record<BudgetRule['period'], number> = { day: DAY_MS, month: 31 * DAY_MS };

/**
 * `cost.budget`: a budget crossed (HIGH at 100%, MEDIUM at the warning fraction) and a burn rate
 * that will exhaust a budget early (MEDIUM); an enforced budget's refusal once its spend is at
 * `exhaustedFraction` is "Budget exhausted" too (HIGH), whether or not the rule lists the budget. Self-contained on `cost_micro_usd`; enforcement
 * (refusing requests) belongs to the pricing/budget stage, this only watches.
 * Spend is counted from when the detector starts; it does not read past spend from the store.
 *
 * With `shared` windows (replicas), the spend of each scope value and period, and the burn
 * window, are summed over every replica in Redis (one counter per scope value and period, named
 * by its keyed hash, kept a period), so a budget spread over replicas is judged on its total and
 * a merged total crossing a threshold fires at the flush. While Redis is down each replica judges
 * on its own spend, never less.
 */
export function createCostBudgetDetector(
  override?: Partial<CostBudgetConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('cost.budget', DEFAULT_COST_BUDGET_CONFIG, override);
  const budgets = cfg.budgets.map((b, i) => {
    if (!(Number.isFinite(b.limit_usd) && b.limit_usd > 0) || (b.period !== 'day' && b.period !== 'month')) {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { rule: 'cost.budget', budget: i });
    }
    return { ...b, limitMicro: Math.round(b.limit_usd * 1_000_000) };
  });
  const periodTtl = 32 * DAY_MS;
  // One map per budget, keyed by the event's own string.
  const states = budgets.map(() => new BoundedStateMap<BudgetState>(periodTtl, cfg.maxSubjects));
  const burnBucketMs = Math.max(1, Math.ceil(cfg.burnWindowMs / BURN_BUCKETS));
  let fireLate: ((r: DetectorResult, nowMs: number) => void) | null = null;

  // Spend per (scope, value, period start), whatever the budget: two budgets on the same scope
  // and period watch the same spend. The subject names the period, so a new period starts at 0.
  const spendSubject = (scope: BudgetScope, value: string, start: number): string =>
    `${scope}\u0000${value}\u0000${start}`;
  const lateSpend = (period: BudgetRule['period']) => (subject: string, total: number, nowMs: number) => {
    const [scope, value, start] = subject.split('\u0000') as [BudgetScope, string, string];
    const startMs = Number(start);
    const out: AlertCandidate[] = [];
    budgets.forEach((b, i) => {
      if (b.scope !== scope || b.period !== period || (b.subject !== '*' && b.subject !== value)) return;
      const s = states[i]!.peek(value, nowMs);
      if (!s || s.periodStartMs !== startMs) return;
      const before = s.lastSpent;
      s.lastSpent = Math.max(total, s.spentMicro);
      const c = crossing(b, value, s, before, startMs);
      if (c) out.push(c);
    });
    if (out.length > 0) fireLate?.(out, nowMs);
  };
  const spendWindows: Record<BudgetRule['period'], SharedWindow> | null = shared
    ? {
        day: shared.open('cost.day', { windowMs: DAY_MS, bucketMs: DAY_MS }, lateSpend('day')),
        month: shared.open(
          'cost.month',
          { windowMs: PERIOD_WINDOW_MS.month, bucketMs: PERIOD_WINDOW_MS.month },
          lateSpend('month'),
        ),
      }
    : null;
  const burnSpec = { windowMs: cfg.burnWindowMs, bucketMs: burnBucketMs };
  const burnWindows = shared
    ? { spend: shared.open('cost.burn.spend', burnSpec), count: shared.open('cost.burn.count', burnSpec) }
    : null;

  function subjectOf(b: (typeof budgets)[number], value: string, start: number) {
    // The period's start date is part of the subject: one alert per budget and period.
    return {
      kind: 'budget' as const,
      value: `${b.scope}:${value}/${b.period}:${new Date(start).toISOString().slice(0, b.period === 'day' ? 10 : 7)}`,
    };
  }

  /**
   * "Budget exhausted" for an enforced budget's refusal at or past `exhaustedFraction` of it. Same
   * subject as the 100 % crossing of a watched budget of that scope and period: one alert per
   * budget and period (the engine's cooldown merges the refusals that follow into it).
   */
  function exhaustedByRefusal(r: BudgetRefusalFacts, nowMs: number): AlertCandidate | null {
    if (r.limitMicro <= 0 || r.spentMicro < cfg.exhaustedFraction * r.limitMicro) return null;
    const [start, end] = periodBounds(r.period, nowMs);
    return {
      subject: {
        kind: 'budget',
        value: `${r.scope}:${r.subject}/${r.period}:${new Date(start).toISOString().slice(0, r.period === 'day' ? 10 : 7)}`,
      },
      severity: 'HIGH',
      title: `Budget exhausted: ${r.scope} ${r.subject} (${r.period})`,
      description: `Spent $${(r.spentMicro / 1e6).toFixed(6)} of $${(r.limitMicro / 1e6).toFixed(6)} this ${r.period} (reserved in-flight requests included); requests are refused until ${r.resetsAt}.`,
      figures: {
        observed: r.spentMicro,
        baseline: null,
        threshold: r.limitMicro,
        window_ms: end - start,
        unit: 'micro_usd',
      },
    };
  }

  /** The 100 % or warning crossing between `before` and the state's last spend, if any. */
  function crossing(
    b: (typeof budgets)[number],
    value: string,
    s: BudgetState,
    before: number,
    start: number,
  ): AlertCandidate | null {
    const [, end] = periodBounds(b.period, start);
    const limit = b.limitMicro;
    const spent = s.lastSpent;
    const subject = subjectOf(b, value, start);
    if (spent >= limit) {
      return {
        subject,
        severity: 'HIGH',
        title: `Budget exhausted: ${b.scope} ${value} (${b.period})`,
        description: `Spent ${usd(spent)} of ${usd(limit)} this ${b.period}.`,
        figures: {
          observed: spent,
          baseline: null,
          threshold: limit,
          window_ms: end - start,
          unit: 'micro_usd',
        },
      };
    }
    const warnAt = cfg.warnFraction * limit;
    if (before < warnAt && spent >= warnAt) {
      return {
        subject,
        title: `Budget ${Math.round(cfg.warnFraction * 100)}% used: ${b.scope} ${value} (${b.period})`,
        description: `Spent ${usd(spent)} of ${usd(limit)} this ${b.period}.`,
        figures: {
          observed: spent,
          baseline: null,
          threshold: warnAt,
          window_ms: end - start,
          unit: 'micro_usd',
        },
      };
    }
    return null;
  }

  return {
    id: 'cost.budget',
    severity: 'MEDIUM',
    cooldownMs: 24 * 60 * 60_000,
    description:
      'Budget crossings (warning fraction and 100%) and burn rates that will exhaust a budget before its period ends.',
    observe(event, ctx) {
      const refused = budgetRefusalOf(event);
      if (refused) return exhaustedByRefusal(refused, ctx.nowMs);
      const cost = event.cost_micro_usd;
      if (cost === null || cost <= 0 || budgets.length === 0) return null;
      const now = ctx.nowMs;
      const out: AlertCandidate[] = [];
      // One shared add per (scope, value, period) and per (scope, value) burn window, however many budgets watch it.
      const added = new Map<string, number | null>();
      const burnAdded = new Map<string, { spend: number | null; count: number | null }>();
      for (let i = 0; i < budgets.length; i++) {
        const b = budgets[i]!;
        const value = scopeValue(event, b.scope);
        if (value === null || (b.subject !== '*' && b.subject !== value)) continue;
        const [start, end] = periodBounds(b.period, now);
        const s = states[i]!.touch(value, now, () => ({
          periodStartMs: start,
          spentMicro: 0,
          lastSpent: 0,
          burnSpend: new BucketedWindow(burnBucketMs, BURN_BUCKETS),
          burnCount: new BucketedWindow(burnBucketMs, BURN_BUCKETS),
        }));
        if (s.periodStartMs !== start) {
          s.periodStartMs = start;
          s.spentMicro = 0;
          s.lastSpent = 0;
        }
        const before = s.lastSpent;
        s.spentMicro += cost;
        s.burnSpend.advance(now);
        s.burnCount.advance(now);
        s.burnSpend.add(cost);
        s.burnCount.add(1);
        let acrossSpent: number | null = null;
        let burnSpend = s.burnSpend.sum;
        let burnCount = s.burnCount.sum;
        if (spendWindows && burnWindows) {
          const sub = spendSubject(b.scope, value, start);
          const key = `${b.period}\u0000${sub}`;
          if (added.has(key)) acrossSpent = added.get(key)!;
          else added.set(key, (acrossSpent = spendWindows[b.period].add(sub, cost, now)));
          const burnKey = `${b.scope}\u0000${value}`;
          let burn = burnAdded.get(burnKey);
          if (burn === undefined) {
            burn = {
              spend: burnWindows.spend.add(burnKey, cost, now),
              count: burnWindows.count.add(burnKey, 1, now),
            };
            burnAdded.set(burnKey, burn);
          }
          burnSpend = Math.max(burnSpend, burn.spend ?? 0);
          burnCount = Math.max(burnCount, burn.count ?? 0);
        }
        s.lastSpent = Math.max(s.spentMicro, acrossSpent ?? 0);
        const crossed = crossing(b, value, s, before, start);
        if (crossed) {
          out.push(crossed);
          continue;
        }
        const limit = b.limitMicro;
        const spent = s.lastSpent;
        if (burnCount < cfg.burnMinEvents) continue;
        const ratePerMs = burnSpend / cfg.burnWindowMs;
        const msToExhaust = (limit - spent) / ratePerMs;
        if (msToExhaust <= cfg.burnHorizonMs && now + msToExhaust < end) {
          out.push({
            subject: subjectOf(b, value, start),
            title: `Budget burn: ${b.scope} ${value} will exhaust its ${b.period} budget in ${Math.max(1, Math.round(msToExhaust / 60_000))} min`,
            description: `Spending ${usd(burnSpend)} per ${Math.round(cfg.burnWindowMs / 1000)} s; ${usd(spent)} of ${usd(limit)} used.`,
            figures: {
              observed: Math.round(ratePerMs * 3_600_000),
              baseline: null,
              threshold: Math.round(((limit - spent) / cfg.burnHorizonMs) * 3_600_000),
              window_ms: cfg.burnWindowMs,
              unit: 'micro_usd_per_hour',
            },
          });
        }
      }
      return out.length === 0 ? null : out;
    },
    sweep: (nowMs) => states.reduce((n, m) => n + m.sweep(nowMs), 0),
    bindLateFiring: (fire) => {
      fireLate = fire;
    },
  };
}
