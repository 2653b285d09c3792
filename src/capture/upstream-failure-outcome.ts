import type { ErrorCode } from '../core/errors.js';
import { classifyNetworkError, UpstreamFailure } from '../upstream/upstream-client.js';
import type { Exchange } from './exchange.js';
import type { CancelSignal } from '../upstream/abort-flag.js';

/**
 * Records on the exchange why the upstream call produced no response (retries spent, timeout,
 * connection failure or the caller going away) and returns the error code to answer with.
 * The gateway and the SDK both end an exchange this way.
 */
export function recordUpstreamFailure(
  x: Exchange,
  err: unknown,
  signal: CancelSignal,
  totalTimedOut: boolean,
  upstreamLatencyMs: number,
): ErrorCode {
  const kind = err instanceof UpstreamFailure ? err.kind : classifyNetworkError(err, signal);
  // A route's fallback may have counted attempts at other providers already.
  if (x.retryCount === 0 && err instanceof UpstreamFailure) x.retryCount = err.retryCount;
  x.upstreamLatencyMs = upstreamLatencyMs;
  if (x.cancelled) return 'TG_ERR_CLIENT_CANCELLED';
  if (totalTimedOut || kind.endsWith('timeout')) {
    x.timedOut = true;
    return kind === 'idle_timeout' ? 'TG_ERR_UPSTREAM_IDLE_TIMEOUT' : 'TG_ERR_UPSTREAM_TIMEOUT';
  }
  x.connectFailed = true;
  return 'TG_ERR_UPSTREAM_CONNECT';
}
