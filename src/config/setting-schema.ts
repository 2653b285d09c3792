/**
 * The building blocks of the config schema (config-schema.ts): a key's doc and variable
 * (`setting`), a section with defaults (`section`), and the value types several keys share.
 */
import { z } from 'zod';
import { parseDurationMs } from '../core/duration.js';

/** What a key's metadata carries besides zod's own: its doc line and the variable that sets it. */
export interface SettingMeta {
  /** One line for docs/configuration.md. */
  description: string;
  /** The `TOLLGATE_*` variable that sets this key (the CLI reads it; file < env < flags). */
  env?: string;
  /** For keys without a zod default (detector thresholds): the value used when absent. */
  shownDefault?: unknown;
}

/** Attaches a key's doc line (and env variable) to its schema; apply it last, after `.default()`. */
export function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
  return schema.meta({ ...meta });
}

/** A section: a strict object whose absent keys take their defaults. */
export function section<S extends z.ZodRawShape>(shape: S, description: string) {
  // `{}` parses: every key of a section has a default (the generic shape cannot show it to tsc).
  return z
    .strictObject(shape)
    .prefault({} as z.input<z.ZodObject<S, z.core.$strict>>)
    .meta({ description });
}

/** A finite number >= 0. */
export const nonNegative = () => z.number().finite().min(0);
/** A finite number > 0. */
export const positive = () => z.number().finite().positive();
/** What happens when something the audit trail depends on is down. */
export const failurePolicy = z.enum(['fail-open', 'fail-closed']);
/** A length of time: milliseconds, or `90s`, `15m`, `2h`, `30d`, `2w`; parsed to milliseconds. */
export const durationMs = () =>
  z.union([positive(), z.string()]).transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === null || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 2h or 30d, or milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

/** An http:// or https:// URL. */
export const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'must be an http:// or https:// URL' },
);

/** An integer > 0. */
export const positiveInt = (): z.ZodNumber => z.number().int().positive();
