/**
 * The price catalog: loaded from data (`prices/catalog.yaml`, shipped with the package),
 * validated strictly, optionally merged with a config-provided override file, and indexed so
 * that a reported model name resolves to the row in effect at an event's timestamp.
 *
 * Prices are held as integer micro-USD per million tokens (USD per million × 10^6), so cost
 * arithmetic never touches a float (see cost.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { TollgateError } from '../core/errors.js';
import { modelNameCandidates } from './model-name.js';

/** Rates that switch on above a prompt size (Gemini 2.5 Pro bills prompts > 200k tokens higher). */
export interface LongContextRates {
  /** The tier applies when input tokens (cached ones included) exceed this. */
  above_input_tokens: number;
  input: number;
  output: number;
  cached_input: number | null;
}

/**
 * A price per billed unit other than tokens (Whisper's audio seconds, TTS characters, DALL·E
 * images), as the provider publishes it: `usd` per `per` units ($0.006 per 60 audio seconds).
 */
export interface UnitPrice {
  /** USD for `per` units, as published (at most 6 decimals). */
  usd: number;
  per: number;
  /** Integer micro-USD per million units (pico-USD per unit): the scale token rates use. */
  rate: number;
}

/** One validated catalog row. Rates are integer micro-USD per million tokens. */
export interface PriceRow {
  provider: string;
  /** Canonical catalog name, e.g. `gpt-4.1`, `claude-sonnet-4.5`. */
  model: string;
  /** Other names (dated snapshots, dash spellings) that resolve to this row. Lower case. */
  aliases: readonly string[];
  /** Null only on a row billed by `units` alone (Whisper, TTS, DALL·E): it has no token rates. */
  input: number | null;
  output: number | null;
  /** Null: no separate cached rate; cached input is charged at `input`. */
  cached_input: number | null;
  /** Null: cache writes are charged at `input`. */
  cache_write: number | null;
  /** Null: reasoning tokens are part of output and charged at `output`. */
  reasoning: number | null;
  /** Audio input tokens (GPT-4o transcribe); null: charged at `input`. */
  audio_input: number | null;
  /** Image input tokens (GPT Image edits); null: charged at `input`. */
  image_input: number | null;
  /**
   * Prices per billed unit, by unit name (`audio_second`, `character`,
   * `image_1024x1024_standard`); empty when the model is billed by tokens only.
   */
  units: Readonly<Record<string, UnitPrice>>;
  long_context: LongContextRates | null;
  /**
   * The most output tokens the model can produce in one answer (the provider's documented cap),
   * or null when unknown. Budgets reserve this when a request names no `max_tokens`.
   */
  max_output_tokens: number | null;
  /** `YYYY-MM-DD`, UTC midnight. */
  effective_from: string;
  effective_from_ms: number;
  source: string;
}

/** The validated content of a catalog file, before indexing. */
export interface CatalogData {
  version: string;
  rows: readonly PriceRow[];
}

/** A catalog ready to price events. */
export interface PriceCatalog {
  /** Recorded on every priced event as `pricing_version`. */
  readonly version: string;
  readonly rows: readonly PriceRow[];
  /**
   * The row in effect at `atMs` for a reported model name (aliases, dated snapshots and provider
   * prefixes resolve), or null when the model has no price at that time.
   */
  resolve(reportedModel: string, atMs: number): PriceRow | null;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ROW_KEYS = new Set([
  'provider',
  'model',
  'aliases',
  'input',
  'output',
  'cached_input',
  'cache_write',
  'reasoning',
  'audio_input',
  'image_input',
  'units',
  'long_context',
  'max_output_tokens',
  'effective_from',
  'source',
]);
const LONG_CONTEXT_KEYS = new Set(['above_input_tokens', 'input', 'output', 'cached_input']);
const UNIT_NAME_RE = /^[a-z][a-z0-9_]*$/;

/** Where the catalog shipped with the package lives (`prices/` at the package root). */
export function defaultCatalogPath(): string {
  // src/pricing/ and dist/pricing/ are both two levels below the package root.
  return fileURLToPath(new URL('../../prices/catalog.yaml', import.meta.url));
}

function invalid(origin: string, detail: Record<string, string | number>): TollgateError {
  return new TollgateError('TG_ERR_CONFIG_INVALID', { file: origin, ...detail });
}

/** USD per million with at most 6 decimals → integer micro-USD per million. */
function toMicro(value: unknown, origin: string, row: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(origin, { row, field, reason: 'price must be a non-negative number' });
  }
  const micro = Math.round(value * 1_000_000);
  // Reject sub-micro precision instead of silently rounding a price.
  if (Math.abs(micro - value * 1_000_000) > 1e-6 * Math.max(1, micro)) {
    throw invalid(origin, { row, field, reason: 'price has more than 6 decimals' });
  }
  return micro;
}

function optionalMicro(value: unknown, origin: string, row: number, field: string): number | null {
  return value === undefined || value === null ? null : toMicro(value, origin, row, field);
}

