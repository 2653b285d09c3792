/**
 * The 100 % budget alert under enforcement (issue 20): admission reserves each request's worst
 * case, so an enforced budget refuses before its spend reaches 100 % and the crossing alone never
 * fires. A refusal once the spend is at `exhaustedFraction` (0.9) of the budget raises "Budget
 * exhausted" (cost.budget, HIGH); a request refused only because it is larger than what is left
 * raises nothing.
 */
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { managedSetup, type ManagedSetup } from './managed-setup.js';

const BUDGET_MICRO_USD = 2_000; // $0.002

async function ask(client: OpenAI, maxTokens: number): Promise<boolean> {
  try {
    await client.chat.completions.create({
      model: 'gpt-4.1',
      max_tokens: maxTokens,
      messages: [{ role: 'user', content: 'hi' }],
    });
    return true;
  } catch (err) {
    if (err instanceof APIError && err.status === 429) return false;
    throw err;
  }
}

describe('budget exhausted alert on refusal', () => {
  let s: ManagedSetup;
  afterEach(async () => s?.close());

  it('fires once the spend is nearly the budget, naming the budget, its spend and reset', async () => {
    s = await managedSetup();
    const { key, id } = await s.newKey({ budgetMicroUsd: BUDGET_MICRO_USD, budgetPeriod: 'day' });
    const client = s.client(key);
    let admitted = 0;
    while (await ask(client, 16)) admitted++;
    expect(admitted).toBeGreaterThan(1);
    const events = await s.events();
    const spent = events.reduce((n, e) => n + (e.cost_micro_usd ?? 0), 0);
    // Enforcement kept the spend under the budget: a 100 % crossing never happened...
    expect(spent).toBeLessThan(BUDGET_MICRO_USD);
    expect(spent).toBeGreaterThanOrEqual(0.9 * BUDGET_MICRO_USD);
    const refusal = events.at(-1)!;
    expect(refusal).toMatchObject({ status: 'BLOCKED', error_code: 'TG_ERR_POLICY_BUDGET_EXCEEDED' });
    expect(refusal.error_message).toContain(`spent_usd: ${(spent / 1e6).toFixed(6)}`);
    expect(refusal.error_message).toContain('limit_usd: 0.002000');
    // ...yet the refusal raised "Budget exhausted".
    await s.tg.flushAlerts();
    const alerts = await s.tg.alerts.list({ ruleId: 'cost.budget' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      severity: 'HIGH',
      title: `Budget exhausted: key ${id} (day)`,
      subject: {
        kind: 'budget',
        value: expect.stringMatching(new RegExp(`^key:${id}/day:\\d{4}-\\d\\d-\\d\\d$`)),
      },
    });
    expect(alerts[0]!.evidence.figures).toMatchObject({ observed: spent, threshold: BUDGET_MICRO_USD });
    // Later refusals of the same budget and day are the same alert.
    expect(await ask(client, 16)).toBe(false);
    await s.tg.flushAlerts();
    const again = await s.tg.alerts.list({ ruleId: 'cost.budget' });
    expect(again).toHaveLength(1);
    expect(again[0]!.count).toBe(2);
  });

  it('does not fire for a request larger than what is left of a budget barely used', async () => {
    s = await managedSetup();
    const { key } = await s.newKey({ budgetMicroUsd: BUDGET_MICRO_USD, budgetPeriod: 'day' });
    // 1 000 output tokens of gpt-4.1 ($8 / M) is a worst case of $0.008: past the whole budget.
    expect(await ask(s.client(key), 1000)).toBe(false);
    const [refusal] = await s.events();
    expect(refusal).toMatchObject({ status: 'BLOCKED', error_code: 'TG_ERR_POLICY_BUDGET_EXCEEDED' });
    expect(refusal!.error_message).toContain('spent_usd: 0.000000');
    await s.tg.flushAlerts();
    expect(await s.tg.alerts.list({ ruleId: 'cost.budget' })).toEqual([]);
  });
});
