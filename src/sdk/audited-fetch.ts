import { TollgateError, type ErrorCode } from '../core/errors.js';
import { newEventId } from '../core/ids.js';
import { newExchange, type Exchange } from '../capture/exchange.js';
import { recordUpstreamFailure } from '../capture/upstream-failure-outcome.js';
import { cleanHeaderValue } from '../capture/header-value.js';
import { spanIdOf } from '../capture/span-id.js';
import { isStreamedResponse, ResponseTap } from '../capture/response-tap.js';
import { requestStreamUsage } from '../capture/stream-relay.js';
import { parseTraceparent } from '../capture/trace-context.js';
import { endpointOf, providerNameForUrl } from '../providers/registry.js';
import { formFields, isMultipart } from '../capture/form-fields.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../http/hop-by-hop-headers.js';
import { parseJsonBody } from '../http/request-body.js';
import { UpstreamFailure, type UpstreamResponse } from '../upstream/upstream-client.js';
import { readProviderQuota } from '../upstream/provider-rate-limit-headers.js';
import { resolveAttribution, type AttributionInput } from './audit-context.js';
import type { Auditor } from './auditor.js';

export interface AuditedFetchOptions {
  auditor: Auditor;
  /** Attribution for every call made through this fetch (a call's `x-tollgate-*` headers and context still win). */
  attribution?: AttributionInput;
  /** `api_provider` of these calls; default: the auditor's, else from the URL's host. */
  provider?: string;
}

/** The `fetch` signature the openai client (and any OpenAI-compatible caller) takes. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Statuses whose response has no body (WHATWG Fetch "null body status", plus 1xx). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` that audits every call: give it to `new OpenAI({ fetch, maxRetries: 0 })` or use it for
 * any OpenAI-compatible HTTP call. The call goes out through the gateway's upstream client (same
 * timeouts, retries before any byte is returned, Retry-After); the response comes back as it
 * arrives (streams are relayed chunk by chunk, never buffered); one event per call goes through
 * the auditor's pipeline when the body ends, fails or is cancelled.
 *
 * Failures of the call itself reject as fetch does: a `TollgateError` with the gateway's code
 * (`TG_ERR_UPSTREAM_TIMEOUT`, `TG_ERR_UPSTREAM_CONNECT`, …), the caller's abort reason when it
 * aborted, and `TG_ERR_AUDIT_UNAVAILABLE` under fail-closed when the trail cannot be written.
 */
export function createAuditedFetch(options: AuditedFetchOptions): FetchFunction {
  return (input, init) => auditedFetch(options, input, init);
}

interface OutgoingRequest {
  url: URL;
  method: string;
  /** Name/value pairs as given, for the gateway's header filter. */
  rawHeaders: string[];
  /** Lower-cased names, repeated values joined. */
  headers: Record<string, string>;
  body: Buffer | null;
  signal: AbortSignal | null;
}

