import { TollgateError } from '../core/errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Reads `--since`/`--until`: a duration back from now (`90s`, `15m`, `1h`, `30d`, `2w`) or an
 * ISO-8601 date. Returns epoch ms.
 */
export function parseTimeBound(value: string, nowMs: number): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (m) return nowMs - Number(m[1]) * UNITS[m[2]!]!;
  const t = Date.parse(value);
  if (!Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}/.test(value)) return t;
  throw new TollgateError('TG_ERR_USAGE', { option: 'since/until' });
}
