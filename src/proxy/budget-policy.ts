import type { AuditEvent } from '../core/audit-event.js';
import type { BudgetTracker } from '../pricing/budgets.js';
import type { Admission, AdmissionContext, RequestPolicy } from './request-policy.js';

/**
 * Budgets from config (per key, user, feature or team; daily or monthly): wraps the mode's policy,
 * refuses with BLOCKED / TG_ERR_POLICY_BUDGET_EXCEEDED once an enforced budget of any of the
 * request's subjects is spent, and adds every finished request's cost. Alerts at 80 % and 100 %
 * come from the `cost.budget` detector, which watches the same budgets.
 */
export class BudgetPolicy implements RequestPolicy {
  constructor(
    private readonly inner: RequestPolicy,
    private readonly tracker: BudgetTracker,
  ) {}

  async admit(ctx: AdmissionContext): Promise<Admission> {
    const admission = await this.inner.admit(ctx);
    if (admission.refusal) return admission;
    const a = ctx.attribution;
    const check = this.tracker.check({
      key: admission.auth.virtual_key_id ?? admission.auth.api_key_id,
      user: a?.user ?? null,
      feature: a?.feature ?? null,
      team: a?.team ?? null,
    });
    const innerSettle = admission.settle;
    if (!check.allowed) {
      // Release what the inner policy reserved (limits, key budget) with zero use.
      innerSettle?.({ total_tokens: 0, cost_micro_usd: 0 } as AuditEvent);
      return {
        auth: admission.auth,
        refusal: { code: 'TG_ERR_POLICY_BUDGET_EXCEEDED', kind: 'policy', retryAfterSec: 60 },
      };
    }
    return {
      ...admission,
      settle: (event: AuditEvent) => {
        innerSettle?.(event);
        this.tracker.record(event);
      },
    };
  }
}
