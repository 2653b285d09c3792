import { TollgateError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A window start from a relative duration (`90m`, `24h`, `7d`) or an ISO-8601 time; a bad value
 * is TG_ERR_ADMIN_BAD_REQUEST naming the parameter.
 */
export function parseSince(text: string, nowMs: number, parameter: string): number {
  const rel = /^(\d{1,6})([mhd])$/.exec(text);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter });
  return t;
}