function parseDay(value: unknown, origin: string, row: number): { day: string; ms: number } {
  const m = typeof value === 'string' ? DAY_RE.exec(value) : null;
  if (!m) throw invalid(origin, { row, field: 'effective_from', reason: 'must be YYYY-MM-DD' });
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== value) {
    throw invalid(origin, { row, field: 'effective_from', reason: 'not a calendar date' });
  }
  return { day: m[0], ms };
}

function nonEmptyString(value: unknown, origin: string, row: number, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(origin, { row, field, reason: 'must be a non-empty string' });
  }
  return value.trim();
}

/** `units: {name: {usd, per}}` → unit prices; the rate per unit must be a whole number of pico-USD. */
function parseUnits(value: unknown, origin: string, row: number): Record<string, UnitPrice> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(origin, { row, field: 'units', reason: 'must be a mapping of unit name to {usd, per}' });
  }
  const units: Record<string, UnitPrice> = {};
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const field = `units.${name}`;
    if (!UNIT_NAME_RE.test(name))
      throw invalid(origin, { row, field, reason: 'unit names are lower_snake_case' });
    const u = raw as Record<string, unknown> | null;
    if (
      typeof u !== 'object' ||
      u === null ||
      Array.isArray(u) ||
      Object.keys(u).some((k) => k !== 'usd' && k !== 'per')
    ) {
      throw invalid(origin, { row, field, reason: 'must be {usd, per}' });
    }
    const usdMicro = toMicro(u.usd, origin, row, `${field}.usd`);
    const per = u.per ?? 1;
    if (typeof per !== 'number' || !Number.isSafeInteger(per) || per <= 0) {
      throw invalid(origin, { row, field: `${field}.per`, reason: 'must be a positive integer' });
    }
    // micro-USD per million units, exactly: the same scale as token rates, so one sum stays exact.
    const scaled = BigInt(usdMicro) * 1_000_000n;
    if (scaled % BigInt(per) !== 0n) {
      throw invalid(origin, {
        row,
        field,
        reason: 'price per unit is not a whole number of micro-USD per million units',
      });
    }
    units[name] = { usd: usdMicro / 1_000_000, per, rate: Number(scaled / BigInt(per)) };
  }
  return units;
}

function parseRow(raw: unknown, origin: string, i: number): PriceRow {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(origin, { row: i, reason: 'row must be a mapping' });
  }
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    // A misspelt field (`cached_inpt`) would otherwise price cached tokens at the full rate unnoticed.
    if (!ROW_KEYS.has(key)) throw invalid(origin, { row: i, field: key, reason: 'unknown field' });
  }
  const aliasesRaw = r.aliases ?? [];
  if (!Array.isArray(aliasesRaw) || aliasesRaw.some((a) => typeof a !== 'string' || a.trim() === '')) {
    throw invalid(origin, { row: i, field: 'aliases', reason: 'must be a list of names' });
  }
  let longContext: LongContextRates | null = null;
  if (r.long_context !== undefined && r.long_context !== null) {
    const lc = r.long_context as Record<string, unknown>;
    if (typeof lc !== 'object' || Array.isArray(lc)) {
      throw invalid(origin, { row: i, field: 'long_context', reason: 'must be a mapping' });
    }
    for (const key of Object.keys(lc)) {
      if (!LONG_CONTEXT_KEYS.has(key))
        throw invalid(origin, { row: i, field: `long_context.${key}`, reason: 'unknown field' });
    }
    const above = lc.above_input_tokens;
    if (typeof above !== 'number' || !Number.isInteger(above) || above <= 0) {
      throw invalid(origin, {
        row: i,
        field: 'long_context.above_input_tokens',
        reason: 'must be a positive integer',
      });
    }
    longContext = {
      above_input_tokens: above,
      input: toMicro(lc.input, origin, i, 'long_context.input'),
      output: toMicro(lc.output, origin, i, 'long_context.output'),
      cached_input: optionalMicro(lc.cached_input, origin, i, 'long_context.cached_input'),
    };
  }
  const { day, ms } = parseDay(r.effective_from, origin, i);
  const units = parseUnits(r.units, origin, i);
  // A row without token rates must say what it bills instead; a missing `output` is not 0.
  const tokenRated = !(r.input === undefined && r.output === undefined && Object.keys(units).length > 0);
  const maxOut = r.max_output_tokens;
  if (
    maxOut !== undefined &&
    maxOut !== null &&
    (typeof maxOut !== 'number' || !Number.isSafeInteger(maxOut) || maxOut <= 0)
  ) {
    throw invalid(origin, { row: i, field: 'max_output_tokens', reason: 'must be a positive integer' });
  }
  return {
    provider: nonEmptyString(r.provider, origin, i, 'provider').toLowerCase(),
    model: nonEmptyString(r.model, origin, i, 'model').toLowerCase(),
    aliases: (aliasesRaw as string[]).map((a) => a.trim().toLowerCase()),
    input: tokenRated ? toMicro(r.input, origin, i, 'input') : null,
    output: tokenRated ? toMicro(r.output, origin, i, 'output') : null,
    cached_input: optionalMicro(r.cached_input, origin, i, 'cached_input'),
    cache_write: optionalMicro(r.cache_write, origin, i, 'cache_write'),
    reasoning: optionalMicro(r.reasoning, origin, i, 'reasoning'),
    audio_input: optionalMicro(r.audio_input, origin, i, 'audio_input'),
    image_input: optionalMicro(r.image_input, origin, i, 'image_input'),
    units,
    long_context: longContext,
    max_output_tokens: typeof maxOut === 'number' ? maxOut : null,
    effective_from: day,
    effective_from_ms: ms,
    source: nonEmptyString(r.source, origin, i, 'source'),
  };
}

