/**
 * The audit event, wire format schema_version 1 (see DESIGN.md "The audit event").
 * Every event carries every field; unknown values are null, never omitted.
 */

export const SCHEMA_VERSION = 1 as const;

export type EventSource = 'gateway' | 'sdk';
export type AuthResult = 'SUCCESS' | 'FAILED' | 'MISSING' | 'EXPIRED' | 'REVOKED';
export type UsageSource = 'reported' | 'estimated' | 'none';
export type ContentMode = 'none' | 'redacted' | 'full' | 'encrypted';
export type EventStatus =
  | 'SUCCESS'
  | 'RATE_LIMITED'
  | 'AUTH_FAILED'
  | 'TIMEOUT'
  | 'SERVER_ERROR'
  | 'CLIENT_ERROR'
  | 'CANCELLED'
  | 'BLOCKED';

export const EVENT_STATUSES: readonly EventStatus[] = [
  'SUCCESS',
  'RATE_LIMITED',
  'AUTH_FAILED',
  'TIMEOUT',
  'SERVER_ERROR',
  'CLIENT_ERROR',
  'CANCELLED',
  'BLOCKED',
];

export interface RedactionCount {
  type: string;
  count: number;
}

export interface AuditEvent {
  // identity
  schema_version: typeof SCHEMA_VERSION;
  id: string;
  timestamp: string;
  request_id: string | null;
  trace_id: string | null;
  span_id: string | null;
  // chain
  chain_id: string | null;
  seq: number | null;
  prev_hash: string | null;
  hash: string | null;
  // origin
  source: EventSource;
  instance_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  request_source: string | null;
  // request
  api_provider: string | null;
  endpoint: string | null;
  http_method: string | null;
  model_requested: string | null;
  model_used: string | null;
  stream: boolean | null;
  // auth
  auth_method: string | null;
  auth_result: AuthResult | null;
  api_key_id: string | null;
  api_key_prefix: string | null;
  virtual_key_id: string | null;
  // usage
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  reasoning_tokens: number | null;
  total_tokens: number | null;
  usage_source: UsageSource;
  // timing
  latency_ms: number | null;
  time_to_first_token_ms: number | null;
  queue_time_ms: number | null;
  upstream_latency_ms: number | null;
  // outcome
  status: EventStatus;
  http_status_code: number | null;
  error_code: string | null;
  error_message: string | null;
  retry_count: number;
  finish_reason: string | null;
  // business
  user_id: string | null;
  session_id: string | null;
  feature_name: string | null;
  team: string | null;
  // cost
  cost_micro_usd: number | null;
  pricing_version: string | null;
  // content
  content_mode: ContentMode;
  prompt: string | null;
  response: string | null;
  redactions: RedactionCount[];
  // security
  is_anomalous: boolean;
  threat_indicators: string[];
  // provider quota: what the provider's rate-limit headers said on this answer (OpenAI-style
  // x-ratelimit-*, Anthropic anthropic-ratelimit-*); null when it sent none (Gemini, errors
  // before an answer). Resets are ISO-8601 UTC times.
  provider_requests_remaining: number | null;
  provider_requests_limit: number | null;
  provider_requests_reset: string | null;
  provider_tokens_remaining: number | null;
  provider_tokens_limit: number | null;
  provider_tokens_reset: string | null;
  /**
   * Fingerprint (api_key_id form) of the provider key the request went upstream with: in managed
   * mode the key Tollgate holds (not the client's `tg-` key), in passthrough the client's own key;
   * null when nothing went upstream. The quota readings above belong to this key.
   */
  provider_key_id: string | null;
  /**
   * Input tokens written to the provider's prompt cache (Anthropic `cache_creation_input_tokens`),
   * priced at the catalog's `cache_write` rate. Part of `input_tokens`, as `cached_input_tokens`
   * (the cache reads) are. Null when the provider reports no cache writes (OpenAI, Gemini) or the
   * usage was estimated.
   */
  cache_write_tokens: number | null;
  /**
   * Audio tokens of the prompt (GPT-4o transcribe `input_token_details.audio_tokens`), part of
   * `input_tokens` and priced at the catalog's `audio_input` rate. Null when none were reported.
   */
  audio_input_tokens: number | null;
  /** Image tokens of the prompt (GPT Image `input_tokens_details.image_tokens`), part of `input_tokens`. */
  image_input_tokens: number | null;
  /**
   * A billed unit other than tokens, and how many (docs/cost.md "Billed units"): `audio_second`
   * (Whisper: the audio's duration in whole seconds), `character` (TTS: the input's characters),
   * `image_<size>_<quality>` (DALL·E: images returned). Null when the API bills tokens only.
   */
  billing_unit: string | null;
  billing_quantity: number | null;
  /** Why `cost_micro_usd` is null (no price for the model, the unit or the usage was unknown); null when priced. */
  unpriced_reason: string | null;
}

export type AuditEventField = keyof AuditEvent;

/**
 * Fields added to schema_version 1 after its first release (the provider's quota and the provider
 * key it belongs to, issue 20; stores' events migrations 3 and 4; the prompt-cache writes, issue 18,
 * migration 5; audio and image input tokens, billed units and the unpriced reason, issue 18,
 * migration 6). Each
 * is nullable, and enters an event's canonical form (its hash) only when it is not null, so an
 * event stored before the field existed hashes exactly as it did (src/integrity/canonical-json.ts).
 * Stores add their columns in a migration; SDK events ingested without them read them as null.
 */
