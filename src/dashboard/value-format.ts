import { formatMicroUsd } from '../reports/cost-report.js';

/** `$12.345678` with six decimals (exact, from integer micro-USD). */
export function usd(micro: number): string {
  return `$${formatMicroUsd(micro)}`;
}

/** Thousands separators. */
export function int(n: number): string {
  return n.toLocaleString('en-US');
}

/** `2026-01-01 12:34:56Z` for tables. */
export function shortTime(iso: string | number): string {
  const d = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}

/** An hour or day bucket label. */
export function bucketLabel(startMs: number, bucketMs: number): string {
  const iso = new Date(startMs).toISOString();
  return bucketMs < 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}Z` : iso.slice(0, 10);
}

/** `12.5%`. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}
