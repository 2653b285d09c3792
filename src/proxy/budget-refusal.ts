import type { BudgetDecision } from '../access/budget-guard.js';
import type { Refusal } from './request-policy.js';

/** Micro-USD as a USD decimal with all six places (`0.009800`). */
function usdText(micro: number): string {
  return (micro / 1_000_000).toFixed(6);
}

/**
 * The refusal of a spent budget: BLOCKED / TG_ERR_POLICY_BUDGET_EXCEEDED, `Retry-After` to the
 * period's end, and a detail that names the budget (`key vk_…`, `team payments`) and when it resets,
 * so the client and the event both say which budget refused and until when.
 */
export function budgetRefusal(
  budget: string,
  period: 'day' | 'month' | null,
  decision: Extract<BudgetDecision, { ok: false }>,
): Refusal {
  return {
    code: decision.errorCode,
    kind: 'policy',
    retryAfterSec: decision.retryAfterSeconds,
    detail: {
      budget: `${budget} (${period === 'month' ? 'monthly' : 'daily'})`,
      resets_at: new Date(decision.resetsAtMs).toISOString(),
      // What the cost.budget detector reads from the event's error_message to tell a spent budget
      // (it raises "Budget exhausted") from a request too large for what is left.
      spent_usd: usdText(decision.spentMicroUsd),
      limit_usd: usdText(decision.limitMicroUsd),
    },
  };
}
