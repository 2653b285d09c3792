import type { Attributes } from '@opentelemetry/api';
import type { AuditEvent } from '../core/audit-event.js';

/**
 * GenAI semantic convention names (OpenTelemetry semantic conventions, "Generative AI" spans and
 * metrics, status: development). Spelled out here rather than imported from the incubating
 * entry point of @opentelemetry/semantic-conventions, whose names may move between minor versions.
 */
export const GENAI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  tokenType: 'gen_ai.token.type',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  httpStatusCode: 'http.response.status_code',
  metricTokenUsage: 'gen_ai.client.token.usage',
  metricOperationDuration: 'gen_ai.client.operation.duration',
  metricTimeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk',
} as const;

// Well-known operation names of the GenAI conventions for the OpenAI-compatible endpoints.
// The Responses API is a chat-style generation, so it is `chat` as well.
const OPERATIONS: Record<string, string> = {
  '/chat/completions': 'chat',
  '/responses': 'chat',
  '/completions': 'text_completion',
  '/embeddings': 'embeddings',
};

/**
 * `gen_ai.operation.name` of an event: the convention's name for known endpoints, else the first
 * path segment (e.g. `models`, `images`), which callers must still bound for metrics.
 */
export function operationName(e: AuditEvent): string {
  const endpoint = e.endpoint ?? '';
  const known = OPERATIONS[endpoint];
  if (known) return known;
  const first = /^\/([a-z_]{1,32})/.exec(endpoint);
  return first ? first[1]! : 'other';
}

/**
 * `error.type` of a failed event, low-cardinality as the convention asks: the HTTP status the
 * client saw, else Tollgate's own error code (a closed catalog), else the status in lower case.
 * Null for a success.
 */
export function errorType(e: AuditEvent): string | null {
  if (e.status === 'SUCCESS') return null;
  if (e.http_status_code !== null && e.http_status_code >= 400) return String(e.http_status_code);
  if (e.error_code?.startsWith('TG_ERR_')) return e.error_code;
  return e.status.toLowerCase();
}

/** Where the provider is, from the configured upstream URL. */
export interface ServerAddress {
  address: string;
  port: number;
}

/** The upstream's `server.address` and `server.port` (default ports by scheme). */
export function serverAddressOf(upstreamUrl: string): ServerAddress {
  const u = new URL(upstreamUrl);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { address: u.hostname, port };
}

/**
 * The span attributes of one event (no content: see `contentAttributes`). Tollgate's own fields
 * are under `tollgate.*`; user and session ids are left out (personal data).
 */
export function spanAttributes(e: AuditEvent, server: ServerAddress | null): Attributes {
  const a: Attributes = {
    [GENAI.operationName]: operationName(e),
    [GENAI.providerName]: e.api_provider ?? 'unknown',
    'tollgate.event.id': e.id,
    'tollgate.status': e.status,
    'tollgate.retry_count': e.retry_count,
  };
  if (e.model_requested !== null) a[GENAI.requestModel] = e.model_requested;
  if (e.model_used !== null) a[GENAI.responseModel] = e.model_used;
  if (e.input_tokens !== null) a[GENAI.inputTokens] = e.input_tokens;
  if (e.output_tokens !== null) a[GENAI.outputTokens] = e.output_tokens;
  if (e.cached_input_tokens !== null) a[GENAI.cacheReadInputTokens] = e.cached_input_tokens;
  if (e.cache_write_tokens !== null) a[GENAI.cacheCreationInputTokens] = e.cache_write_tokens;
  if (e.finish_reason !== null) a[GENAI.finishReasons] = [e.finish_reason];
  if (e.stream === true && e.time_to_first_token_ms !== null)
    a[GENAI.timeToFirstChunk] = e.time_to_first_token_ms / 1000;
  const err = errorType(e);
  if (err !== null) a[GENAI.errorType] = err;
  if (e.http_status_code !== null) a[GENAI.httpStatusCode] = e.http_status_code;
  if (server) {
    a[GENAI.serverAddress] = server.address;
    a[GENAI.serverPort] = server.port;
  }
  if (e.stream !== null) a['tollgate.stream'] = e.stream;
  if (e.usage_source === 'estimated') a['tollgate.usage_estimated'] = true;
  if (e.cost_micro_usd !== null) a['tollgate.cost_micro_usd'] = e.cost_micro_usd;
  if (e.request_id !== null) a['tollgate.request_id'] = e.request_id;
  if (e.error_code !== null) a['tollgate.error_code'] = e.error_code;
  if (e.feature_name !== null) a['tollgate.feature'] = e.feature_name;
  if (e.team !== null) a['tollgate.team'] = e.team;
  if (e.virtual_key_id !== null) a['tollgate.virtual_key_id'] = e.virtual_key_id;
  if (e.is_anomalous) a['tollgate.is_anomalous'] = true;
  if (e.threat_indicators.length) a['tollgate.threat_indicators'] = e.threat_indicators;
  if (e.redactions.length) a['tollgate.redactions'] = e.redactions.map((r) => `${r.type}:${r.count}`);
  return a;
}

/**
 * `gen_ai.input.messages` / `gen_ai.output.messages` from the event's stored content — only when
 * that content is redacted (`content_mode: redacted`). Full, encrypted or absent content gives
 * nothing: a raw prompt never leaves through telemetry. The stored prompt is Tollgate's flattened
 * transcript (`role: content` lines), so it is sent as one text part.
 */
export function contentAttributes(e: AuditEvent): Attributes {
  if (e.content_mode !== 'redacted') return {};
  const a: Attributes = {};
  if (e.prompt !== null)
    a[GENAI.inputMessages] = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: e.prompt }] }]);
  if (e.response !== null) {
    a[GENAI.outputMessages] = JSON.stringify([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: e.response }],
        ...(e.finish_reason ? { finish_reason: e.finish_reason } : {}),
      },
    ]);
  }
  return a;
}
