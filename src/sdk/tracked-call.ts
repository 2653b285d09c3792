import { TollgateError } from '../core/errors.js';
import { newEventId } from '../core/ids.js';
import { newExchange } from '../capture/exchange.js';
import { blankAssembledStream, type AssembledStream } from '../capture/sse-assembler.js';
import type { ProviderUsage } from '../capture/usage.js';
import { resolveAttribution, type AttributionInput } from './audit-context.js';
import type { Auditor } from './auditor.js';
import { spanIdOf } from '../capture/span-id.js';
import { openAICompatibleUsage } from '../providers/openai/openai-usage.js';

/** What a tracked call is, as far as the event needs to know before it runs. */
export interface TrackMeta {
  /** `api_provider`, e.g. `anthropic`, `bedrock`, `local-llama`. */
  provider: string;
  /** The requested model (`model_requested`); default: `request.model`. */
  model?: string | null;
  /** The operation, recorded as `endpoint` (e.g. `/messages`); default `/track`. */
  endpoint?: string;
  /** Default `POST`. */
  method?: string;
  /** The request body when it is JSON-like; its messages/prompt/input become the event's prompt (redacted). */
  request?: Record<string, unknown> | null;
  stream?: boolean;
  attribution?: AttributionInput;
  requestId?: string;
}

/** The handle a tracked function reports through. Every method is optional to call. */
export interface TrackedCall {
  readonly eventId: string;
  /** The model that served the call (`model_used`). */
  setModel(model: string): void;
  /** Usage as the provider reported it (OpenAI, Responses or Anthropic shape). */
  setUsage(usage: ProviderUsage): void;
  /** Output text (appended; call per streamed piece or once with the whole text). */
  appendOutput(text: string): void;
  setFinishReason(reason: string): void;
  /** The provider's HTTP status, when the call did not throw but is not a plain 200. */
  setHttpStatus(status: number): void;
  /** Marks the first token (time to first token), for streamed calls consumed inside `fn`. */
  markFirstToken(): void;
}

/** Runs one tracked call; see `Auditor.track`. */
export async function trackCall<T>(
  a: Auditor,
  meta: TrackMeta,
  fn: (call: TrackedCall) => Promise<T>,
): Promise<T> {
  const t0 = a.clock.monotonic();
  const eventId = newEventId();
  const x = newExchange({
    source: 'sdk',
    instanceId: a.instanceId,
    eventId,
    startedAt: a.clock.now(),
    endpoint: meta.endpoint ?? '/track',
    method: (meta.method ?? 'POST').toUpperCase(),
  });
  x.provider = meta.provider;
  x.requestId = meta.requestId ?? eventId;
  x.spanId = spanIdOf(eventId);
  x.attribution = resolveAttribution(null, meta.attribution, a.currentContext(), a.defaults);
  const model = meta.model ?? (typeof meta.request?.model === 'string' ? meta.request.model : null);
  x.requestBody = { ...meta.request, ...(model !== null ? { model } : {}), stream: meta.stream === true };
  if (!a.canAccept()) throw a.refuse(x);

  // The result is carried as an assembled stream: it is the structured form captureEvent reads.
  const result: AssembledStream = blankAssembledStream(null, true);
  const parts: string[] = [];
  let status: number | null = null;
  const call: TrackedCall = {
    eventId,
    setModel: (m) => void (result.model = m),
    setUsage: (u) => void (result.usage = openAICompatibleUsage(u)),
    appendOutput: (t) => void parts.push(t),
    setFinishReason: (r) => void (result.finishReason = r),
    setHttpStatus: (s) => void (status = s),
    markFirstToken: () => {
      if (x.ttftMs === null) x.ttftMs = a.clock.monotonic() - t0;
    },
  };
  try {
    const value = await fn(call);
    x.httpStatus = status ?? 200;
    return value;
  } catch (err) {
    classifyThrown(a, x, err, status);
    throw err;
  } finally {
    result.text = parts.join('');
    x.stream = result;
    x.latencyMs = a.clock.monotonic() - t0;
    x.upstreamLatencyMs = x.latencyMs;
    await a.settle(x);
  }
}

/**
 * What a thrown error says about how the call ended. Provider SDK errors carry `status` (OpenAI,
 * Anthropic and most generated clients); aborts are `AbortError`; timeouts are `TimeoutError`
 * (WHATWG DOM §3.1.3, `AbortSignal.timeout`) or a timeout code from undici or libuv.
 */
function classifyThrown(
  a: Auditor,
  x: ReturnType<typeof newExchange>,
  err: unknown,
  reported: number | null,
): void {
  const e = (err ?? {}) as {
    name?: unknown;
    code?: unknown;
    status?: unknown;
    message?: unknown;
    error?: { code?: unknown };
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.status === 'number' && e.status >= 100 && e.status <= 599 ? e.status : reported;
  if (err instanceof TollgateError) {
    a.fail(x, err.code);
    return;
  }
  if (name === 'AbortError' || name === 'APIUserAbortError') {
    x.cancelled = true;
    a.fail(x, 'TG_ERR_CLIENT_CANCELLED');
    return;
  }
  if (
    name === 'TimeoutError' ||
    /timeout/i.test(name) ||
    code === 'ETIMEDOUT' ||
    /^UND_ERR_.*TIMEOUT$/.test(code)
  ) {
    x.timedOut = true;
    a.fail(x, 'TG_ERR_UPSTREAM_TIMEOUT');
    return;
  }
  x.httpStatus = status;
  if (status === null) x.connectFailed = true;
  const providerCode = typeof e.error?.code === 'string' ? e.error.code : code || name || 'error';
  // Whole: the pipeline's field cleaning redacts it, then bounds it (a cut first could halve a secret).
  const message = typeof e.message === 'string' ? e.message : 'error';
  x.failure = { code: providerCode, message };
}