async function auditedFetch(
  o: AuditedFetchOptions,
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const a = o.auditor;
  const { clock } = a;
  const t0 = clock.monotonic();
  const req = await readRequest(input, init);
  if (req.url.protocol !== 'http:' && req.url.protocol !== 'https:') {
    throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'url' });
  }
  const endpoint = endpointOf(req.url.pathname);
  const eventId = newEventId();
  const x = newExchange({
    source: 'sdk',
    instanceId: a.instanceId,
    eventId,
    startedAt: clock.now(),
    endpoint,
    method: req.method,
  });
  const h = req.headers;
  x.provider = o.provider ?? a.provider ?? providerNameForUrl(req.url);
  x.requestId = cleanHeaderValue(h['x-request-id']) ?? eventId;
  x.trace = parseTraceparent(h.traceparent);
  x.spanId = spanIdOf(eventId);
  x.userAgent = cleanHeaderValue(h['user-agent']);
  x.attribution = resolveAttribution(h, o.attribution, a.currentContext(), a.defaults);
  try {
    // Uploads (transcriptions) are read for their text fields; the file is never kept.
    const ct = h['content-type'];
    if (req.body && isMultipart(ct)) x.requestBody = await formFields(req.body, ct!);
    else x.requestBody = req.body ? parseJsonBody(req.body) : null;
  } catch {
    x.requestBody = null; // not JSON: audited without a prompt; the provider decides
  }
  x.auth = a.authFields(h, req.url.search);

  // fail-closed: no provider call while the audit trail cannot be written.
  if (!a.canAccept()) {
    x.latencyMs = clock.monotonic() - t0;
    throw a.refuse(x);
  }

  const abort = new AbortController();
  let totalTimedOut = false;
  const onAbort = (): void => {
    x.cancelled = true;
    abort.abort();
  };
  const totalTimer = setTimeout(() => {
    totalTimedOut = true;
    abort.abort();
  }, a.policy.timeouts.totalMs);
  totalTimer.unref();
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  const done = async (): Promise<void> => {
    clearTimeout(totalTimer);
    req.signal?.removeEventListener('abort', onAbort);
    x.latencyMs = clock.monotonic() - t0;
    await a.settle(x);
  };

  const { body, stripUsage } = requestStreamUsage(endpoint, x.requestBody, req.body);
  const headers = upstreamRequestHeaders(req.rawHeaders);
  if (body && !headers['content-type']) headers['content-type'] = 'application/json';

  const tUp = clock.monotonic();
  x.queueMs = tUp - t0;
  let up: UpstreamResponse;
  try {
    if (x.cancelled) throw new UpstreamFailure('aborted', 0);
    up = await a.upstreamFor(req.url.origin).send({
      method: req.method,
      path: req.url.pathname + req.url.search,
      headers,
      body,
      signal: abort.signal,
    });
  } catch (err) {
    const code = recordUpstreamFailure(x, err, abort.signal, totalTimedOut, clock.monotonic() - tUp);
    a.fail(x, code);
    await done();
    if (x.cancelled) throw abortReason(req.signal);
    throw new TollgateError(code, { event_id: eventId, retry_count: x.retryCount }, { cause: err });
  }
  x.retryCount = up.retryCount;
  x.httpStatus = up.statusCode;
  x.providerQuota = readProviderQuota(up.headers, clock.now());
  // The SDK sends the application's own provider key: its fingerprint is the event's api_key_id.
  x.providerKeyId = x.auth.api_key_id;

  const isStream = isStreamedResponse(x.api, String(up.headers['content-type'] ?? ''), up.statusCode);
  const resHeaders = toHeaders(clientResponseHeaders(up.headers, isStream && stripUsage));
  resHeaders.set('x-tollgate-request-id', x.requestId);
  resHeaders.set('x-tollgate-event-id', eventId);

  if (NULL_BODY_STATUS.has(up.statusCode)) {
    await up.body.dump().catch(() => undefined);
    x.upstreamLatencyMs = clock.monotonic() - tUp;
    await done();
    return new Response(null, { status: up.statusCode, headers: resHeaders });
  }
  return new Response(
    relayBody(a, x, up, {
      t0,
      tUp,
      isStream,
      stripUsage,
      abort,
      done,
      signal: req.signal,
      timedOut: () => totalTimedOut,
    }),
    {
      status: up.statusCode,
      headers: resHeaders,
    },
  );
}

interface RelayContext {
  t0: number;
  tUp: number;
  isStream: boolean;
  stripUsage: boolean;
  abort: AbortController;
  done: () => Promise<void>;
  signal: AbortSignal | null;
  timedOut: () => boolean;
}

/**
 * The caller's body: each upstream chunk is passed on as soon as it is read (the stream's queue
 * holds at most one chunk), while the SSE assembler or a bounded copy collects what the event
 * needs. The exchange is recorded once, when the body ends, breaks or is cancelled, with the same
 * outcome rules as the gateway's relay.
 */