/** Checks the invariants across rows: unique model+date, no name shared between two models. */
function checkRows(rows: readonly PriceRow[], origin: string): void {
  const seen = new Set<string>();
  const owner = new Map<string, string>();
  rows.forEach((row, i) => {
    const key = `${row.model}\u0000${row.effective_from}`;
    if (seen.has(key))
      throw invalid(origin, { row: i, model: row.model, reason: 'duplicate model and effective_from' });
    seen.add(key);
    for (const name of [row.model, ...row.aliases]) {
      const prev = owner.get(name);
      if (prev !== undefined && prev !== row.model) {
        throw invalid(origin, { row: i, model: row.model, reason: 'name already belongs to another model' });
      }
      owner.set(name, row.model);
    }
  });
}

/** Validates a parsed catalog document (YAML or JSON). `origin` names the file in errors. */
export function parseCatalog(doc: unknown, origin: string): CatalogData {
  if (typeof doc !== 'object' || doc === null) throw invalid(origin, { reason: 'catalog must be a mapping' });
  const d = doc as Record<string, unknown>;
  const version = nonEmptyString(d.version, origin, -1, 'version');
  if (!Array.isArray(d.models)) throw invalid(origin, { field: 'models', reason: 'must be a list' });
  const rows = d.models.map((raw, i) => parseRow(raw, origin, i));
  checkRows(rows, origin);
  return { version, rows };
}

/** Reads and validates a catalog file (`.yaml`, `.yml` or `.json`; YAML parses both). */
export function loadCatalogFile(path: string): CatalogData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TollgateError('TG_ERR_CONFIG_INVALID', { file: path, reason: 'cannot read' }, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TollgateError(
      'TG_ERR_CONFIG_INVALID',
      { file: path, reason: 'not YAML or JSON' },
      { cause: err },
    );
  }
  return parseCatalog(doc, path);
}

/**
 * Overlays an override catalog (from config) on a base one: an override row replaces the base
 * row with the same model and effective_from, other override rows are added. The result's
 * version names both (`base+override`), so events show that a local override priced them.
 */
export function mergeCatalogs(base: CatalogData, override: CatalogData): CatalogData {
  const replaced = new Set(override.rows.map((r) => `${r.model}\u0000${r.effective_from}`));
  const rows = [
    ...base.rows.filter((r) => !replaced.has(`${r.model}\u0000${r.effective_from}`)),
    ...override.rows,
  ];
  checkRows(rows, 'merged catalog');
  return { version: `${base.version}+${override.version}`, rows };
}

/** Most resolutions repeat (a few models carry all traffic); bounded so odd names cannot grow it forever. */
const RESOLVE_CACHE_LIMIT = 4096;

/** Indexes validated catalog data for pricing. */
export function createCatalog(data: CatalogData): PriceCatalog {
  const byName = new Map<string, PriceRow[]>();
  for (const row of data.rows) {
    for (const name of new Set([row.model, ...row.aliases])) {
      const list = byName.get(name) ?? [];
      list.push(row);
      byName.set(name, list);
    }
  }
  for (const list of byName.values()) list.sort((a, b) => a.effective_from_ms - b.effective_from_ms);
  const cache = new Map<string, PriceRow[] | null>();

  const rowsFor = (reported: string): PriceRow[] | null => {
    const hit = cache.get(reported);
    if (hit !== undefined) return hit;
    let found: PriceRow[] | null = null;
    for (const candidate of modelNameCandidates(reported)) {
      const list = byName.get(candidate);
      if (list) {
        found = list;
        break;
      }
    }
    if (cache.size >= RESOLVE_CACHE_LIMIT) cache.clear();
    cache.set(reported, found);
    return found;
  };

  return {
    version: data.version,
    rows: data.rows,
    resolve(reportedModel: string, atMs: number): PriceRow | null {
      const list = rowsFor(reportedModel);
      if (!list || !Number.isFinite(atMs)) return null;
      let chosen: PriceRow | null = null;
      for (const row of list) {
        if (row.effective_from_ms <= atMs) chosen = row;
        else break;
      }
      return chosen;
    },
  };
}

/**
 * The catalog in use: the shipped file, merged with `overridePath` when config names one.
 * The CLI passes the path from `tollgate.config.yaml` (`prices.override`).
 */
export function loadPriceCatalog(
  options: { path?: string; overridePath?: string | null } = {},
): PriceCatalog {
  const base = loadCatalogFile(options.path ?? defaultCatalogPath());
  const data = options.overridePath ? mergeCatalogs(base, loadCatalogFile(options.overridePath)) : base;
  return createCatalog(data);
}
