import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { isTollgateError } from '../core/errors.js';
import { createCostBudgetDetector } from './cost-budget.js';
import { fire, testEvent } from './detector-test-kit.js';

const budgets = [{ scope: 'user' as const, subject: '*', period: 'day' as const, limit_usd: 10 }];

describe('cost.budget', () => {
  it('warns at 80% once, then fires HIGH on every event over the limit', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
    const d = createCostBudgetDetector({ budgets });
    const sev = [];
    for (let i = 0; i < 12; i++) {
      const c = fire(d, clock, testEvent(clock, { user_id: 'u1', cost_micro_usd: 1_000_000 }));
      sev.push(c.map((x) => x.severity ?? d.severity).join(','));
      clock.advance(10 * 60_000);
    }
    expect(sev).toEqual(['', '', '', '', '', '', '', 'MEDIUM', '', 'HIGH', 'HIGH', 'HIGH']);
  });

  it('fires on a burn rate that will exhaust the budget hours early', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
    const d = createCostBudgetDetector({ budgets });
    let first = -1;
    for (let i = 0; i < 30 && first < 0; i++) {
      const c = fire(d, clock, testEvent(clock, { user_id: 'u2', cost_micro_usd: 50_000 }));
      if (c.length > 0) {
        first = i;
        expect(c[0]!.subject).toEqual({ kind: 'budget', value: 'user:u2/day:2026-01-05' });
        expect(c[0]!.title).toMatch(/will exhaust/);
      }
      clock.advance(1_000);
    }
    expect(first).toBe(9);
  });

  it('stays quiet on a steady spender well within budget, and on a single expensive request', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 0));
    const d = createCostBudgetDetector({ budgets });
    for (let i = 0; i < 24 * 30; i++) {
      expect(fire(d, clock, testEvent(clock, { user_id: 'u3', cost_micro_usd: 5_000 }))).toEqual([]);
      clock.advance(2 * 60_000);
    }
    expect(fire(d, clock, testEvent(clock, { user_id: 'u3', cost_micro_usd: 2_000_000 }))).toEqual([]);
  });

  it('starts a new day with a clean slate', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 23, 50));
    const d = createCostBudgetDetector({ budgets });
    expect(fire(d, clock, testEvent(clock, { user_id: 'u4', cost_micro_usd: 7_000_000 }))).toEqual([]);
    clock.advance(20 * 60_000);
    expect(fire(d, clock, testEvent(clock, { user_id: 'u4', cost_micro_usd: 7_000_000 }))).toEqual([]);
  });

  it('rejects a budget without a positive limit', () => {
    let err: unknown;
    try {
      createCostBudgetDetector({ budgets: [{ scope: 'user', subject: '*', period: 'day', limit_usd: 0 }] });
    } catch (e) {
      err = e;
    }
    expect(isTollgateError(err) && err.code).toBe('TG_ERR_CONFIG_INVALID');
  });
});
