import { quotaExhaustedReason } from '../upstream/quota-exhausted.js';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import type { RawContent } from '../core/stages.js';
import type { Exchange } from './exchange.js';
import { promptText } from './prompt-text.js';
import type { EventUsage } from '../pricing/provider-usage.js';
import type { BilledUnits } from '../providers/provider-api.js';
import { classifyStatus } from './status.js';

/** Estimates tokens when the provider reported none (interrupted streams, some relays). */
export type UsageEstimator = (input: {
  model: string | null;
  promptText: string | null;
  outputText: string | null;
}) => { input_tokens: number; output_tokens: number };

/** What pricing needs beyond the event's fields: Anthropic cache writes, billed at their own rate. */
export interface BillingDetail {
  cache_write_tokens: number | null;
}

/**
 * Turns one exchange into one audit event and the raw content the redactor will turn into its
 * stored form. Shared by the gateway and the SDK. The provider API (`x.api`, from the path) says
 * how the request's model and the answer are read.
 */
export function captureEvent(
  x: Exchange,
  estimate?: UsageEstimator,
): { event: AuditEvent; raw: RawContent; billing: BillingDetail } {
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
  const api = x.api;
  e.model_requested = api.model(x.endpoint, body);
  e.stream = body || x.stream ? x.stream !== null || api.streamed(x.endpoint, body) : null;

  e.user_id = x.attribution.user ?? (typeof body?.user === 'string' ? body.user : null);
  e.session_id = x.attribution.session;
  e.feature_name = x.attribution.feature;
  e.team = x.attribution.team;

  e.latency_ms = round3(x.latencyMs);
  // Whole milliseconds, never past the latency (157.6 of 157.737 would round to 158).
  e.time_to_first_token_ms =
    x.ttftMs === null
      ? null
      : x.latencyMs === null
        ? Math.round(x.ttftMs)
        : Math.min(Math.round(x.ttftMs), Math.floor(x.latencyMs));
  e.queue_time_ms = round3(x.queueMs);
  e.upstream_latency_ms = round3(x.upstreamLatencyMs);
  e.retry_count = x.retryCount;
  e.provider_key_id = x.providerKeyId;
  const quota = x.providerQuota;
  if (quota) {
    e.provider_requests_remaining = quota.requests?.remaining ?? null;
    e.provider_requests_limit = quota.requests?.limit ?? null;
    e.provider_requests_reset = isoOrNull(quota.requests?.resetAtMs);
    e.provider_tokens_remaining = quota.tokens?.remaining ?? null;
    e.provider_tokens_limit = quota.tokens?.limit ?? null;
    e.provider_tokens_reset = isoOrNull(quota.tokens?.resetAtMs);
  }
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
  let usage: EventUsage | null = null;
  let billed: BilledUnits | null = null;
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
      const r = api.readResponse(parsed, body);
      e.model_used = r.model;
      usage = r.usage;
      billed = r.error ? null : (r.billing ?? null);
      if (r.error) {
        // Out of credit is not a rate limit: one code for every provider's spelling, so alerts and
        // reports find it (the provider's own message stays in error_message).
        e.error_code =
          quotaExhaustedReason(parsed) !== null ? 'TG_ERR_UPSTREAM_QUOTA_EXHAUSTED' : r.error.code;
        e.error_message = r.error.message;
        // A key refused with another status than 401/403 (Gemini's 400 API_KEY_INVALID) is still an
        // authentication failure: the auth rules and reports must see it.
        if (r.error.authFailure === true && e.status === 'CLIENT_ERROR') {
          e.status = 'AUTH_FAILED';
          if (x.auth.auth_result === null) e.auth_result = 'FAILED';
        }
      } else {
        output = r.text;
        e.finish_reason = r.finishReason;
      }
    } else if (x.httpStatus !== null && x.httpStatus >= 400) {
      e.error_message = x.responseText;
    } else if (x.countedBilling) {
      // Larger than the kept body: the units counted while it passed (images from `data`).
      billed = x.countedBilling;
    }
  }
  if (x.failover && x.provider) {
    // One event for the whole route: the provider that answered is api_provider, the ones before it here.
    const note = `failed over from ${x.failover.join(', ')} to ${x.provider}`;
    e.error_message = e.error_message ? `${note}; ${e.error_message}` : note;
  }
  if (x.failure) {
    // The gateway's own code wins; an upstream message, when there was one, is kept.
    e.error_code = x.failure.code;
    e.error_message = e.error_message ?? x.failure.message;
  }

  const prompt = promptText(body);
  if (usage && (usage.input_tokens !== null || usage.output_tokens !== null)) {
    e.input_tokens = usage.input_tokens;
    e.output_tokens = usage.output_tokens;
    e.cached_input_tokens = usage.cached_input_tokens;
    e.reasoning_tokens = usage.reasoning_tokens;
    e.cache_write_tokens = usage.cache_write_tokens;
    e.audio_input_tokens = usage.audio_input_tokens ?? null;
    e.image_input_tokens = usage.image_input_tokens ?? null;
    e.total_tokens = usage.total_tokens ?? (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0);
    e.usage_source = 'reported';
  } else if (estimate && api.generative && upstreamAnswered(x) && (prompt || output)) {
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
  // Units other than tokens are billed only when the provider answered (docs/cost.md "Billed units").
  if (upstreamAnswered(x)) billed = billed ?? api.requestBilling?.(x.endpoint, body) ?? null;
  else billed = null;
  if (billed && Number.isSafeInteger(billed.quantity) && billed.quantity >= 0) {
    e.billing_unit = billed.unit;
    e.billing_quantity = billed.quantity;
  }
  return {
    event: e,
    raw: { prompt, response: output },
    billing: {
      cache_write_tokens: e.cache_write_tokens,
    },
  };
}

function upstreamAnswered(x: Exchange): boolean {
  return x.httpStatus !== null && x.httpStatus < 300;
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

function round3(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 1000;
}

function isoOrNull(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
