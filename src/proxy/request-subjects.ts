import type { BudgetScope } from '../pricing/budgets.js';
import type { Admission, AdmissionContext } from './request-policy.js';

/**
 * Who a request counts against, per scope, as its event will say: the key (virtual key id, else
 * the provider key's fingerprint), and the user, team and feature, where the key's own user and
 * team (admission.attribution) win over the x-tollgate-* headers.
 */
export function requestSubjects(
  ctx: AdmissionContext,
  admission: Admission,
): Record<BudgetScope, string | null | undefined> {
  const a = { ...ctx.attribution, ...admission.attribution };
  return {
    key: admission.auth.virtual_key_id ?? admission.auth.api_key_id,
    user: a.user,
    feature: a.feature,
    team: a.team,
  };
}
