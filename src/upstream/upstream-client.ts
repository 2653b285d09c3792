import { Agent, type Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import { QUOTA_BODY_LIMIT, quotaExhaustedInText } from './quota-exhausted.js';
import { backoffMs, parseRetryAfter, type UpstreamPolicy } from './upstream-policy.js';
import type { CancelSignal } from './abort-flag.js';

export interface UpstreamRequest {
  method: string;
  /** Path and query under the configured base URL, e.g. `/chat/completions?x=1`. */
  path: string;
  /** `path` is the whole path on the origin, base path included (a provider router built it). */
  absolutePath?: boolean;
  headers: Record<string, string>;
  body: Buffer | null;
  /** Aborted when the client goes away or the total deadline passes. */
  signal: CancelSignal;
}

/** A response body: undici's, or one already read whole (an error body read to classify it). */
export interface UpstreamBody extends AsyncIterable<Buffer> {
  dump(): Promise<unknown>;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
  /** Attempts after the first. */
  retryCount: number;
}

/** Why an upstream call failed without a response. */
export type UpstreamFailureKind =
  'connect' | 'connect_timeout' | 'first_byte_timeout' | 'idle_timeout' | 'aborted';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly retryCount: number,
    options?: ErrorOptions,
  ) {
    super(`upstream ${kind}`, options);
    this.name = 'UpstreamFailure';
  }

  /** The catalog error this failure maps to. */
  toTollgateError(): TollgateError {
    switch (this.kind) {
      case 'connect':
        return new TollgateError('TG_ERR_UPSTREAM_CONNECT', { retry_count: this.retryCount });
      case 'idle_timeout':
        return new TollgateError('TG_ERR_UPSTREAM_IDLE_TIMEOUT', { retry_count: this.retryCount });
      case 'aborted':
        return new TollgateError('TG_ERR_CLIENT_CANCELLED');
      default:
        return new TollgateError('TG_ERR_UPSTREAM_TIMEOUT', { retry_count: this.retryCount });
    }
  }
}

/** Classifies an undici/network error (codes from undici's `lib/core/errors.js` and libuv). */
export function classifyNetworkError(err: unknown, signal?: CancelSignal): UpstreamFailureKind {
  if (signal?.aborted) return 'aborted';
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'first_byte_timeout';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'idle_timeout';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    default:
      return (err as { name?: string } | null)?.name === 'AbortError' ? 'aborted' : 'connect';
  }
}

/**
 * The one client for provider calls: fixed origin (no request can redirect it), keep-alive pool,
 * separate connect / first-byte / idle timeouts, and retries with full-jitter backoff that honour
 * Retry-After — only before any response byte has gone to the caller.
 */
export class UpstreamClient {
  readonly origin: string;
  readonly basePath: string;
  private readonly agent: Agent;

  constructor(
    baseUrl: string,
    private readonly policy: UpstreamPolicy,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'upstream_url' });
    }
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.agent = new Agent({
      connect: { timeout: policy.timeouts.connectMs },
      headersTimeout: policy.timeouts.firstByteMs,
      bodyTimeout: policy.timeouts.idleMs,
      keepAliveTimeout: 30_000,
      connections: 256,
      pipelining: 1,
    });
  }

  /** Sends with retries. Throws `UpstreamFailure` when no response could be had. */
  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { maxRetries, retryOnStatus } = this.policy.retry;
    for (let attempt = 0; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.agent.request({
          origin: this.origin,
          path: req.absolutePath === true ? req.path : this.basePath + req.path,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: req.signal,
        });
      } catch (err) {
        const kind = classifyNetworkError(err, req.signal);
        // Only connection failures are retried: a timeout already spent its budget.
        if (kind === 'connect' && attempt < maxRetries) {
          await this.pause(attempt + 1, null, req.signal, attempt);
          continue;
        }
        throw new UpstreamFailure(kind, attempt, { cause: err });
      }
      if (retryOnStatus.includes(res.statusCode) && attempt < maxRetries) {
        // An out-of-credit answer comes as a 429 too: read the (small) error body before retrying,
        // and hand it on unretried when it says so (src/upstream/quota-exhausted.ts).
        const text = await readBounded(res.body, QUOTA_BODY_LIMIT);
        if (text !== null && quotaExhaustedInText(text) !== null)
          return {
            statusCode: res.statusCode,
            headers: res.headers,
            body: bufferedBody(text),
            retryCount: attempt,
          };
        const retryAfter = parseRetryAfter(res.headers, this.clock.now());
        await this.pause(attempt + 1, retryAfter, req.signal, attempt);
        continue;
      }
      return { statusCode: res.statusCode, headers: res.headers, body: res.body, retryCount: attempt };
    }
  }

  private async pause(
    attempt: number,
    retryAfterMs: number | null,
    signal: CancelSignal,
    retriesSoFar: number,
  ): Promise<void> {
    const ms = backoffMs(attempt, this.policy.retry, retryAfterMs, this.random);
    if (signal.aborted) throw new UpstreamFailure('aborted', retriesSoFar);
    if (ms <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new UpstreamFailure('aborted', retriesSoFar));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The body as text when it ends within `limit` bytes; null (rest discarded) when longer or broken. */
async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Too long to be an out-of-credit answer: leaving the loop destroys the body (and its
      // connection). dump() here waited on the iterator this loop still held, until the timeout.
      if (size > limit) return null;
      chunks.push(chunk);
    }
  } catch {
    return null;
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** A body already read: one chunk, then the end. */
function bufferedBody(text: string): UpstreamBody {
  const chunk = Buffer.from(text, 'utf8');
  return {
    async *[Symbol.asyncIterator]() {
      yield chunk;
    },
    dump: async () => undefined,
  };
}
