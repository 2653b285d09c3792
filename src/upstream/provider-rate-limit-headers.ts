/**
 * What a provider says about its own rate limits on every answer, per provider: the header names
 * and how their resets are written. Kept apart so the provider specs (src/providers/…) can take
 * their row over. OpenAI (and OpenAI-compatible hosts): `x-ratelimit-{limit,remaining,reset}-
 * {requests,tokens}`, resets as durations (`6m0s`, `1.5s`, `20ms`). Anthropic:
 * `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`, resets as RFC 3339 times.
 */

/** Remaining quota of one kind (requests or tokens) at one provider key, as last reported. */
export interface QuotaReading {
  remaining: number;
  limit: number | null;
  /** When the provider says this quota is full again, epoch ms; null when not said. */
  resetAtMs: number | null;
}

export interface ProviderQuota {
  requests: QuotaReading | null;
  tokens: QuotaReading | null;
}

interface HeaderNames {
  limit: string;
  remaining: string;
  reset: string;
  resetFormat: 'duration' | 'time';
}

/** Header names by kind, per provider family; the first family whose `remaining` header is present wins. */
export const RATE_LIMIT_HEADERS: ReadonlyArray<Record<'requests' | 'tokens', HeaderNames>> = [
  {
    requests: {
      limit: 'anthropic-ratelimit-requests-limit',
      remaining: 'anthropic-ratelimit-requests-remaining',
      reset: 'anthropic-ratelimit-requests-reset',
      resetFormat: 'time',
    },
    tokens: {
      limit: 'anthropic-ratelimit-tokens-limit',
      remaining: 'anthropic-ratelimit-tokens-remaining',
      reset: 'anthropic-ratelimit-tokens-reset',
      resetFormat: 'time',
    },
  },
  {
    requests: {
      limit: 'x-ratelimit-limit-requests',
      remaining: 'x-ratelimit-remaining-requests',
      reset: 'x-ratelimit-reset-requests',
      resetFormat: 'duration',
    },
    tokens: {
      limit: 'x-ratelimit-limit-tokens',
      remaining: 'x-ratelimit-remaining-tokens',
      reset: 'x-ratelimit-reset-tokens',
      resetFormat: 'duration',
    },
  },
];

type Headers = Record<string, string | string[] | undefined>;

function first(h: Headers, name: string): string | null {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}

function count(v: string | null): number | null {
  if (v === null || !/^\s*\d+\s*$/.test(v)) return null;
  const n = Number(v);
  // A count past 2^53 is not a real quota: kept out, so every store takes the integer as it is.
  return Number.isSafeInteger(n) ? n : null;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** `6m0s`, `1.5s`, `20ms`, `1h2m` → milliseconds; null when not a duration. */
export function parseResetDuration(v: string): number | null {
  const text = v.trim();
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let ms = 0;
  let read = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    read = re.lastIndex;
  }
  return read > 0 && read === text.length ? Math.round(ms) : null;
}

function reading(h: Headers, n: HeaderNames, nowMs: number): QuotaReading | null {
  const remaining = count(first(h, n.remaining));
  if (remaining === null) return null;
  const reset = first(h, n.reset);
  let resetAtMs: number | null = null;
  if (reset !== null) {
    if (n.resetFormat === 'time') {
      const t = Date.parse(reset);
      resetAtMs = Number.isNaN(t) ? null : t;
    } else {
      const d = parseResetDuration(reset);
      resetAtMs = d === null ? null : nowMs + d;
    }
  }
  return { remaining, limit: count(first(h, n.limit)), resetAtMs };
}

/** The quota an answer's headers report, or null when they report none. */
export function readProviderQuota(headers: Headers, nowMs: number): ProviderQuota | null {
  for (const family of RATE_LIMIT_HEADERS) {
    const requests = reading(headers, family.requests, nowMs);
    const tokens = reading(headers, family.tokens, nowMs);
    if (requests !== null || tokens !== null) return { requests, tokens };
  }
  return null;
}
