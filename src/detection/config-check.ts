import { TollgateError } from '../core/errors.js';

/** Merges a partial detector config over its defaults and rejects non-positive or non-finite numbers. */
export function resolveConfig<T extends object>(
  rule: string,
  defaults: T,
  override: Partial<T> | undefined,
): T {
  const merged: T = { ...defaults, ...(override ?? {}) };
  for (const [field, value] of Object.entries(merged)) {
    if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0)) {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { rule, field });
    }
  }
  return merged;
}
