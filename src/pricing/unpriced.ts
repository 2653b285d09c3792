import type { AuditEvent } from '../core/audit-event.js';

/**
 * The one definition of an unpriced request, shared by the rollups (cost reports, dashboard),
 * `/metrics` and the demo: a request whose cost is unknown (`cost_micro_usd` null: its model has
 * no price in the catalog, or its usage counts were unusable), whatever its tokens. Such a
 * request is counted, never added as $0. Administrative events are not requests; callers leave
 * them out before asking.
 */
export function isUnpriced(e: Pick<AuditEvent, 'cost_micro_usd'>): boolean {
  return e.cost_micro_usd === null;
}
