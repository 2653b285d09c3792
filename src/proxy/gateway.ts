import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { ERROR_CATALOG, errorBody, errorMessage, TollgateError, type ErrorCode } from '../core/errors.js';
import { newEventId } from '../core/ids.js';
import { newExchange, type Exchange } from '../capture/exchange.js';
import { recordUpstreamFailure } from '../capture/upstream-failure-outcome.js';
import { cleanHeaderValue } from '../capture/header-value.js';
import { ResponseTap } from '../capture/response-tap.js';
import { TemplateCache } from '../capture/delta-template.js';
import { streamErrorEvent } from '../capture/sse-assembler.js';
import { spanIdOf } from '../capture/span-id.js';
import { requestStreamUsage } from '../capture/stream-relay.js';
import { parseTraceparent } from '../capture/trace-context.js';
import type { AuditPipeline } from '../pipeline/pipeline.js';
import { UpstreamFailure, type UpstreamResponse } from '../upstream/upstream-client.js';
import { AbortFlag } from '../upstream/abort-flag.js';
import { readProviderQuota, type ProviderQuota } from '../upstream/provider-rate-limit-headers.js';
import { formFields, isMultipart } from '../capture/form-fields.js';
import { withoutQueryApiKey } from '../access/authenticate.js';
import { endpointOf } from '../providers/registry.js';
import type { ProviderRouter, ProviderTarget } from '../providers/provider-router.js';
import {
  CLIENT_CREDENTIAL_HEADERS,
  clientResponseHeaders,
  upstreamRequestHeaders,
} from '../http/hop-by-hop-headers.js';
import type { MountedRoute } from '../http/mounted-route.js';
import type { RequestPolicy } from './request-policy.js';
import { badPathReason } from '../http/path-segments.js';
import { parseJsonBody, readBody } from '../http/request-body.js';

export interface GatewayConfig {
  instanceId: string;
  /** Provider name recorded as `api_provider` (e.g. `openai`, `deepseek`). */
  provider: string;
  bodyLimitBytes: number;
  /** Longest response body kept in memory for the audit (it is still forwarded whole). */
  responseCaptureLimitBytes: number;
  /** The total deadline of one exchange, ms. */
  totalTimeoutMs: number;
  policy: 'fail-open' | 'fail-closed';
  /** Trust X-Forwarded-For for `ip_address` (only behind a proxy you run). */
  trustProxy: boolean;
}

export type { MountedRoute } from '../http/mounted-route.js';

export interface GatewayDeps {
  config: GatewayConfig;
  pipeline: AuditPipeline;
  /** Where each request goes (one provider, or several routed by model or path). */
  router: ProviderRouter;
  clock: Clock;
  policy: RequestPolicy;
  routes?: MountedRoute[];
  /** Told the quota every upstream answer reports, with the provider key's fingerprint (provider quota tracking). */
  quota?: {
    observeQuota(
      keyId: string | null,
      provider: string | null,
      quota: ProviderQuota | null,
      nowMs: number,
    ): void;
  };
  /** Operational log hook (never receives content or keys). */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * The HTTP gateway: forwards every provider API path (`/v1/*`, Gemini's `/v1beta/*`, Ollama's
 * `/api/*`, anything else not mounted) to the provider the router picks, and records one audit
 * event per client request.
 */
export class Gateway {
  readonly server: Server;
  private readonly inflight = new Set<Promise<void>>();
  /** Stream text-delta templates, learnt once and reused by every stream (capture/delta-template.ts). */
  private readonly templates = new TemplateCache();

