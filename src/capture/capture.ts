import { quotaExhaustedReason } from '../upstream/quota-exhausted.js';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import type { RawContent } from '../core/stages.js';
import type { Exchange } from './exchange.js';
import { promptText } from './prompt-text.js';
import { classifyStatus } from './status.js';
import { normaliseUsage, type ProviderUsage } from './usage.js';

/** Estimates tokens when the provider reported none (interrupted streams, some relays). */
export type UsageEstimator = (input: {
  model: string | null;
  promptText: string | null;
  outputText: string | null;
}) => { input_tokens: number; output_tokens: number };

/** Endpoints that produce text, so missing usage is worth estimating. */
const GENERATIVE = new Set(['/chat/completions', '/completions', '/responses']);

/**
 * Turns one exchange into one audit event and the raw content the redactor will turn into its
 * stored form. Shared by the gateway and the SDK.
 */
export function captureEvent(x: Exchange, estimate?: UsageEstimator): { event: AuditEvent; raw: RawContent } {
  const e = blankEvent({ id: x.eventId, timestamp: new Date(x.startedAt).toISOString(), source: x.source });
  e.request_id = x.requestId;
  e.trace_id = x.trace?.traceId ?? null;
  e.span_id = x.spanId;
  e.instance_id = x.instanceId;
  e.ip_address = x.ip;
  e.user_agent = x.userAgent;
  e.request_source = x.attribution.source;
  e.api_provider = x.provider;
  e.endpoint = x.endpoint;
  e.http_method = x.method;
  Object.assign(e, x.auth);

  const body = x.requestBody;
  // Values are taken whole: the field cleaning (src/redaction/field-cleaning.ts) redacts before it
  // bounds, so a secret across a cut cannot keep its first characters.
  e.model_requested = typeof body?.model === 'string' ? body.model : null;
  e.stream = body ? body.stream === true : null;

  e.user_id = x.attribution.user ?? (typeof body?.user === 'string' ? body.user : null);
  e.session_id = x.attribution.session;
  e.feature_name = x.attribution.feature;
  e.team = x.attribution.team;

  e.latency_ms = round3(x.latencyMs);
  e.time_to_first_token_ms = x.ttftMs === null ? null : Math.round(x.ttftMs);
  e.queue_time_ms = round3(x.queueMs);
  e.upstream_latency_ms = round3(x.upstreamLatencyMs);
  e.retry_count = x.retryCount;
  e.http_status_code = x.httpStatus;
  e.status = classifyStatus({
    httpStatus: x.httpStatus,
    timedOut: x.timedOut,
    cancelled: x.cancelled,
    blocked: x.blocked,
    authRefused: x.authRefused,
    connectFailed: x.connectFailed,
  });
  if (x.auth.auth_result === null && e.status === 'AUTH_FAILED') e.auth_result = 'FAILED';
  else if (x.auth.auth_result === null && x.httpStatus !== null && x.httpStatus < 400)
    e.auth_result = 'SUCCESS';

  let output: string | null = null;
  let usage: ProviderUsage | null = null;
  if (x.stream) {
    const s = x.stream;
    output = joinOutput(s.text, s.toolArguments);
    usage = s.usage;
    e.model_used = s.model;
    e.finish_reason = s.finishReason;
    if (s.errorMessage) {
      e.error_code = s.errorCode ?? 'stream_error';
      e.error_message = s.errorMessage;
    }
  } else if (x.responseText) {
    const parsed = parseJsonObject(x.responseText);
    if (parsed) {
      if (typeof parsed.model === 'string') e.model_used = parsed.model;
      usage = (parsed.usage as ProviderUsage | undefined) ?? null;
      const err = parsed.error as { message?: unknown; code?: unknown; type?: unknown } | undefined;
      if (err && typeof err === 'object') {
        // Out of credit is not a rate limit: one code for every provider's spelling, so alerts and
        // reports find it (the provider's own message stays in error_message).
        e.error_code =
          quotaExhaustedReason(parsed) !== null
            ? 'TG_ERR_UPSTREAM_QUOTA_EXHAUSTED'
            : (strOrNull(err.code) ?? strOrNull(err.type));
        e.error_message = strOrNull(err.message);
      } else {
        const r = responseOutput(parsed);
        output = r.text;
        e.finish_reason = r.finishReason;
      }
    } else if (x.httpStatus !== null && x.httpStatus >= 400) {
      e.error_message = x.responseText;
    }
  }
  if (x.failure) {
    // The gateway's own code wins; an upstream message, when there was one, is kept.
    e.error_code = x.failure.code;
    e.error_message = e.error_message ?? x.failure.message;
  }

  const prompt = promptText(body);
  const u = normaliseUsage(usage);
  if (u) {
    Object.assign(e, u);
    e.usage_source = 'reported';
  } else if (estimate && GENERATIVE.has(x.endpoint) && upstreamAnswered(x) && (prompt || output)) {
    // Only an answered request (a 2xx, perhaps cut short) used tokens; refused ones did not.
    const est = estimate({
      model: e.model_used ?? e.model_requested,
      promptText: prompt,
      outputText: output,
    });
    e.input_tokens = est.input_tokens;
    e.output_tokens = est.output_tokens;
    e.total_tokens = est.input_tokens + est.output_tokens;
    e.usage_source = 'estimated';
  }
  return { event: e, raw: { prompt, response: output } };
}

function upstreamAnswered(x: Exchange): boolean {
  return x.httpStatus !== null && x.httpStatus < 300;
}

function responseOutput(r: Record<string, unknown>): { text: string | null; finishReason: string | null } {
  if (Array.isArray(r.choices)) {
    const texts: string[] = [];
    let finish: string | null = null;
    for (const c of r.choices as Array<Record<string, unknown>>) {
      const msg = c.message as
        { content?: unknown; tool_calls?: Array<{ function?: { arguments?: unknown } }> } | undefined;
      if (typeof msg?.content === 'string') texts.push(msg.content);
      for (const call of msg?.tool_calls ?? []) {
        if (typeof call.function?.arguments === 'string') texts.push(call.function.arguments);
      }
      if (typeof c.text === 'string') texts.push(c.text);
      if (finish === null && typeof c.finish_reason === 'string') finish = c.finish_reason;
    }
    return { text: texts.length ? texts.join('\n') : null, finishReason: finish };
  }
  if (Array.isArray(r.output)) {
    const texts: string[] = [];
    for (const item of r.output as Array<Record<string, unknown>>) {
      if (Array.isArray(item.content)) {
        for (const part of item.content as Array<{ text?: unknown }>)
          if (typeof part.text === 'string') texts.push(part.text);
      }
      if (typeof item.arguments === 'string') texts.push(item.arguments);
    }
    return { text: texts.length ? texts.join('\n') : null, finishReason: strOrNull(r.status) };
  }
  return { text: null, finishReason: null };
}

function joinOutput(text: string, toolArgs: string): string | null {
  if (text && toolArgs) return `${text}\n${toolArgs}`;
  return text || toolArgs || null;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  const t = text.trimStart();
  if (!t.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

function round3(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 1000;
}
