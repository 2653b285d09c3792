import { terminalSafe } from './terminal-text.js';

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
  align?: 'left' | 'right';
  /** Longest cell shown; longer ones are cut with an ellipsis. */
  max?: number;
  /** Least width: tables printed in pieces (`events --follow`) line up when every column has one. */
  width?: number;
}

/** An aligned plain-text table; every cell passes through `terminalSafe`. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const s = terminalSafe(c.value(r));
      return c.max !== undefined && s.length > c.max ? `${s.slice(0, c.max - 1)}…` : s;
    }),
  );
  const widths = columns.map((c, i) =>
    Math.max(c.width ?? 0, c.header.length, ...cells.map((row) => row[i]!.length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}

/** Colour only on a TTY (and never when NO_COLOR is set, https://no-color.org). */
export function colourer(
  enabled: boolean,
): (code: 'red' | 'green' | 'yellow' | 'dim' | 'bold', s: string) => string {
  const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
  return (code, s) => (enabled ? `\u001b[${codes[code]}m${s}\u001b[0m` : s);
}

/** Micro-USD as dollars for people; null (unpriced) shows as `—`. */
export function formatUsd(micro: number | null | undefined): string {
  if (micro === null || micro === undefined) return '—';
  const usd = micro / 1_000_000;
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(6)}`;
}
