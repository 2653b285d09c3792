/** Human and JSON renderings of a DoctorReport. */
import type { DoctorReport, FindingLevel } from './doctor-report.js';

const LABEL: Record<FindingLevel, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL' };
// ANSI SGR (ECMA-48 §8.3.117): 32 green, 33 yellow, 31 red, 1 bold, 2 dim.
const COLOUR: Record<FindingLevel, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[1;31m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/**
 * Aligned text: one line per finding (level, id, title), then detail and fix indented under the
 * title for anything not ok. Colour only when `color` is true (the CLI passes `stdout.isTTY`).
 */
export function formatDoctorReport(report: DoctorReport, options: { color?: boolean } = {}): string {
  const color = options.color === true;
  const paint = (code: string, s: string): string => (color ? `${code}${s}${RESET}` : s);
  const idWidth = Math.max(...report.findings.map((f) => f.id.length), 2);
  const indent = ' '.repeat(2 + 4 + 2 + idWidth + 2);
  const lines: string[] = [
    `tollgate doctor: ${report.upstreamUrl}` +
      ` (provider ${report.provider ?? 'unknown'}, key ${report.keyPrefix === '' ? '(none shown)' : report.keyPrefix + '…'})`,
    '',
  ];
  for (const f of report.findings) {
    lines.push(`  ${paint(COLOUR[f.level], LABEL[f.level].padEnd(4))}  ${f.id.padEnd(idWidth)}  ${f.title}`);
    if (f.level === 'ok') {
      if (f.detail !== '') lines.push(indent + paint(DIM, f.detail));
      continue;
    }
    if (f.detail !== '') lines.push(indent + f.detail);
    if (f.fix !== null) lines.push(indent + paint(COLOUR[f.level], 'fix: ') + f.fix);
  }
  const fails = report.findings.filter((f) => f.level === 'fail').length;
  const warns = report.findings.filter((f) => f.level === 'warn').length;
  const tally = `${fails} failure${fails === 1 ? '' : 's'}, ${warns} warning${warns === 1 ? '' : 's'}`;
  lines.push(
    '',
    report.healthy ? paint(COLOUR.ok, `healthy (${tally})`) : paint(COLOUR.fail, `NOT healthy (${tally})`),
  );
  return lines.join('\n') + '\n';
}

/** The `--json` form: one JSON document. */
export function doctorReportToJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
