import { BudgetGuard, type BudgetReservation } from '../access/budget-guard.js';
import type { BudgetState } from '../access/budget-state.js';
import { worstCaseOf } from '../access/worst-case-cost.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { validateBudgets, type BudgetConfig, type BudgetScope } from '../pricing/budgets.js';
import type { PriceCatalog } from '../pricing/catalog.js';
import { budgetRefusal } from './budget-refusal.js';
import { requestSubjects } from './request-subjects.js';
import type { Admission, AdmissionContext, RequestPolicy } from './request-policy.js';

/** A refused or failed admission settles the inner policy's reservations with zero use. */
const NOTHING_USED = { total_tokens: 0, cost_micro_usd: 0 } as AuditEvent;

/**
 * Enforced budgets from config (per key, user, feature or team; daily or monthly): wraps the mode's
 * policy and reserves the request's worst-case cost on every enforced budget of its subjects
 * through the same {@link BudgetGuard} as key budgets (in process, or shared by replicas through
 * Redis), refusing with BLOCKED / TG_ERR_POLICY_BUDGET_EXCEEDED naming the budget when one cannot
 * hold it; each reservation settles to the event's cost when the request ends. Budget subjects
 * are named `<scope>:<subject>` in the guard. Alerts at 80 % and 100 % come from the `cost.budget`
 * detector, which watches the same budgets.
 */
export class BudgetPolicy implements RequestPolicy {
  private readonly enforced = new Map<BudgetScope, Map<string, BudgetConfig[]>>();

  constructor(
    private readonly inner: RequestPolicy,
    budgets: readonly BudgetConfig[],
    private readonly guard: BudgetGuard,
    private readonly catalog: PriceCatalog,
  ) {
    for (const b of budgets) {
      if (!b.enforce) continue;
      const scope = this.enforced.get(b.scope) ?? new Map<string, BudgetConfig[]>();
      scope.set(b.subject, [...(scope.get(b.subject) ?? []), b]);
      this.enforced.set(b.scope, scope);
    }
  }

  async admit(ctx: AdmissionContext): Promise<Admission> {
    const admission = await this.inner.admit(ctx);
    if (admission.refusal) return admission;
    const subjects = requestSubjects(ctx, admission);
    const matching: BudgetConfig[] = [];
    for (const [scope, bySubject] of this.enforced) {
      const subject = subjects[scope];
      if (subject) matching.push(...(bySubject.get(subject) ?? []));
    }
    if (matching.length === 0) return admission;
    const cost = worstCaseOf(this.catalog, ctx.model, ctx.body, ctx.now).costMicroUsd ?? 0;
    const held: BudgetReservation[] = [];
    const release = (): void => {
      admission.settle?.(NOTHING_USED);
      for (const r of held) void this.guard.settle(r, 0);
    };
    for (const b of matching) {
      let decision;
      try {
        decision = await this.guard.reserve(
          {
            id: `${b.scope}:${b.subject}`,
            budgetMicroUsd: Math.round(b.limit_usd * 1_000_000),
            budgetPeriod: b.period,
          },
          cost,
        );
      } catch {
        // The period's spend could not be seeded (the store is down): refuse, as ManagedPolicy does.
        release();
        return {
          auth: admission.auth,
          refusal: { code: 'TG_ERR_STORE_UNAVAILABLE', kind: 'policy', retryAfterSec: 1 },
        };
      }
      if (!decision.ok) {
        release();
        return {
          auth: admission.auth,
          ...(admission.attribution ? { attribution: admission.attribution } : {}),
          refusal: budgetRefusal(`${b.scope} ${b.subject}`, b.period, decision),
        };
      }
      if (decision.reservation) held.push(decision.reservation);
    }
    const innerSettle = admission.settle;
    return {
      ...admission,
      settle: (event: AuditEvent) => {
        innerSettle?.(event);
        for (const r of held) void this.guard.settle(r, event.cost_micro_usd);
      },
    };
  }
}

/**
 * The policy with config budgets wired (the policy itself when no budget is enforced): spend of a
 * budget's current period is seeded from the stored events (`spentSince`), so a restart does not
 * reset it, then kept in `state` (shared by replicas when it is Redis).
 */
export function withConfigBudgets(
  policy: RequestPolicy,
  o: {
    budgets: readonly BudgetConfig[];
    state: BudgetState;
    clock: Clock;
    catalog: PriceCatalog;
    spentSince: (scope: BudgetScope, subject: string, sinceMs: number) => Promise<number>;
  },
): RequestPolicy {
  validateBudgets(o.budgets);
  if (!o.budgets.some((b) => b.enforce)) return policy;
  const guard = new BudgetGuard({
    state: o.state,
    clock: o.clock,
    loadSpent: (id, startMs) => {
      const colon = id.indexOf(':');
      return o.spentSince(id.slice(0, colon) as BudgetScope, id.slice(colon + 1), startMs);
    },
  });
  return new BudgetPolicy(policy, o.budgets, guard, o.catalog);
}
