import { describe, expect, it } from 'vitest';
import { isTollgateError } from '../core/errors.js';
import { validateBudgets, type BudgetConfig } from './budgets.js';

const aliceDaily: BudgetConfig = {
  scope: 'user',
  subject: 'alice',
  period: 'day',
  limit_usd: 10,
  enforce: true,
};

describe('config budgets', () => {
  it('refuses invalid config', () => {
    for (const bad of [
      { ...aliceDaily, limit_usd: 0 },
      { ...aliceDaily, period: 'week' },
      { ...aliceDaily, subject: '' },
    ]) {
      try {
        validateBudgets([bad as BudgetConfig]);
        throw new Error('accepted');
      } catch (err) {
        expect(isTollgateError(err) && err.code).toBe('TG_ERR_CONFIG_INVALID');
      }
    }
    expect(() => validateBudgets([aliceDaily, aliceDaily])).toThrow(/CONFIG_INVALID/);
  });
});
