/**
 * RFC 8785 (JCS) canonical JSON of the stored form of an audit event, and the event hash.
 *
 * What is hashed: every own field of the event as stored (content already redacted or
 * encrypted, never plaintext) EXCEPT `hash` itself. That includes `chain_id`, `seq` and
 * `prev_hash`, so moving, renumbering or relinking an event changes its hash. Fields whose value
 * is `undefined` are absent from the canonical form (as in JSON). The fields added to schema v1
 * after its first release (LATER_NULLABLE_FIELDS: the provider's quota, cache writes, billed units) are absent while null,
 * so an event stored before they existed verifies as it did; once set, they are hashed like any
 * other field (setting or clearing one changes the hash).
 *
 * The `canonicalize` package is the reference implementation. Schema-v1 events take a fast path
 * that produces byte-identical output (checked by a property test): RFC 8785 §3.2.3 sorts keys
 * by UTF-16 code units and the field names are fixed ASCII, so an object built with its keys in
 * that order and passed to JSON.stringify yields the canonical form (RFC 8785 §3.2.2 takes its
 * string and number serialization from ECMAScript's JSON.stringify). The slow path, for any
 * other shape, is the package itself.
 *
 * Strings are hashed as well-formed Unicode (lone surrogates as U+FFFD, well-formed-event.ts):
 * that is what the store holds, so the hash is over exactly the stored bytes.
 */
