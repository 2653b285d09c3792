import type { Alert } from './alert.js';
import { severityRank } from './alert.js';
import type { AlertFilter } from './alert-store.js';

/** True when the alert passes the filter; the one definition of the filter's meaning for in-memory stores. */
export function matchesAlertFilter(alert: Alert, filter: AlertFilter): boolean {
  if (filter.sinceMs !== undefined && Date.parse(alert.last_seen) < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && Date.parse(alert.first_seen) >= filter.untilMs) return false;
  if (filter.minSeverity !== undefined && severityRank(alert.severity) < severityRank(filter.minSeverity))
    return false;
  if (filter.ruleId !== undefined && alert.rule_id !== filter.ruleId) return false;
  if (filter.status !== undefined && alert.status !== filter.status) return false;
  return true;
}
