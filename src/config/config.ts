import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TollgateError } from '../core/errors.js';
import { isPostgresUrl } from '../store/postgres-url.js';
import { configInvalid } from './config-error.js';
import { CONFIG_FIELDS, coerceSetting, fieldAt, sectionAt } from './config-fields.js';
import { configSchema, type TollgateConfig } from './config-schema.js';

/** The effective configuration; its keys, types and defaults are defined in config-schema.ts. */
export type { TollgateConfig };

/** Every key at its default (what an empty config file means). */
export const DEFAULT_CONFIG: TollgateConfig = configSchema.parse({});

/** Environment variables read (by the CLI) and the config key each sets (from the schema's `env`). */
export const ENV_VARS: Readonly<Record<string, string>> = Object.fromEntries(
  CONFIG_FIELDS.filter((f) => f.env !== null).map((f) => [f.env!, f.path.join('.')]),
);

/**
 * Builds the effective configuration. `file` is `tollgate.config.yaml` (or `--config FILE`);
 * `env` is the process environment (passed in: only the CLI reads process.env); `overrides` are
 * flags, by dotted key (`'retry.max_retries'`). Env and flag strings take the key's type; the file
 * must have the right types. Throws TG_ERR_CONFIG_INVALID naming the first bad key (see config-error.ts).
 */
export function loadConfig(options: {
  file?: string | null;
  env?: Record<string, string | undefined>;
  overrides?: Record<string, unknown>;
}): TollgateConfig {
  const merged: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const path = options.file ?? (existsSync('tollgate.config.yaml') ? 'tollgate.config.yaml' : null);
  if (path) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { file: path }, { cause: err });
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc))
        throw new TollgateError('TG_ERR_CONFIG_INVALID', { file: path, problem: 'expected a mapping' });
      deepMerge(merged, withoutEmptySections(doc as Record<string, unknown>, []));
    }
  }
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const v = options.env?.[name];
    if (v === undefined || v === '') continue;
    setPath(merged, key, coerceSetting(fieldAt(key.split('.')), v));
    origins.set(key, name);
  }
  for (const [key, v] of Object.entries(options.overrides ?? {})) {
    if (v === undefined) continue;
    setPath(merged, key, typeof v === 'string' ? coerceSetting(fieldAt(key.split('.')), v) : v);
    origins.set(key, 'flag');
  }
  // reportInput: only to tell "required" from "wrong type"; the value never reaches the error.
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success) throw configInvalid(parsed.error.issues, origins, path);
  return parsed.data;
}

/**
 * A section written with nothing under it (`alerts:` with every line commented out) is YAML null;
 * it means "defaults", as an absent section does.
 */
function withoutEmptySections(doc: Record<string, unknown>, at: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const path = [...at, k];
    const section = sectionAt(path);
    if (v === null && section && !section.orFalse) continue;
    out[k] =
      section && v && typeof v === 'object' && !Array.isArray(v)
        ? withoutEmptySections(v as Record<string, unknown>, path)
        : v;
  }
  return out;
}

/**
 * Events per store transaction when `writer.batch_size` is not set: 512 on SQLite; 2048 on
 * PostgreSQL, where a batch's round trips and shared-rollup upserts are spread over more events
 * (10–20 % less CPU per event, 40–80 % more events/s measured in bench/postgres.bench.ts).
 */
export function writerBatchSize(cfg: TollgateConfig): number {
  if (cfg.writer.batch_size !== null) return cfg.writer.batch_size;
  return isPostgresUrl(cfg.db) ? 2048 : 512;
}

/** The folder for local secrets and spool. */
export function dataDir(cfg: TollgateConfig): string {
  if (cfg.data_dir) return resolve(cfg.data_dir);
  if (isPostgresUrl(cfg.db)) return resolve('./data');
  return dirname(resolve(cfg.db));
}

function deepMerge(target: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    const t = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t)) {
      deepMerge(t as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      target[k] = v;
    }
  }
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (!o[p] || typeof o[p] !== 'object') o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]!] = value;
}