import { hash as oneShotHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { AuditEvent } from '../core/audit-event.js';
import { AUDIT_EVENT_FIELDS, isLaterNullableField } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import { isWellFormedValue, wellFormedValue } from './well-formed-event.js';

/** The event fields covered by the event hash, in RFC 8785 order: every field except `hash`. */
export const HASHED_FIELDS: readonly string[] = AUDIT_EVENT_FIELDS.filter((f) => f !== 'hash').sort(
  compareUtf16,
);

/** Each schema field, and whether it is one of the later nullable ones (one lookup per field per event). */
const FIELD_IS_LATER = new Map<string, boolean>(AUDIT_EVENT_FIELDS.map((f) => [f, isLaterNullableField(f)]));
const REQUIRED_FIELD_COUNT = AUDIT_EVENT_FIELDS.filter((f) => !isLaterNullableField(f)).length;

/**
 * The `canonicalize` package (RFC 8785 reference code). It is CommonJS (`module.exports = fn`)
 * but its typings declare an ES default export, which NodeNext types as a namespace; the import
 * is the function itself at run time.
 */
export const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

function compareUtf16(a: string, b: string): number {
  // Array.prototype.sort's default order compares UTF-16 code units, which RFC 8785 §3.2.3 asks for.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * RFC 8785 canonical JSON of `event` without its `hash` field, strings taken as well-formed
 * Unicode. Throws on NaN/Infinity.
 */
export function canonicalEventJson(event: AuditEvent): string {
  return canonicalJson(event, hasPlainSchemaFields(event as unknown as Record<string, unknown>));
}

/** The canonical JSON by V8's JSON.stringify when `plain` (hasPlainSchemaFields) allows it, else the reference. */
function canonicalJson(event: AuditEvent, plain: boolean): string {
  const redactions = sortedRedactions(event.redactions);
  if (!plain || redactions === null) return slowCanonical(event as unknown as Record<string, unknown>);
  return JSON.stringify(sortedEventObject(event, redactions));
}

/**
 * The event as a fresh object whose keys were inserted in RFC 8785 order (HASHED_FIELDS), so
 * V8's fast JSON.stringify emits them in that order. A test keeps this literal and
 * HASHED_FIELDS in step.
 */
export function sortedEventObject(e: AuditEvent, redactions: unknown[]): Record<string, unknown> {
  return {
    api_key_id: e.api_key_id,
    api_key_prefix: e.api_key_prefix,
    api_provider: e.api_provider,
    // Absent while null (undefined is skipped by JSON.stringify): see the header comment.
    audio_input_tokens: e.audio_input_tokens ?? undefined,
    auth_method: e.auth_method,
    auth_result: e.auth_result,
    billing_quantity: e.billing_quantity ?? undefined,
    billing_unit: e.billing_unit ?? undefined,
    // Absent while null (undefined is skipped by JSON.stringify): see the header comment.
    cache_write_tokens: e.cache_write_tokens ?? undefined,
    cached_input_tokens: e.cached_input_tokens,
    chain_id: e.chain_id,
    content_mode: e.content_mode,
    cost_micro_usd: e.cost_micro_usd,
    endpoint: e.endpoint,
    error_code: e.error_code,
    error_message: e.error_message,
    feature_name: e.feature_name,
    finish_reason: e.finish_reason,
    http_method: e.http_method,
    http_status_code: e.http_status_code,
    id: e.id,
    image_input_tokens: e.image_input_tokens ?? undefined,
    input_tokens: e.input_tokens,
    instance_id: e.instance_id,
    ip_address: e.ip_address,
    is_anomalous: e.is_anomalous,
    latency_ms: e.latency_ms,
    model_requested: e.model_requested,
    model_used: e.model_used,
    output_tokens: e.output_tokens,
    prev_hash: e.prev_hash,
    pricing_version: e.pricing_version,
    prompt: e.prompt,
    // Absent while null (undefined is skipped by JSON.stringify): see the header comment.
    provider_key_id: e.provider_key_id ?? undefined,
    provider_requests_limit: e.provider_requests_limit ?? undefined,
    provider_requests_remaining: e.provider_requests_remaining ?? undefined,
    provider_requests_reset: e.provider_requests_reset ?? undefined,
    provider_tokens_limit: e.provider_tokens_limit ?? undefined,
    provider_tokens_remaining: e.provider_tokens_remaining ?? undefined,
    provider_tokens_reset: e.provider_tokens_reset ?? undefined,
    queue_time_ms: e.queue_time_ms,
    reasoning_tokens: e.reasoning_tokens,
    redactions: redactions,
    request_id: e.request_id,
    request_source: e.request_source,
    response: e.response,
    retry_count: e.retry_count,
    schema_version: e.schema_version,
    seq: e.seq,
    session_id: e.session_id,
    source: e.source,
    span_id: e.span_id,
    status: e.status,
    stream: e.stream,
    team: e.team,
    threat_indicators: e.threat_indicators,
    time_to_first_token_ms: e.time_to_first_token_ms,
    timestamp: e.timestamp,
    total_tokens: e.total_tokens,
    trace_id: e.trace_id,
    unpriced_reason: e.unpriced_reason ?? undefined,
    upstream_latency_ms: e.upstream_latency_ms,
    usage_source: e.usage_source,
    user_agent: e.user_agent,
    user_id: e.user_id,
    virtual_key_id: e.virtual_key_id,
  };
}

/** Hex SHA-256 of `canonicalEventJson(event)` (UTF-8): the value of the event's `hash` field. */
export function eventHash(event: AuditEvent): string {
  // The one-shot hash encodes the (flat) string as UTF-8 itself; copying into a Buffer first
  // costs more than the hash (bench/integrity.bench.ts).
  return oneShotHash('sha256', canonicalEventJson(event), 'hex');
}

/**
 * Makes the event's strings well-formed in place, as `makeEventWellFormed` does, and returns its
 * `eventHash`: the chainer's step for every event, in one pass over the fields instead of two (the
 * well-formed rewrite, then the fast path's check).
 */
export function wellFormedEventHash(event: AuditEvent): string {
  const record = event as unknown as Record<string, unknown>;
  // hasPlainSchemaFields' count, on the values as rewritten (well-formed by then); -1: not plain.
  let n = 0;
  for (const k in record) {
    let v = record[k];
    if (typeof v === 'string') {
      if (!v.isWellFormed()) record[k] = v = v.toWellFormed();
    } else if (typeof v === 'object' && v !== null && !isWellFormedValue(v)) {
      record[k] = v = wellFormedValue(v);
    }
    if (n < 0) continue;
    const share = plainShare(k, v);
    n = share < 0 ? -1 : n + share;
  }
  return oneShotHash('sha256', canonicalJson(event, n === REQUIRED_FIELD_COUNT), 'hex');
}

/**
 * True when the object has every schema field defined (a later nullable one may be absent),
 * nothing else, and no value on which JSON.stringify and RFC 8785 disagree (non-finite numbers, nested objects other than the
 * redaction counts, which `sortedRedactions` handles).
 */
function hasPlainSchemaFields(record: Record<string, unknown>): boolean {
  let n = 0;
  for (const k in record) {
    const v = record[k];
    if (typeof v === 'string' && !v.isWellFormed()) return false;
    const share = plainShare(k, v);
    if (share < 0) return false;
    n += share;
  }
  return n === REQUIRED_FIELD_COUNT;
}

/**
 * One field's share of hasPlainSchemaFields' count: 1 for a required field, 0 for a later nullable
 * one (set or absent), -1 when the event is not plain (an unknown field, a required one absent, a
 * non-finite number, a nested object other than the redaction counts). Strings are the caller's to
 * check for well-formedness.
 */
function plainShare(k: string, v: unknown): number {
  const later = FIELD_IS_LATER.get(k);
  if (later === undefined) return -1;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return -1;
  } else if (v === undefined) {
    if (!later) return -1;
  } else if (typeof v === 'object' && v !== null && k !== 'redactions' && !isStringArray(v)) return -1;
  return later ? 0 : 1;
}

function isStringArray(v: object): boolean {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== 'string' || !x.isWellFormed()) return false;
  return true;
}

/** `{type, count}` entries re-created with keys in RFC 8785 order, or null when not that shape. */
function sortedRedactions(list: unknown): unknown[] | null {
  if (!Array.isArray(list)) return null;
  const out: unknown[] = [];
  for (const r of list as unknown[]) {
    if (typeof r !== 'object' || r === null) return null;
    const { type, count } = r as { type?: unknown; count?: unknown };
    if (
      typeof type !== 'string' ||
      !type.isWellFormed() ||
      typeof count !== 'number' ||
      !Number.isFinite(count) ||
      Object.keys(r).length !== 2
    )
      return null;
    out.push({ count, type });
  }
  return out;
}

function slowCanonical(record: Record<string, unknown>): string {
  // The slow path also takes events with lone surrogates: hashed as the store keeps them.
  const copy = wellFormedValue(record) as Record<string, unknown>;
  delete copy.hash;
  for (const k of Object.keys(copy)) if (copy[k] === null && isLaterNullableField(k)) delete copy[k];
  return canonicalValue(copy, 'event');
}

function canonicalValue(v: unknown, field: string): string {
  try {
    const s = canonicalize(v);
    if (s === undefined) throw new Error('not serializable');
    return s;
  } catch (err) {
    throw new TollgateError('TG_ERR_INTEGRITY_NOT_CANONICAL', { field }, { cause: err });
  }
}
