import type { Alert, AlertChange } from './alert.js';

/** One line for people: `[HIGH] auth.repeated-failures ip 203.0.113.7 — <title> (x12)`. No content, ids and numbers only. */
export function alertLine(alert: Alert, change?: AlertChange): string {
  const prefix = change === 'escalated' ? 'ESCALATED ' : change === 'resolved' ? 'RESOLVED ' : '';
  const times = alert.count > 1 ? ` (x${alert.count})` : '';
  return `${prefix}[${alert.severity}] ${alert.rule_id} ${alert.subject.kind} ${alert.subject.value} — ${alert.title}${times}`;
}
