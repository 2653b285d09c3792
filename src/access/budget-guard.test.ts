import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { BudgetGuard, budgetPeriodBounds } from './budget-guard.js';
import { MemoryBudgetState } from './budget-state.js';

const USD = 1_000_000;

function guard(loadSpent?: (id: string, start: number) => Promise<number>) {
  const clock = new ManualClock(Date.UTC(2026, 0, 31, 23, 0, 0));
  return { clock, guard: new BudgetGuard({ state: new MemoryBudgetState(), clock, loadSpent }) };
}

describe('BudgetGuard', () => {
  it('N parallel requests against a budget for M admit exactly M', async () => {
    const { guard: g } = guard();
    const key = { id: 'vk_b', budgetMicroUsd: 1 * USD, budgetPeriod: 'day' as const };
    const results = await Promise.all(
      Array.from({ length: 40 }, async () => {
        await new Promise((r) => setImmediate(r));
        return (await g.reserve(key, 0.1 * USD)).ok;
      }),
    );
    expect(results.filter(Boolean)).toHaveLength(10);
  });

  it('refuses with BLOCKED 429 and Retry-After until the period resets', async () => {
    const { guard: g, clock } = guard();
    const key = { id: 'vk_b', budgetMicroUsd: 500, budgetPeriod: 'month' as const };
    expect((await g.reserve(key, 500)).ok).toBe(true);
    const refused = await g.reserve(key, 1);
    expect(refused).toEqual({
      ok: false,
      retryAfterSeconds: 3600,
      resetsAtMs: Date.UTC(2026, 1, 1),
      spentMicroUsd: 500,
      limitMicroUsd: 500,
      requestedMicroUsd: 1,
      errorCode: 'TG_ERR_POLICY_BUDGET_EXCEEDED',
      httpStatus: 429,
      status: 'BLOCKED',
    });
    clock.advance(3600_000); // 1 February: a new month
    expect((await g.reserve(key, 1)).ok).toBe(true);
  });

  it('settles with the actual cost: refunds or charges the difference', async () => {
    const { guard: g } = guard();
    const key = { id: 'vk_s', budgetMicroUsd: 1000, budgetPeriod: 'day' as const };
    const a = await g.reserve(key, 800);
    if (!a.ok) throw new Error('unreachable');
    expect((await g.reserve(key, 300)).ok).toBe(false);
    await g.settle(a.reservation, 200);
    const b = await g.reserve(key, 700);
    if (!b.ok) throw new Error('unreachable');
    await g.settle(b.reservation, 900); // 1100 spent: over
    expect((await g.reserve(key, 0)).ok).toBe(false);
  });

  it('an unpriced request (estimate 0) is admitted only while budget remains', async () => {
    const { guard: g } = guard();
    const key = { id: 'vk_z', budgetMicroUsd: 10, budgetPeriod: 'day' as const };
    expect((await g.reserve(key, 0)).ok).toBe(true);
    expect((await g.reserve(key, 10)).ok).toBe(true);
    expect((await g.reserve(key, 0)).ok).toBe(false);
  });

  it('seeds from the event store once per period, so a restart keeps the spend', async () => {
    const loads: number[] = [];
    const { guard: g } = guard(async (_id, start) => {
      loads.push(start);
      return 900;
    });
    const key = { id: 'vk_r', budgetMicroUsd: 1000, budgetPeriod: 'day' as const };
    const results = await Promise.all([g.reserve(key, 60), g.reserve(key, 60), g.reserve(key, 60)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(loads).toEqual([Date.UTC(2026, 0, 31)]);
  });

  it('a seed load that failed is not kept: the requests sharing it are refused, the next one loads again', async () => {
    let calls = 0;
    const { guard: g } = guard(async () => {
      calls++;
      if (calls === 1) throw new Error('store down');
      return 900;
    });
    const key = { id: 'vk_down', budgetMicroUsd: 1000, budgetPeriod: 'day' as const };
    const first = await Promise.allSettled([g.reserve(key, 60), g.reserve(key, 60)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(await g.reserve(key, 60)).toMatchObject({ ok: true });
    expect(await g.reserve(key, 60)).toMatchObject({ ok: false, spentMicroUsd: 960 });
    expect(calls).toBe(2);
  });

  it('keys without a budget are not tracked', async () => {
    const { guard: g } = guard();
    expect(await g.reserve({ id: 'free', budgetMicroUsd: null, budgetPeriod: null }, 10 ** 12)).toEqual({
      ok: true,
      reservation: null,
    });
  });

  it('periods are UTC calendar days and months', () => {
    expect(budgetPeriodBounds('day', Date.UTC(2026, 1, 28, 13))).toEqual({
      start: Date.UTC(2026, 1, 28),
      end: Date.UTC(2026, 2, 1),
    });
    expect(budgetPeriodBounds('month', Date.UTC(2026, 11, 31, 23, 59))).toEqual({
      start: Date.UTC(2026, 11, 1),
      end: Date.UTC(2027, 0, 1),
    });
  });
});
