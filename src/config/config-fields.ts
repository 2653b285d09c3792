/**
 * The config schema read as a list of keys (path, kind, default, variable, doc): what the env
 * mapping, the coercion of env and flag strings, the "did you mean" hints and
 * docs/configuration.md are derived from. Reads zod's public definition (`_zod.def`), the way
 * zod's own JSON Schema generator does.
 */
import type { z } from 'zod';
import { configSchema, type SettingMeta } from './config-schema.js';

/** What a key holds, as far as coercion and docs care. */
export type FieldKind = 'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'list' | 'mapping' | 'other';

/** One settable key of the config. */
export interface ConfigField {
  /** Path segments (`['retry', 'max_retries']`); a segment may contain a dot (`volume.spike`). */
  path: string[];
  kind: FieldKind;
  /** Enum values, for `kind: 'enum'`. */
  values: readonly string[];
  nullable: boolean;
  /** The value used when the key is absent (undefined when the owner decides, e.g. detectors). */
  default: unknown;
  description: string;
  env: string | null;
}

/** A section of the config (an object of keys). */
export interface ConfigSection {
  path: string[];
  description: string;
  /** The keys valid directly under it. */
  keys: string[];
  /** True when `false` may stand for the whole section (a detection rule). */
  orFalse: boolean;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  entries?: Record<string, string>;
  values?: unknown[];
  in?: z.ZodType;
  element?: z.ZodType;
  checks?: { _zod: { def: { check: string; format?: string } } }[];
  format?: string;
}

const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const metaOf = (s: z.ZodType): Partial<SettingMeta> => s.meta() ?? {};

/** Peels default/prefault/optional/nullable wrappers; keeps the first doc found on the way. */
function unwrap(schema: z.ZodType): {
  inner: z.ZodType;
  nullable: boolean;
  default: unknown;
  meta: Partial<SettingMeta>;
} {
  let s = schema;
  let nullable = false;
  let dflt: unknown = undefined;
  let meta: Partial<SettingMeta> = {};
  for (;;) {
    meta = { ...metaOf(s), ...meta };
    const d = def(s);
    if (d.type === 'default' && dflt === undefined) dflt = d.defaultValue;
    if (d.type === 'nullable') nullable = true;
    if (['default', 'prefault', 'optional', 'nullable'].includes(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return { inner: s, nullable, default: dflt === undefined ? meta.shownDefault : dflt, meta };
  }
}

/** The object schema of a section (a detection rule is `false` or an object). */
function objectOf(inner: z.ZodType): { shape: Record<string, z.ZodType>; orFalse: boolean } | null {
  const d = def(inner);
  if (d.type === 'object' && d.shape) return { shape: d.shape, orFalse: false };
  if (d.type === 'union') {
    for (const o of d.options ?? []) {
      const sub = objectOf(unwrap(o).inner);
      if (sub) return { shape: sub.shape, orFalse: true };
    }
  }
  return null;
}

function kindOf(inner: z.ZodType): { kind: FieldKind; values: readonly string[] } {
  const d = def(inner);
  if (d.type === 'number') {
    const int = d.format === 'safeint' || (d.checks ?? []).some((c) => c._zod.def.format === 'safeint');
    return { kind: int ? 'integer' : 'number', values: [] };
  }
  if (d.type === 'boolean') return { kind: 'boolean', values: [] };
  if (d.type === 'string') return { kind: 'string', values: [] };
  if (d.type === 'enum') return { kind: 'enum', values: Object.values(d.entries ?? {}) };
  if (d.type === 'array') return { kind: 'list', values: [] };
  if (d.type === 'record') return { kind: 'mapping', values: [] };
  return { kind: 'other', values: [] };
}

function walk(schema: z.ZodType, path: string[], fields: ConfigField[], sections: ConfigSection[]): void {
  const u = unwrap(schema);
  const obj = objectOf(u.inner);
  if (obj) {
    sections.push({
      path,
      description: u.meta.description ?? '',
      keys: Object.keys(obj.shape),
      orFalse: obj.orFalse,
    });
    for (const [k, sub] of Object.entries(obj.shape)) walk(sub, [...path, k], fields, sections);
    return;
  }
  // A list of objects (budgets): its items' keys, as a section at `path.*`, for "did you mean".
  const item = def(u.inner).type === 'array' ? def(u.inner).element : undefined;
  const itemObject = item ? objectOf(unwrap(item).inner) : null;
  if (itemObject)
    sections.push({
      path: [...path, '*'],
      description: '',
      keys: Object.keys(itemObject.shape),
      orFalse: false,
    });
  fields.push({
    path,
    ...kindOf(u.inner),
    nullable: u.nullable,
    default: u.default,
    description: u.meta.description ?? '',
    env: u.meta.env ?? null,
  });
}

function read(): { fields: ConfigField[]; sections: ConfigSection[] } {
  const fields: ConfigField[] = [];
  const sections: ConfigSection[] = [];
  walk(configSchema, [], fields, sections);
  return { fields, sections };
}

const SCHEMA = read();

/** Every settable key, in schema order. */
export const CONFIG_FIELDS: readonly ConfigField[] = SCHEMA.fields;

/** Every section (the root first), in schema order. */
export const CONFIG_SECTIONS: readonly ConfigSection[] = SCHEMA.sections;

/** The key at `path`, if the schema has one there. */
export function fieldAt(path: readonly string[]): ConfigField | undefined {
  return CONFIG_FIELDS.find((f) => f.path.length === path.length && f.path.every((p, i) => p === path[i]));
}

/** The section at `path` (a list index matches `*`), if the schema has one there. */
export function sectionAt(path: readonly PropertyKey[]): ConfigSection | undefined {
  const segs = path.map((p) => (typeof p === 'number' ? '*' : String(p)));
  return CONFIG_SECTIONS.find((s) => s.path.length === segs.length && s.path.every((p, i) => p === segs[i]));
}

/**
 * Turns an env or flag string into the key's type (`'9000'` → 9000, `'true'` → true); a string
 * that is not one is kept, so the schema reports the key with the type it expected.
 */
export function coerceSetting(field: ConfigField | undefined, raw: string): unknown {
  if (!field) return raw;
  if (field.nullable && raw === 'null') return null;
  if (field.kind === 'number' || field.kind === 'integer') {
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  if (field.kind === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
  }
  return raw;
}