function relayBody(
  a: Auditor,
  x: Exchange,
  up: UpstreamResponse,
  c: RelayContext,
): ReadableStream<Uint8Array> {
  const { clock } = a;
  // The same tap as the gateway's relay (capture/response-tap.ts): stream assembly, kept body,
  // first-token time, and how the body ended.
  const tap = new ResponseTap(x, {
    contentType: String(up.headers['content-type'] ?? ''),
    statusCode: up.statusCode,
    stripUsage: c.stripUsage,
    captureLimitBytes: a.responseCaptureLimitBytes,
    clock,
    t0: c.t0,
  });
  const encoder = new TextEncoder();
  let finished = false;
  const iterator = (up.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();

  const end = async (): Promise<void> => {
    finished = true;
    tap.finish(clock.monotonic() - c.tUp);
    await c.done();
  };
  const failureError = (): Error =>
    x.cancelled
      ? abortReason(c.signal)
      : new TollgateError((x.failure?.code ?? 'TG_ERR_UPSTREAM_STREAM_BROKEN') as ErrorCode, {
          event_id: x.eventId,
        });

  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (finished) return;
      try {
        for (;;) {
          const r = await iterator.next();
          if (finished) return;
          if (r.done) {
            tap.bodyEnded();
            await end();
            if (x.failure) controller.error(failureError());
            else controller.close();
            return;
          }
          const out = tap.chunk(r.value);
          if (out !== null) {
            controller.enqueue(typeof out === 'string' ? encoder.encode(out) : out);
            return;
          }
        }
      } catch (err) {
        // After end() only the fail-closed commit can throw: the caller must not see a completed body.
        if (finished) return controller.error(err);
        tap.bodyFailed(err, c.abort.signal, c.timedOut());
        await end();
        controller.error(failureError());
      }
    },
    cancel: async () => {
      if (finished) return;
      tap.cancelled();
      c.abort.abort();
      await end();
    },
  });
}

async function readRequest(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<OutgoingRequest> {
  if (typeof input !== 'string' && !(input instanceof URL))
    return fromRequest(init ? new Request(input, init) : input);
  const b = init?.body;
  if (
    b !== undefined &&
    b !== null &&
    typeof b !== 'string' &&
    !(b instanceof Uint8Array) &&
    !(b instanceof ArrayBuffer)
  ) {
    // FormData, Blob, URLSearchParams, streams: let Request serialise them (and set their content-type).
    return fromRequest(new Request(input, { ...init, duplex: 'half' }));
  }
  const rawHeaders = flattenHeaders(init?.headers);
  let body: Buffer | null = null;
  if (typeof b === 'string') body = Buffer.from(b, 'utf8');
  else if (b instanceof Uint8Array) body = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  else if (b instanceof ArrayBuffer) body = Buffer.from(b);
  return {
    url: new URL(input),
    method: (init?.method ?? 'GET').toUpperCase(),
    rawHeaders,
    headers: headerRecord(rawHeaders),
    body,
    signal: init?.signal ?? null,
  };
}

async function fromRequest(r: Request): Promise<OutgoingRequest> {
  const rawHeaders = flattenHeaders(r.headers);
  return {
    url: new URL(r.url),
    method: r.method.toUpperCase(),
    rawHeaders,
    headers: headerRecord(rawHeaders),
    body: r.body ? Buffer.from(await r.arrayBuffer()) : null,
    signal: r.signal,
  };
}

function flattenHeaders(h: RequestInit['headers']): string[] {
  const out: string[] = [];
  if (!h) return out;
  if (h instanceof Headers) h.forEach((value, name) => out.push(name, value));
  else if (Array.isArray(h)) for (const pair of h as Array<[string, string]>) out.push(pair[0], pair[1]);
  else
    for (const [name, value] of Object.entries(h as Record<string, string | readonly string[] | undefined>)) {
      if (value === undefined) continue;
      if (typeof value === 'string') out.push(name, value);
      else for (const v of value) out.push(name, v);
    }
  return out;
}

function headerRecord(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    out[name] = out[name] === undefined ? raw[i + 1]! : `${out[name]}, ${raw[i + 1]!}`;
  }
  return out;
}

function toHeaders(record: Record<string, string | string[]>): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(record)) {
    if (typeof value === 'string') out.append(name, value);
    else for (const v of value) out.append(name, v);
  }
  return out;
}

function abortReason(signal: AbortSignal | null): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new DOMException('This operation was aborted', 'AbortError');
}
