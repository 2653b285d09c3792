import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { AlertCandidate, Detector } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { BucketedWindow } from './bucketed-window.js';
import { resolveConfig } from './config-check.js';

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
  maxSubjects: number;
}

export const DEFAULT_COST_BUDGET_CONFIG: CostBudgetConfig = {
  budgets: [],
  warnFraction: 0.8,
  burnWindowMs: 60_000,
  burnMinEvents: 10,
  burnHorizonMs: 2 * 60 * 60_000,
  maxSubjects: 100_000,
};

const BURN_BUCKETS = 6;
const DAY_MS = 86_400_000;

interface BudgetState {
  periodStartMs: number;
  spentMicro: number;
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

/**
 * `cost.budget`: a budget crossed (HIGH at 100%, MEDIUM at the warning fraction) and a burn rate
 * that will exhaust a budget early (MEDIUM). Self-contained on `cost_micro_usd`; enforcement
 * (refusing requests) belongs to the pricing/budget stage, this only watches.
 * Spend is counted from when the detector starts; it does not read past spend from the store.
 */
export function createCostBudgetDetector(override?: Partial<CostBudgetConfig>): Detector {
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

  return {
    id: 'cost.budget',
    severity: 'MEDIUM',
    cooldownMs: 24 * 60 * 60_000,
    description:
      'Budget crossings (warning fraction and 100%) and burn rates that will exhaust a budget before its period ends.',
    observe(event, ctx) {
      const cost = event.cost_micro_usd;
      if (cost === null || cost <= 0 || budgets.length === 0) return null;
      const now = ctx.nowMs;
      const out: AlertCandidate[] = [];
      for (let i = 0; i < budgets.length; i++) {
        const b = budgets[i]!;
        const value = scopeValue(event, b.scope);
        if (value === null || (b.subject !== '*' && b.subject !== value)) continue;
        const [start, end] = periodBounds(b.period, now);
        const s = states[i]!.touch(value, now, () => ({
          periodStartMs: start,
          spentMicro: 0,
          burnSpend: new BucketedWindow(burnBucketMs, BURN_BUCKETS),
          burnCount: new BucketedWindow(burnBucketMs, BURN_BUCKETS),
        }));
        if (s.periodStartMs !== start) {
          s.periodStartMs = start;
          s.spentMicro = 0;
        }
        const before = s.spentMicro;
        s.spentMicro += cost;
        s.burnSpend.advance(now);
        s.burnCount.advance(now);
        s.burnSpend.add(cost);
        s.burnCount.add(1);
        // The period's start date is part of the subject: one alert per budget and period.
        const subject = {
          kind: 'budget' as const,
          value: `${b.scope}:${value}/${b.period}:${new Date(start).toISOString().slice(0, b.period === 'day' ? 10 : 7)}`,
        };
        const limit = b.limitMicro;
        const spent = s.spentMicro;
        if (spent >= limit) {
          out.push({
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
          });
          continue;
        }
        const warnAt = cfg.warnFraction * limit;
        if (before < warnAt && spent >= warnAt) {
          out.push({
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
          });
          continue;
        }
        if (s.burnCount.sum < cfg.burnMinEvents) continue;
        const ratePerMs = s.burnSpend.sum / cfg.burnWindowMs;
        const msToExhaust = (limit - spent) / ratePerMs;
        if (msToExhaust <= cfg.burnHorizonMs && now + msToExhaust < end) {
          out.push({
            subject,
            title: `Budget burn: ${b.scope} ${value} will exhaust its ${b.period} budget in ${Math.max(1, Math.round(msToExhaust / 60_000))} min`,
            description: `Spending ${usd(s.burnSpend.sum)} per ${Math.round(cfg.burnWindowMs / 1000)} s; ${usd(spent)} of ${usd(limit)} used.`,
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
  };
}
