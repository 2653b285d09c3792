/**
 * Budgets under concurrency on one gateway: 200 concurrent requests against a $0.01 budget (a key's,
 * and a team's from config) spend at most the budget (the stated worst overshoot is 0 when the
 * provider bills no more than the worst case: docs/access-control.md), and every refusal is an
 * event that names the budget and its reset.
 */
import { afterEach, describe, expect, it } from 'vitest';
import OpenAI, { APIError } from 'openai';
import { managedSetup, type ManagedSetup } from './managed-setup.js';

const BUDGET_MICRO_USD = 10_000; // $0.01
const N = 200;

async function fire(client: OpenAI, n: number): Promise<Array<{ ok: boolean; err: APIError | null }>> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        await client.chat.completions.create({
          model: 'gpt-4.1',
          max_tokens: 100,
          messages: [{ role: 'user', content: `question number ${i}` }],
        });
        return { ok: true, err: null };
      } catch (err) {
        if (err instanceof APIError) return { ok: false, err };
        throw err;
      }
    }),
  );
}

describe('budgets hold under 200 concurrent requests on one gateway', () => {
  let s: ManagedSetup;
  afterEach(async () => s?.close());

  it('a key budget of $0.01: spend <= budget, every refusal a BLOCKED event naming the budget and its reset', async () => {
    s = await managedSetup();
    const { key, id } = await s.newKey({ budgetMicroUsd: BUDGET_MICRO_USD, budgetPeriod: 'day' });
    const results = await fire(s.client(key), N);
    const refused = results.filter((r) => !r.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.err!.status).toBe(429);
      expect(r.err!.code).toBe('TG_ERR_POLICY_BUDGET_EXCEEDED');
      expect(r.err!.message).toContain(`budget: key ${id} (daily)`);
      expect(r.err!.message).toMatch(/resets_at: \d{4}-\d\d-\d\dT00:00:00\.000Z/);
    }
    const events = await s.events();
    expect(events).toHaveLength(N);
    const spent = events.reduce((sum, e) => sum + (e.cost_micro_usd ?? 0), 0);
    // The figures docs/access-control.md records (one run).
    console.log(
      `[budget-concurrency] key budget ${BUDGET_MICRO_USD} µUSD, ${N} concurrent: admitted ${N - refused.length}, refused ${refused.length}, spent ${spent} µUSD`,
    );
    expect(spent).toBeLessThanOrEqual(BUDGET_MICRO_USD);
    const blocked = events.filter((e) => e.status === 'BLOCKED');
    expect(blocked).toHaveLength(refused.length);
    expect(blocked.every((e) => e.error_code === 'TG_ERR_POLICY_BUDGET_EXCEEDED')).toBe(true);
    expect(blocked.every((e) => e.error_message?.includes(`key ${id}`))).toBe(true);
    // Refused requests never reached the provider.
    expect(s.mock.requests).toHaveLength(N - refused.length);
    // Sequentially, the budget is used up to within one worst case: the next request is refused.
    let more = 0;
    while ((await fire(s.client(key), 1))[0]!.ok) more++;
    const after = (await s.events()).reduce((sum, e) => sum + (e.cost_micro_usd ?? 0), 0);
    console.log(
      `[budget-concurrency] key budget, then one by one: ${more} more admitted, spent ${after} µUSD`,
    );
    expect(after).toBeLessThanOrEqual(BUDGET_MICRO_USD);
    // gpt-4.1 at $8/M output: a request's worst case here is ~0.9 k µ$, its real cost ~0.1 k µ$.
    expect(after).toBeGreaterThan(BUDGET_MICRO_USD - 1_000);
    expect(more).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('an enforced team budget of $0.01 from config holds the same way, across keys of that team', async () => {
    s = await managedSetup({
      budgets: [{ scope: 'team', subject: 'payments', period: 'month', limit_usd: 0.01, enforce: true }],
    });
    const a = await s.newKey({ team: 'payments' });
    const b = await s.newKey({ team: 'payments' });
    const results = (await Promise.all([fire(s.client(a.key), N / 2), fire(s.client(b.key), N / 2)])).flat();
    const refused = results.filter((r) => !r.ok);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.err!.message.includes('budget: team payments (monthly)'))).toBe(true);
    const events = await s.events();
    expect(events).toHaveLength(N);
    expect(events.every((e) => e.team === 'payments')).toBe(true);
    const spent = events.reduce((sum, e) => sum + (e.cost_micro_usd ?? 0), 0);
    console.log(
      `[budget-concurrency] team budget ${BUDGET_MICRO_USD} µUSD, ${N} concurrent over 2 keys: admitted ${N - refused.length}, refused ${refused.length}, spent ${spent} µUSD`,
    );
    expect(spent).toBeLessThanOrEqual(BUDGET_MICRO_USD);
    expect(events.filter((e) => e.status === 'BLOCKED')).toHaveLength(refused.length);
  }, 60_000);
});
