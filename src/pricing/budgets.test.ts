import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { isTollgateError } from '../core/errors.js';
import { BudgetTracker, periodStart, type BudgetConfig } from './budgets.js';

const HOUR = 3_600_000;

function spend(
  user: string | null,
  cost: number | null,
  extra: Partial<{ team: string; feature_name: string; virtual_key_id: string; api_key_id: string }> = {},
) {
  return {
    virtual_key_id: null,
    api_key_id: null,
    user_id: user,
    feature_name: null,
    team: null,
    cost_micro_usd: cost,
    ...extra,
  };
}

const aliceDaily: BudgetConfig = {
  scope: 'user',
  subject: 'alice',
  period: 'day',
  limit_usd: 10,
  enforce: true,
};

describe('BudgetTracker', () => {
  it('reports 80% and 100% once each, then blocks when enforced', () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 9));
    const t = new BudgetTracker([aliceDaily], clock);
    t.record(spend('alice', 7_999_999));
    expect(t.check({ user: 'alice' })).toEqual({ allowed: true, crossed: [], blockedBy: null });
    t.record(spend('alice', 1));
    const c = t.check({ user: 'alice' });
    expect(c.allowed).toBe(true);
    expect(c.crossed.map((x) => x.threshold)).toEqual([80]);
    expect(c.crossed[0]).toMatchObject({
      spent_micro_usd: 8_000_000,
      limit_micro_usd: 10_000_000,
      period_start: '2026-03-03T00:00:00.000Z',
    });
    expect(t.check({ user: 'alice' }).crossed).toEqual([]);
    t.record(spend('alice', 2_000_000));
    const full = t.check({ user: 'alice' });
    expect(full.crossed.map((x) => x.threshold)).toEqual([100]);
    expect(full.allowed).toBe(false);
    expect(full.blockedBy).toBe(aliceDaily);
    expect(t.check({ user: 'alice' })).toMatchObject({ allowed: false, crossed: [] });
  });

  it('reports both thresholds when one request jumps past both', () => {
    const t = new BudgetTracker([aliceDaily], new ManualClock());
    t.record(spend('alice', 12_000_000));
    expect(t.check({ user: 'alice' }).crossed.map((x) => x.threshold)).toEqual([80, 100]);
  });

  it('alerts but does not block when not enforced', () => {
    const t = new BudgetTracker([{ ...aliceDaily, enforce: false }], new ManualClock());
    t.record(spend('alice', 50_000_000));
    expect(t.check({ user: 'alice' })).toMatchObject({ allowed: true, blockedBy: null });
  });

  it('resets at the UTC day boundary and re-arms thresholds', () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 23, 59));
    const t = new BudgetTracker([aliceDaily], clock);
    t.record(spend('alice', 10_000_000));
    expect(t.check({ user: 'alice' }).allowed).toBe(false);
    clock.advance(60_000);
    expect(t.check({ user: 'alice' })).toEqual({ allowed: true, crossed: [], blockedBy: null });
    t.record(spend('alice', 9_000_000));
    expect(t.check({ user: 'alice' }).crossed.map((x) => x.threshold)).toEqual([80]);
  });

  it('monthly budgets span days and reset on the first of the month (UTC)', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 31, 12));
    const team: BudgetConfig = {
      scope: 'team',
      subject: 'web',
      period: 'month',
      limit_usd: 1,
      enforce: true,
    };
    const t = new BudgetTracker([team], clock);
    t.record(spend(null, 600_000, { team: 'web' }));
    clock.advance(HOUR * 11);
    t.record(spend(null, 400_000, { team: 'web' }));
    expect(t.check({ team: 'web' }).allowed).toBe(false);
    clock.advance(HOUR);
    expect(t.status()[0]).toMatchObject({ period_start: '2026-02-01T00:00:00.000Z', spent_micro_usd: 0 });
    expect(t.check({ team: 'web' }).allowed).toBe(true);
  });

  it('matches keys by virtual key first, and only the subjects given', () => {
    const t = new BudgetTracker(
      [
        { scope: 'key', subject: 'vk_1', period: 'day', limit_usd: 1, enforce: true },
        { scope: 'feature', subject: 'chat', period: 'day', limit_usd: 100, enforce: true },
      ],
      new ManualClock(),
    );
    t.record(spend('bob', 1_000_000, { virtual_key_id: 'vk_1', api_key_id: 'fp_x', feature_name: 'chat' }));
    expect(t.check({ key: 'vk_1' }).allowed).toBe(false);
    expect(t.check({ key: 'fp_x', feature: 'chat' }).allowed).toBe(true);
    expect(t.status().map((s) => s.spent_micro_usd)).toEqual([1_000_000, 1_000_000]);
  });

  it('counts unpriced requests without adding them as $0 spend', () => {
    const t = new BudgetTracker([aliceDaily], new ManualClock());
    t.record(spend('alice', null));
    t.record(spend('alice', 5));
    expect(t.status()[0]).toMatchObject({ spent_micro_usd: 5, unpriced_requests: 1 });
  });

  it('can be seeded from stored spend after a restart', () => {
    const t = new BudgetTracker([aliceDaily], new ManualClock());
    t.seed({ scope: 'user', subject: 'alice', period: 'day' }, 10_000_000);
    expect(t.check({ user: 'alice' }).allowed).toBe(false);
  });

  it('refuses invalid config', () => {
    for (const bad of [
      { ...aliceDaily, limit_usd: 0 },
      { ...aliceDaily, period: 'week' },
      { ...aliceDaily, subject: '' },
    ]) {
      try {
        new BudgetTracker([bad as BudgetConfig], new ManualClock());
        throw new Error('accepted');
      } catch (err) {
        expect(isTollgateError(err) && err.code).toBe('TG_ERR_CONFIG_INVALID');
      }
    }
    expect(() => new BudgetTracker([aliceDaily, aliceDaily], new ManualClock())).toThrow(/CONFIG_INVALID/);
  });

  it('computes UTC period starts', () => {
    const ms = Date.UTC(2026, 6, 15, 23, 30);
    expect(periodStart('day', ms)).toBe(Date.UTC(2026, 6, 15));
    expect(periodStart('month', ms)).toBe(Date.UTC(2026, 6, 1));
  });
});
