/**
 * Timeouts and retries for calls to a provider, in one typed object shared by the gateway's
 * upstream client and the SDK.
 */
export interface UpstreamPolicy {
  timeouts: {
    /** TCP + TLS connect. */
    connectMs: number;
    /** From request sent to response headers. */
    firstByteMs: number;
    /** Longest silence between two body chunks (streams included). */
    idleMs: number;
    /** Whole exchange, retries included. */
    totalMs: number;
  };
  retry: {
    /** Retries after the first attempt (0 disables). */
    maxRetries: number;
    /** First backoff ceiling; doubles per attempt (full jitter). */
    baseDelayMs: number;
    /** Largest backoff ceiling. */
    maxDelayMs: number;
    /** Largest Retry-After honoured; longer ones are clamped to this. */
    maxRetryAfterMs: number;
    /** HTTP statuses worth another attempt. */
    retryOnStatus: readonly number[];
  };
}

export const DEFAULT_UPSTREAM_POLICY: UpstreamPolicy = {
  timeouts: { connectMs: 5_000, firstByteMs: 60_000, idleMs: 30_000, totalMs: 600_000 },
  retry: {
    maxRetries: 2,
    baseDelayMs: 250,
    maxDelayMs: 8_000,
    maxRetryAfterMs: 20_000,
    retryOnStatus: [408, 409, 429, 500, 502, 503, 504],
  },
};

/** Merges a partial policy over the defaults. */
export function upstreamPolicy(partial?: {
  timeouts?: Partial<UpstreamPolicy['timeouts']>;
  retry?: Partial<UpstreamPolicy['retry']>;
}): UpstreamPolicy {
  return {
    timeouts: { ...DEFAULT_UPSTREAM_POLICY.timeouts, ...partial?.timeouts },
    retry: { ...DEFAULT_UPSTREAM_POLICY.retry, ...partial?.retry },
  };
}

/** The `timeouts` and `retry` sections of the config (tollgate.config.yaml). */
export interface UpstreamConfig {
  timeouts: { connect_ms: number; first_byte_ms: number; idle_ms: number; total_ms: number };
  retry: { max_retries: number; base_delay_ms: number; max_delay_ms: number; max_retry_after_ms: number };
}

/** The upstream policy of a config's `timeouts` and `retry` sections. */
export function upstreamPolicyFromConfig(config: UpstreamConfig): UpstreamPolicy {
  const { timeouts: t, retry: r } = config;
  return upstreamPolicy({
    timeouts: {
      connectMs: t.connect_ms,
      firstByteMs: t.first_byte_ms,
      idleMs: t.idle_ms,
      totalMs: t.total_ms,
    },
    retry: {
      maxRetries: r.max_retries,
      baseDelayMs: r.base_delay_ms,
      maxDelayMs: r.max_delay_ms,
      maxRetryAfterMs: r.max_retry_after_ms,
    },
  });
}

/**
 * Backoff before retry number `attempt` (1-based): "full jitter" — a uniform draw in
 * [0, min(maxDelay, base·2^(attempt-1))] (AWS Architecture Blog, "Exponential Backoff And Jitter").
 * A server's Retry-After, when given, wins, clamped to maxRetryAfterMs.
 */
export function backoffMs(
  attempt: number,
  policy: UpstreamPolicy['retry'],
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null) return Math.min(Math.max(0, retryAfterMs), policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Reads `retry-after-ms` (OpenAI, milliseconds) or `Retry-After` (RFC 9110 §10.2.3: delay-seconds
 * or an HTTP-date). Returns null when absent or unreadable.
 */
export function parseRetryAfter(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): number | null {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const ra = first(headers['retry-after']);
  if (ra === undefined) return null;
  const v = ra.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