  constructor(private readonly deps: GatewayDeps) {
    // Slowloris: headers must arrive within 30 s, the whole request within 300 s (Node's default;
    // 0 let a client dribbling its body hold a connection forever). Responses are not limited by it.
    this.server = createServer({ requestTimeout: 300_000, headersTimeout: 30_000 }, (req, res) => {
      const p = this.handle(req, res).catch((err: unknown) => {
        this.deps.log?.('unhandled gateway error', { err: errName(err) });
        if (!res.headersSent) sendError(res, 'TG_ERR_UPSTREAM_BAD_RESPONSE', null);
        else res.destroy();
      });
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    });
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${shownHost}:${addr.port}`;
  }

  /** Stops accepting, lets in-flight exchanges finish (bounded), then drains the writer. */
  async close(graceMs = 10_000): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, graceMs).unref();
    });
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => setTimeout(r, graceMs).unref()),
    ]);
    await this.deps.pipeline.writer.drain();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    // RFC 9112 §3.2.2: absolute-form targets are for proxies; this gateway is not an open proxy.
    if (!url.startsWith('/')) return sendError(res, 'TG_ERR_REQUEST_ABSOLUTE_URI', null);
    if (url.startsWith('/v1/') || url === '/v1') return this.proxy(req, res, url);
    if (url === '/healthz' || url.startsWith('/healthz?')) return this.health(res);
    for (const route of this.deps.routes ?? []) {
      if (
        url === route.prefix ||
        url.startsWith(route.prefix.endsWith('/') ? route.prefix : `${route.prefix}/`) ||
        url.startsWith(`${route.prefix}?`)
      ) {
        return route.handle(req, res);
      }
    }
    // Any other path is still a provider call: forwarded and audited, never a 404 without an event.
    return this.proxy(req, res, url);
  }

  private health(res: ServerResponse): void {
    const w = this.deps.pipeline.writer.stats();
    const ok = this.deps.config.policy === 'fail-open' || w.storeAvailable;
    const body = JSON.stringify({
      status: ok ? 'ok' : 'degraded',
      store: w.storeAvailable ? 'up' : 'down',
      queue_depth: w.queueDepth,
      events_written: w.written,
      events_spooled: w.spooled,
      events_dropped: w.dropped,
    });
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(body);
  }

  private async proxy(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const { clock, config, pipeline } = this.deps;
    const t0 = clock.monotonic();
    const endpoint = endpointOf(url);
    const x = newExchange({
      source: 'gateway',
      instanceId: config.instanceId,
      eventId: newEventId(),
      startedAt: clock.now(),
      endpoint,
      method: req.method ?? 'GET',
    });
    x.provider = config.provider;
    const api = x.api;
    x.requestId = cleanHeaderValue(req.headers['x-request-id']) ?? x.eventId;
    x.trace = parseTraceparent(req.headers.traceparent as string | undefined);
    // The span id reuses the event id's random tail (UUIDv7 rand_b): unique, and no extra RNG call.
    x.spanId = spanIdOf(x.eventId);
    x.ip = clientIp(req, config.trustProxy);
    x.userAgent = cleanHeaderValue(req.headers['user-agent']);
    const h = req.headers;
    x.attribution = {
      user: cleanHeaderValue(h['x-tollgate-user']),
      session: cleanHeaderValue(h['x-tollgate-session']),
      feature: cleanHeaderValue(h['x-tollgate-feature']),
      source: cleanHeaderValue(h['x-tollgate-source']),
      team: cleanHeaderValue(h['x-tollgate-team']),
    };
    res.setHeader('x-tollgate-request-id', x.requestId);
    res.setHeader('x-tollgate-event-id', x.eventId);

    // Client gone before we answered: remember it, and stop the upstream call.
    const abort = new AbortFlag();
    let totalTimedOut = false;
    const onClose = (): void => {
      if (!res.writableFinished) {
        x.cancelled = true;
        abort.abort();
      }
    };
    res.on('close', onClose);
    const totalTimer = setTimeout(() => {
      totalTimedOut = true;
      abort.abort();
    }, config.totalTimeoutMs);

    // Set once admission has decided; settles reservations with the finished event.
    const settle: { fn?: ((e: AuditEvent) => void) | undefined } = {};
    const finish = async (): Promise<void> => {
      clearTimeout(totalTimer);
      // The outcome is settled now: a client that goes away later must not change the event.
      res.off('close', onClose);
      x.latencyMs = clock.monotonic() - t0;
      // fail-closed promises no completed success whose event is not committed; refusals and
      // errors are answered at once and their events take the spool/gap path like fail-open.
      if (
        config.policy === 'fail-closed' &&
        !x.cancelled &&
        x.failure === null &&
        (x.httpStatus ?? 500) < 400
      ) {
        try {
          const event = await pipeline.commit(x);
          settle.fn?.(event);
          if (!res.writableEnded) res.end();
        } catch {
          // The event could not be committed: the client must not see a completed response.
          res.destroy();
        }
        return;
      }
      if (!res.writableEnded && !res.destroyed) res.end();
      pipeline.recordSoon(x, settle.fn);
    };
    const fail = async (
      code: ErrorCode,
      opts: { retryAfterSec?: number; status?: number; detail?: Record<string, string> } = {},
    ): Promise<void> => {
      x.failure = { code, message: errorMessage(code, opts.detail) };
      const status = opts.status ?? ERROR_CATALOG[code].http;
      if (x.httpStatus === null) x.httpStatus = status;
      if (!res.headersSent && !res.destroyed) {
        if (opts.retryAfterSec !== undefined) res.setHeader('retry-after', String(opts.retryAfterSec));
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.write(errorBody(code, x.requestId, opts.detail));
      }
      await finish();
    };

    // 0. Path: nothing may walk out of the upstream's base path (`..`, `%2e%2e`, `%2f` …).
    const q = url.indexOf('?');
    if (badPathReason(url.slice(0, q < 0 ? url.length : q)) !== null) {
      res.setHeader('connection', 'close');
      return fail('TG_ERR_REQUEST_BAD_PATH');
    }

    // 1. Body: bounded, valid UTF-8, valid JSON.
    let raw: Buffer;
    try {
      raw = await readBody(req, config.bodyLimitBytes);
      const contentType = req.headers['content-type'];
      // Uploads (audio transcriptions, image edits) are read for their text fields only; the
      // file is forwarded as sent and never kept. Other non-JSON bodies are forwarded unread.
      if (isMultipart(contentType)) x.requestBody = await formFields(raw, contentType!);
      else if (contentType === undefined || /json/i.test(contentType)) x.requestBody = parseJsonBody(raw);
    } catch (err) {
      if (err instanceof TollgateError) {
        if (err.code === 'TG_ERR_REQUEST_BODY_TOO_LARGE') res.setHeader('connection', 'close');
        const field = err.detail?.field;
        return fail(err.code, typeof field === 'string' ? { detail: { field } } : {});
      }
      x.cancelled = true;
      return fail('TG_ERR_CLIENT_CANCELLED');
    }
    const model = api.model(endpoint, x.requestBody);
    const targets = this.deps.router.route(url, api, model);
    x.provider = targets[0]!.name;

    // 2. Admission: authentication, limits, budgets — before any upstream call.
    const admission = await this.deps.policy.admit({
      headers: req.headers,
      ip: x.ip,
      endpoint,
      query: q < 0 ? '' : url.slice(q),
      model,
      body: x.requestBody,
      now: x.startedAt,
      attribution: x.attribution,
    });
    x.auth = admission.auth;
    if (admission.attribution) x.attribution = { ...x.attribution, ...admission.attribution };
    settle.fn = admission.settle;
    if (admission.refusal) {
      x.blocked = admission.refusal.kind === 'policy';
      x.authRefused = admission.refusal.kind === 'auth';
      const { retryAfterSec, detail } = admission.refusal;
      return fail(admission.refusal.code, {
        ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
        ...(detail === undefined ? {} : { detail }),
      });
    }

    // 3. fail-closed: no upstream call while the audit trail cannot be written.
    if (!pipeline.writer.canAccept()) {
      x.blocked = true;
      return fail('TG_ERR_AUDIT_UNAVAILABLE', { retryAfterSec: 5 });
    }

    // 4. Streams: ask for usage even when the client did not, and hide it from that client.
    const { body, stripUsage } = requestStreamUsage(endpoint, x.requestBody, raw.length ? raw : null);

    const headers = upstreamRequestHeaders(req.rawHeaders);
    // Managed mode: only the provider key Tollgate holds reaches the provider (not a client
    // credential in a header, nor in Gemini's `?key=`).
    const managed = admission.upstreamHeaders !== undefined;
    if (admission.upstreamHeaders) {
      for (const name of CLIENT_CREDENTIAL_HEADERS) delete headers[name];
      Object.assign(headers, admission.upstreamHeaders);
    }
    if (body && !headers['content-type']) headers['content-type'] = 'application/json';

    // 5. Upstream, with retries and then the route's fallbacks, before any byte reaches the client.
    const tUp = clock.monotonic();
    x.queueMs = tUp - t0;
    let upstreamRes: UpstreamResponse;
    try {
      upstreamRes = await sendWithFallback(x, targets, {
        method: x.method,
        headers,
        body,
        signal: abort,
        managed,
      });
    } catch (err) {
      return fail(recordUpstreamFailure(x, err, abort, totalTimedOut, clock.monotonic() - tUp));
    }
    x.httpStatus = upstreamRes.statusCode;
    x.providerQuota = readProviderQuota(upstreamRes.headers, clock.now());
    // The answering provider's own key (providers: with key_file), else the policy's, else the client's.
    x.providerKeyId ??= admission.providerKeyId ?? x.auth.api_key_id;
    this.deps.quota?.observeQuota(x.providerKeyId, x.provider, x.providerQuota, clock.now());

    // 6. Relay the response as it arrives; the tap (capture/response-tap.ts, shared with the SDK)
    // assembles the stream or keeps the body, and classifies how it ended.
    const tap = new ResponseTap(x, {
      contentType: String(upstreamRes.headers['content-type'] ?? ''),
      statusCode: upstreamRes.statusCode,
      stripUsage,
      captureLimitBytes: config.responseCaptureLimitBytes,
      clock,
      t0,
      templates: this.templates,
    });
    // Headers leave with the first body chunk (one write, not two). fail-closed drops Content-Length:
    // with it the client holds a complete response once the last byte is written, before the commit
    // that res.end() waits for; chunked framing completes only at res.end() (RFC 9112 §7.1).
    const dropLength = (tap.isStream && stripUsage) || config.policy === 'fail-closed';
    res.writeHead(upstreamRes.statusCode, clientResponseHeaders(upstreamRes.headers, dropLength));
    let heldForEnd = false;
    try {
      for await (const chunk of upstreamRes.body as AsyncIterable<Buffer>) {
        const out = tap.chunk(chunk);
        if (tap.protocolEnded && !heldForEnd) {
          // The stream's protocol is complete (`[DONE]`, `message_stop`, …): all that is left is the upstream's end,
          // which normally comes with the same read. Hold this last write for res.end(), so the
          // data and the chunked terminator leave in one write; one loop turn at most.
          heldForEnd = true;
          res.cork();
          setImmediate(() => {
            if (!res.writableEnded) res.uncork();
          });
        }
        if (out !== null) res.write(out);
        if (x.cancelled) break;
      }
      tap.bodyEnded();
    } catch (err) {
      tap.bodyFailed(err, abort, totalTimedOut);
      // Headers are gone already: end the client's response abruptly so it sees the break.
      if (!x.cancelled && !tap.isStream) res.destroy();
    }
    tap.finish(clock.monotonic() - tUp);
    if (x.stream && x.failure && !x.cancelled && !res.destroyed) {
      // Tell a streaming client why the stream ends early, in the stream's own format.
      const code = x.failure.code as ErrorCode;
      res.write(
        streamErrorEvent(x.stream.protocol, code, ERROR_CATALOG[code].message, errorBody(code, x.requestId)),
      );
    }
    res.off('close', onClose);
    if (x.cancelled) abort.abort();
    await finish();
  }
}

/**
 * Sends to the route's providers in order: the next one is tried when one could not be reached,
 * timed out before answering, or answered 5xx — always before any byte reached the client. The
 * exchange records the provider that answered, every attempt in `retry_count`, and the providers
 * that failed over in `error_message`.
 */
async function sendWithFallback(
  x: Exchange,
  targets: readonly ProviderTarget[],
  req: {
    method: string;
    headers: Record<string, string>;
    body: Buffer | null;
    signal: AbortFlag;
    /** Tollgate supplies the provider key (managed mode): no client credential goes upstream. */
    managed: boolean;
  },
): Promise<UpstreamResponse> {
  const failed: string[] = [];
  let retries = 0;
  for (let i = 0; ; i++) {
    const t = targets[i]!;
    const last = i === targets.length - 1;
    x.provider = t.name;
    x.providerKeyId = t.keyId;
    const headers = { ...req.headers };
    for (const [name, value] of Object.entries(t.requiredHeaders)) headers[name] ??= value;
    if (t.keyHeaders) {
      // Managed mode: the provider's own key, in its own header; no client credential goes on.
      for (const name of CLIENT_CREDENTIAL_HEADERS) delete headers[name];
      Object.assign(headers, t.keyHeaders);
    }
    const path = req.managed || t.keyHeaders ? withoutQueryApiKey(t.path) : t.path;
    try {
      const res = await t.client.send({
        method: req.method,
        headers,
        body: req.body,
        signal: req.signal,
        path,
        absolutePath: true,
      });
      retries += res.retryCount;
      if (res.statusCode >= 500 && !last) {
        await res.body.dump().catch(() => undefined);
        failed.push(`${t.name} (HTTP ${res.statusCode})`);
        retries++;
        continue;
      }
      x.retryCount = retries;
      if (failed.length) x.failover = failed;
      return res;
    } catch (err) {
      if (
        last ||
        !(err instanceof UpstreamFailure) ||
        err.kind === 'aborted' ||
        err.kind === 'idle_timeout' ||
        req.signal.aborted
      ) {
        x.retryCount = retries + (err instanceof UpstreamFailure ? err.retryCount : 0);
        if (failed.length) x.failover = failed;
        throw err;
      }
      failed.push(`${t.name} (${err.kind})`);
      retries += err.retryCount + 1;
    }
  }
}

function sendError(res: ServerResponse, code: ErrorCode, requestId: string | null): void {
  res.writeHead(ERROR_CATALOG[code].http, { 'content-type': 'application/json' });
  res.end(errorBody(code, requestId));
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first && /^[0-9a-fA-F:.]{2,45}$/.test(first)) return first;
  }
  const ip = req.socket.remoteAddress ?? null;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function errName(err: unknown): string {
  return err instanceof TollgateError ? err.code : err instanceof Error ? err.name : 'unknown';
}
