/**
 * The canonical JSON of a stored event (canonical-json.ts, DESIGN.md "What is hashed") built
 * straight from the columns of its row, for `verify`'s hot loop: no decoded event, no generic
 * canonicalize, no per-field checks by name.
 *
 * One pass over the columns checks that every value is one JSON.stringify writes exactly as RFC
 * 8785 does (well-formed strings, finite numbers, null); then one object literal, its keys in RFC
 * 8785 order (as `sortedEventObject`), goes through V8's native JSON.stringify. The JSON columns
 * are parsed once per distinct text (the same few repeat: `[]`, one redaction kind). Anything else
 * (a lone surrogate, a non-finite number, a JSON column of another shape, a blob, a bigint) is
 * left to the reference, `canonicalEventJson` of the event the store decodes (the caller's
 * fallback), so the bytes are the reference's for every row; a property test over hostile rows
 * checks that (test/integrity/canonical-columns.test.ts).
 */
import { AUDIT_EVENT_FIELDS, BOOLEAN_FIELDS, INTEGER_FIELDS, JSON_FIELDS } from '../core/audit-event.js';
import type { AuditEventField } from '../core/audit-event.js';
import { HASHED_FIELDS } from './canonical-json.js';

/**
 * How a store hands back the columns (AUDIT_EVENT_FIELDS order): SQLite gives booleans as 0/1 and
 * the JSON columns as text; PostgreSQL (jsonb read as `::text`) gives booleans as true/false and
 * bigint columns as decimal strings (decoded with Number(), as its store does).
 */
export type ColumnCodec = 'sqlite' | 'postgres';

/** Column index of each field. */
const I = Object.fromEntries(AUDIT_EVENT_FIELDS.map((f, i) => [f, i])) as Record<AuditEventField, number>;

const KIND_VALUE = 0;
const KIND_BOOL = 1;
const KIND_JSON = 2;
const KIND_INTEGER = 3;
const KINDS: readonly number[] = AUDIT_EVENT_FIELDS.map((f) =>
  JSON_FIELDS.has(f)
    ? KIND_JSON
    : BOOLEAN_FIELDS.has(f)
      ? KIND_BOOL
      : INTEGER_FIELDS.has(f)
        ? KIND_INTEGER
        : KIND_VALUE,
);

/** Marks a JSON column text whose value the reference must write. */
export const NOT_FAST: unique symbol = Symbol('not fast');

/**
 * A JSON column's text → the value to serialize in its place (redaction entries re-created with
 * their keys in RFC 8785 order). Bounded, cleared when full.
 */
export class JsonColumnCache {
  private readonly map = new Map<string, unknown>();
  constructor(private readonly canonical: (parsed: unknown) => unknown) {}
  get(text: string): unknown {
    let out = this.map.get(text);
    if (out !== undefined) return out;
    try {
      out = this.canonical(JSON.parse(text));
    } catch {
      out = NOT_FAST;
    }
    if (this.map.size >= 4096) this.map.clear();
    this.map.set(text, out);
    return out;
  }
}

/** As canonical-json.ts `sortedRedactions`: `{count, type}` entries, or the reference's when not that shape. */
export function canonicalRedactions(v: unknown): unknown {
  if (!Array.isArray(v)) return NOT_FAST;
  const out: { count: number; type: string }[] = [];
  for (const r of v as unknown[]) {
    if (typeof r !== 'object' || r === null || Array.isArray(r) || Object.keys(r).length !== 2)
      return NOT_FAST;
    const { type, count } = r as { type?: unknown; count?: unknown };
    if (
      typeof type !== 'string' ||
      !type.isWellFormed() ||
      typeof count !== 'number' ||
      !Number.isFinite(count)
    )
      return NOT_FAST;
    out.push({ count, type });
  }
  return out;
}

/** A list of well-formed strings (the other JSON column), or the reference's. */
export function canonicalStringList(v: unknown): unknown {
  if (!Array.isArray(v)) return NOT_FAST;
  for (const x of v as unknown[]) if (typeof x !== 'string' || !x.isWellFormed()) return NOT_FAST;
  return v;
}

/** Writes canonical JSON from columns; one per reading thread (it caches JSON column texts). */
export class CanonicalColumns {
  private readonly redactionTexts = new JsonColumnCache(canonicalRedactions);
  private readonly listTexts = new JsonColumnCache(canonicalStringList);
  private readonly sqlite: boolean;
  /** PostgreSQL: the row with its bigint texts as numbers. */
  private readonly scratch: unknown[] = new Array<unknown>(AUDIT_EVENT_FIELDS.length);

  constructor(codec: ColumnCodec) {
    this.sqlite = codec === 'sqlite';
  }

