import type { Alert } from './alert.js';

/** Pads columns to their widest cell; numbers right-aligned. */
function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return cells
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `tollgate alerts` for people: one aligned row per alert, newest first as given. */
export function formatAlertsTable(alerts: readonly Alert[]): string {
  if (alerts.length === 0) return 'no alerts';
  return table(
    ['LAST SEEN', 'SEVERITY', 'RULE', 'SUBJECT', 'COUNT', 'STATUS', 'TITLE', 'ID'],
    alerts.map((a) => [
      a.last_seen.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      a.severity,
      a.rule_id,
      `${a.subject.kind} ${a.subject.value}`,
      a.count,
      a.status,
      a.title,
      a.id,
    ]),
  );
}

/** `tollgate alerts --json`: one JSON object per line. */
export function formatAlertsJsonLines(alerts: readonly Alert[]): string {
  return alerts.map((a) => JSON.stringify(a)).join('\n');
}