export const LATER_NULLABLE_FIELDS = [
  'provider_requests_remaining',
  'provider_requests_limit',
  'provider_requests_reset',
  'provider_tokens_remaining',
  'provider_tokens_limit',
  'provider_tokens_reset',
  'provider_key_id',
  'cache_write_tokens',
  'audio_input_tokens',
  'image_input_tokens',
  'billing_unit',
  'billing_quantity',
  'unpriced_reason',
] as const satisfies readonly AuditEventField[];

/** The later fields the stores' events migration 6 added (issue 18: what non-token billing needs). */
export const BILLING_DETAIL_FIELDS = [
  'audio_input_tokens',
  'image_input_tokens',
  'billing_unit',
  'billing_quantity',
  'unpriced_reason',
] as const satisfies readonly AuditEventField[];

/** The later fields of events migration 3 (the provider's quota readings, issue 20). */
export const QUOTA_READING_FIELDS = [
  'provider_requests_remaining',
  'provider_requests_limit',
  'provider_requests_reset',
  'provider_tokens_remaining',
  'provider_tokens_limit',
  'provider_tokens_reset',
] as const satisfies readonly AuditEventField[];

const LATER_NULLABLE = new Set<AuditEventField>(LATER_NULLABLE_FIELDS);

/** True for a field that is absent from the canonical form while null (LATER_NULLABLE_FIELDS). */
export function isLaterNullableField(field: string): boolean {
  return LATER_NULLABLE.has(field as AuditEventField);
}

/** Field order of the wire format; stores and exports use it for columns. */
export const AUDIT_EVENT_FIELDS: readonly AuditEventField[] = [
  'schema_version',
  'id',
  'timestamp',
  'request_id',
  'trace_id',
  'span_id',
  'chain_id',
  'seq',
  'prev_hash',
  'hash',
  'source',
  'instance_id',
  'ip_address',
  'user_agent',
  'request_source',
  'api_provider',
  'endpoint',
  'http_method',
  'model_requested',
  'model_used',
  'stream',
  'auth_method',
  'auth_result',
  'api_key_id',
  'api_key_prefix',
  'virtual_key_id',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'total_tokens',
  'usage_source',
  'latency_ms',
  'time_to_first_token_ms',
  'queue_time_ms',
  'upstream_latency_ms',
  'status',
  'http_status_code',
  'error_code',
  'error_message',
  'retry_count',
  'finish_reason',
  'user_id',
  'session_id',
  'feature_name',
  'team',
  'cost_micro_usd',
  'pricing_version',
  'content_mode',
  'prompt',
  'response',
  'redactions',
  'is_anomalous',
  'threat_indicators',
  ...LATER_NULLABLE_FIELDS,
];

/** The fields of the first release of schema_version 1: the columns the stores' first migration creates. */
export const FIRST_RELEASE_FIELDS: readonly AuditEventField[] = AUDIT_EVENT_FIELDS.filter(
  (f) => !LATER_NULLABLE.has(f),
);

/** Value kinds of the wire format, for stores mapping fields to columns. */
export const JSON_FIELDS: ReadonlySet<AuditEventField> = new Set(['redactions', 'threat_indicators']);
export const BOOLEAN_FIELDS: ReadonlySet<AuditEventField> = new Set(['stream', 'is_anomalous']);
export const INTEGER_FIELDS: ReadonlySet<AuditEventField> = new Set([
  'schema_version',
  'seq',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'total_tokens',
  'time_to_first_token_ms',
  'http_status_code',
  'retry_count',
  'cost_micro_usd',
  'provider_requests_remaining',
  'provider_requests_limit',
  'provider_tokens_remaining',
  'provider_tokens_limit',
  'cache_write_tokens',
  'audio_input_tokens',
  'image_input_tokens',
  'billing_quantity',
]);
export const REAL_FIELDS: ReadonlySet<AuditEventField> = new Set([
  'latency_ms',
  'queue_time_ms',
  'upstream_latency_ms',
]);

/** A blank event with every field present; callers fill what they know. */
export function blankEvent(init: Pick<AuditEvent, 'id' | 'timestamp' | 'source'>): AuditEvent {
  return {
    schema_version: SCHEMA_VERSION,
    id: init.id,
    timestamp: init.timestamp,
    request_id: null,
    trace_id: null,
    span_id: null,
    chain_id: null,
    seq: null,
    prev_hash: null,
    hash: null,
    source: init.source,
    instance_id: null,
    ip_address: null,
    user_agent: null,
    request_source: null,
    api_provider: null,
    endpoint: null,
    http_method: null,
    model_requested: null,
    model_used: null,
    stream: null,
    auth_method: null,
    auth_result: null,
    api_key_id: null,
    api_key_prefix: null,
    virtual_key_id: null,
    input_tokens: null,
    output_tokens: null,
    cached_input_tokens: null,
    reasoning_tokens: null,
    total_tokens: null,
    usage_source: 'none',
    latency_ms: null,
    time_to_first_token_ms: null,
    queue_time_ms: null,
    upstream_latency_ms: null,
    status: 'SUCCESS',
    http_status_code: null,
    error_code: null,
    error_message: null,
    retry_count: 0,
    finish_reason: null,
    user_id: null,
    session_id: null,
    feature_name: null,
    team: null,
    cost_micro_usd: null,
    pricing_version: null,
    content_mode: 'redacted',
    prompt: null,
    response: null,
    redactions: [],
    is_anomalous: false,
    threat_indicators: [],
    provider_requests_remaining: null,
    provider_requests_limit: null,
    provider_requests_reset: null,
    provider_tokens_remaining: null,
    provider_tokens_limit: null,
    provider_tokens_reset: null,
    provider_key_id: null,
    cache_write_tokens: null,
    audio_input_tokens: null,
    image_input_tokens: null,
    billing_unit: null,
    billing_quantity: null,
    unpriced_reason: null,
  };
}