  /**
   * The canonical JSON of the row's event, or null when some value needs the reference
   * (`canonicalEventJson` of the decoded event): the caller decodes the row and calls it.
   */
  fast(values: readonly unknown[]): string | null {
    let v = values;
    for (let i = 0; i < KINDS.length; i++) {
      const x = v[i];
      const kind = KINDS[i];
      if (kind === KIND_VALUE || kind === KIND_INTEGER) {
        if (x === null) continue;
        if (typeof x === 'string') {
          if (kind === KIND_INTEGER && !this.sqlite) {
            const n = Number(x);
            if (!Number.isFinite(n)) return null;
            if (v === values) v = this.copy(values);
            (v as unknown[])[i] = n;
          } else if (!x.isWellFormed()) return null;
        } else if (typeof x !== 'number' || !Number.isFinite(x)) return null;
      } else if (kind === KIND_BOOL && !this.sqlite && x !== null && x !== true && x !== false) return null;
    }
    const redactions = this.json(v[I.redactions], this.redactionTexts);
    const threat_indicators = this.json(v[I.threat_indicators], this.listTexts);
    if (redactions === NOT_FAST || threat_indicators === NOT_FAST) return null;
    const stream = this.bool(v[I.stream]);
    const is_anomalous = this.bool(v[I.is_anomalous]);
    return JSON.stringify({
      api_key_id: v[I.api_key_id],
      api_key_prefix: v[I.api_key_prefix],
      api_provider: v[I.api_provider],
      // Absent while null (undefined is skipped by JSON.stringify): see canonical-json.ts.
      audio_input_tokens: v[I.audio_input_tokens] ?? undefined,
      auth_method: v[I.auth_method],
      auth_result: v[I.auth_result],
      billing_quantity: v[I.billing_quantity] ?? undefined,
      billing_unit: v[I.billing_unit] ?? undefined,
      // Absent while null (undefined is skipped by JSON.stringify): see canonical-json.ts.
      cache_write_tokens: v[I.cache_write_tokens] ?? undefined,
      cached_input_tokens: v[I.cached_input_tokens],
      chain_id: v[I.chain_id],
      content_mode: v[I.content_mode],
      cost_micro_usd: v[I.cost_micro_usd],
      endpoint: v[I.endpoint],
      error_code: v[I.error_code],
      error_message: v[I.error_message],
      feature_name: v[I.feature_name],
      finish_reason: v[I.finish_reason],
      http_method: v[I.http_method],
      http_status_code: v[I.http_status_code],
      id: v[I.id],
      image_input_tokens: v[I.image_input_tokens] ?? undefined,
      input_tokens: v[I.input_tokens],
      instance_id: v[I.instance_id],
      ip_address: v[I.ip_address],
      is_anomalous,
      latency_ms: v[I.latency_ms],
      model_requested: v[I.model_requested],
      model_used: v[I.model_used],
      output_tokens: v[I.output_tokens],
      prev_hash: v[I.prev_hash],
      pricing_version: v[I.pricing_version],
      prompt: v[I.prompt],
      // Absent while null (undefined is skipped by JSON.stringify): see canonical-json.ts.
      provider_key_id: v[I.provider_key_id] ?? undefined,
      provider_requests_limit: v[I.provider_requests_limit] ?? undefined,
      provider_requests_remaining: v[I.provider_requests_remaining] ?? undefined,
      provider_requests_reset: v[I.provider_requests_reset] ?? undefined,
      provider_tokens_limit: v[I.provider_tokens_limit] ?? undefined,
      provider_tokens_remaining: v[I.provider_tokens_remaining] ?? undefined,
      provider_tokens_reset: v[I.provider_tokens_reset] ?? undefined,
      queue_time_ms: v[I.queue_time_ms],
      reasoning_tokens: v[I.reasoning_tokens],
      redactions,
      request_id: v[I.request_id],
      request_source: v[I.request_source],
      response: v[I.response],
      retry_count: v[I.retry_count],
      schema_version: v[I.schema_version],
      seq: v[I.seq],
      session_id: v[I.session_id],
      source: v[I.source],
      span_id: v[I.span_id],
      status: v[I.status],
      stream,
      team: v[I.team],
      threat_indicators,
      time_to_first_token_ms: v[I.time_to_first_token_ms],
      timestamp: v[I.timestamp],
      total_tokens: v[I.total_tokens],
      trace_id: v[I.trace_id],
      unpriced_reason: v[I.unpriced_reason] ?? undefined,
      upstream_latency_ms: v[I.upstream_latency_ms],
      usage_source: v[I.usage_source],
      user_agent: v[I.user_agent],
      user_id: v[I.user_id],
      virtual_key_id: v[I.virtual_key_id],
    });
  }

  private copy(values: readonly unknown[]): unknown[] {
    for (let i = 0; i < values.length; i++) this.scratch[i] = values[i];
    return this.scratch;
  }

  /** As the store decodes a boolean column (SQLite: 1 is true, anything else not null is false). */
  private bool(x: unknown): boolean | null {
    if (x === null || x === undefined) return null;
    return this.sqlite ? x === 1 : x === true;
  }

  /** A JSON column: SQLite reads a value that is not text as []; PostgreSQL reads NULL as []. */
  private json(x: unknown, cache: JsonColumnCache): unknown {
    if (typeof x === 'string') return x === '[]' ? EMPTY : cache.get(x);
    if (this.sqlite || x === null || x === undefined) return EMPTY;
    return NOT_FAST;
  }
}

const EMPTY: readonly unknown[] = Object.freeze([]);

// The literal above must name every hashed field in RFC 8785 order (a field added to the event and
// not to the literal would be left out of the hash on the fast path): checked once, at load.
{
  const probe = new CanonicalColumns('sqlite').fast(
    AUDIT_EVENT_FIELDS.map((f) => (KINDS[I[f]] === KIND_JSON ? '[]' : 1)),
  );
  const keys = probe === null ? null : Object.keys(JSON.parse(probe) as object);
  if (keys === null || keys.join() !== HASHED_FIELDS.join())
    throw new Error('canonical-columns.ts: the literal does not list HASHED_FIELDS in order');
}
