/**
 * Spend budgets of config, per key, user, feature or team, per UTC day or month: their shape and
 * validation. Enforcement (`enforce: true`) reserves each request's worst case against them
 * (src/proxy/budget-policy.ts, through the same BudgetGuard as key budgets); the `cost.budget`
 * detector raises their 80 % and 100 % alerts.
 */
import { TollgateError } from '../core/errors.js';

export type BudgetScope = 'key' | 'user' | 'feature' | 'team';
export type BudgetPeriod = 'day' | 'month';

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
