/**
 * The cost view: the cost report of a window (rollups only), spend and tokens over time, the
 * budget burn of keys with budgets, and the sessions whose context keeps growing.
 */
import {
  costReport,
  sessionRow,
  type CostReport,
  type CostReportBy,
  type CostReportRow,
} from '../reports/cost-report.js';
import { budgetPeriodBounds } from '../access/budget-guard.js';
import { keyStatus } from '../access/virtual-keys.js';
import type { KeyStore } from '../access/key-store.js';
import { GROWING_INEXACT_UP_TO, type RollupReader, type SessionCursor } from '../store/rollups.js';
import { bucketSize, bucketStarts } from './security-summary.js';

export interface CostPoint {
  start_ms: number;
  cost_micro_usd: number;
  input_tokens: number;
  output_tokens: number;
  requests: number;
}

export interface BudgetBurn {
  key_id: string;
  name: string;
  prefix: string;
  status: 'active' | 'revoked' | 'expired';
  period: 'day' | 'month';
  period_start: string;
  budget_micro_usd: number;
  spent_micro_usd: number;
  /** spent / budget, 0..(over 1 when overspent by in-flight requests). */
  burn: number;
}

export interface CostOverview {
  report: CostReport;
  bucket_ms: number;
  over_time: CostPoint[];
  budgets: BudgetBurn[];
  /**
   * Sessions whose life overlaps `growth_since`…until, by input growth over their life so far,
   * leaking ones first (LEAK_RULE), then by last / first input; at most 10 (RollupReader.growingSessions).
   */
  growing_sessions: CostReportRow[];
  growth_since: string;
  /**
   * Sessions overlapping the window whose summary is inexact (batches written out of hour order),
   * and how many of them were ranked (at most GROWING_INEXACT_UP_TO, re-joined from their
   * segments): when fewer, the growing list may miss one until `tollgate rollups rebuild`.
   */
  growth_inexact: { sessions: number; ranked: number; cap: number };
}

/** Builds the cost view; every figure comes from the rollups (none from raw events). */
export async function costOverview(
  d: { rollups: RollupReader; keys: KeyStore },
  o: {
    by: CostReportBy;
    sinceMs: number;
    untilMs: number;
    nowMs: number;
    /** `by: 'session'`: the page (default: the first SESSION_ROWS_DEFAULT sessions by cost). */
    limit?: number;
    after?: SessionCursor | null;
  },
): Promise<CostOverview> {
  const report = await costReport(d.rollups, {
    by: o.by,
    sinceMs: o.sinceMs,
    untilMs: o.untilMs,
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    after: o.after ?? null,
  });
  const size = bucketSize(o.sinceMs, o.untilMs);
  const starts = bucketStarts(o.sinceMs, o.untilMs, size);
  const perBucket = await Promise.all(starts.map((s) => d.rollups.groups('all', s, s + size)));
  const over_time = starts.map((s, i) => {
    const g = perBucket[i]![0];
    return {
      start_ms: s,
      cost_micro_usd: g?.cost_micro_usd ?? 0,
      input_tokens: g?.input_tokens ?? 0,
      output_tokens: g?.output_tokens ?? 0,
      requests: g?.requests ?? 0,
    };
  });
  const budgets: BudgetBurn[] = [];
  const keys = (await d.keys.list()).filter((k) => k.budgetMicroUsd !== null && k.budgetPeriod !== null);
  const spentByPeriod = new Map<string, Map<string, number>>();
  for (const k of keys) {
    const period = k.budgetPeriod!;
    const bounds = budgetPeriodBounds(period, o.nowMs);
    let spent = spentByPeriod.get(period);
    if (!spent) {
      spent = new Map(
        (await d.rollups.groups('key', bounds.start, bounds.end)).map((g) => [g.key, g.cost_micro_usd]),
      );
      spentByPeriod.set(period, spent);
    }
    const used = spent.get(k.id) ?? 0;
    budgets.push({
      key_id: k.id,
      name: k.name,
      prefix: k.displayPrefix,
      status: keyStatus(k, o.nowMs),
      period,
      period_start: new Date(bounds.start).toISOString(),
      budget_micro_usd: k.budgetMicroUsd!,
      spent_micro_usd: used,
      burn: used / k.budgetMicroUsd!,
    });
  }
  budgets.sort((a, b) => b.burn - a.burn);
  // Sessions overlapping the window, by their growth so far (the top 10 through an index on
  // session_totals: a page reads ten summaries, not every session of the window).
  const growthSince = o.sinceMs;
  const growing = await d.rollups.growingSessions(growthSince, o.untilMs, 10);
  const growing_sessions = growing.sessions.map(sessionRow);
  return {
    report,
    bucket_ms: size,
    over_time,
    budgets,
    growing_sessions,
    growth_since: new Date(growthSince).toISOString(),
    growth_inexact: { sessions: growing.inexact, ranked: growing.inexact_ranked, cap: GROWING_INEXACT_UP_TO },
  };
}
