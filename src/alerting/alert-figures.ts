import type { AlertFigures } from './alert.js';

/**
 * One figure of an alert in its unit, for people: a ratio as a percentage (`36.8 %`), micro-USD as
 * dollars (`$12.50`, `$0.42/h`), counts with at most two decimals and their unit (`12 failures`).
 * The stored figures stay raw numbers (webhooks and `--json` carry them with `unit`).
 */
export function formatFigure(value: number, unit: string): string {
  if (unit === 'ratio') return `${(value * 100).toFixed(1)} %`;
  if (unit === 'micro_usd') return usd(value);
  if (unit === 'micro_usd_per_hour') return `${usd(value)}/h`;
  const n = Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2);
  return `${n} ${unit.replace(/_/g, ' ')}`;
}

/** `observed …, baseline …, threshold …, window … s` with each figure in its unit. */
export function figuresText(f: AlertFigures): string {
  const window = f.window_ms > 0 ? `, window ${Math.round(f.window_ms / 1000)} s` : '';
  return `observed ${formatFigure(f.observed, f.unit)}, baseline ${f.baseline === null ? '—' : formatFigure(f.baseline, f.unit)}, threshold ${formatFigure(f.threshold, f.unit)}${window}`;
}

function usd(micro: number): string {
  const d = micro / 1_000_000;
  return d >= 1 ? `$${d.toFixed(2)}` : `$${d.toFixed(6).replace(/0{1,4}$/, '')}`;
}
