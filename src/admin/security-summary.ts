/**
 * The security view: authentication failures over time by key and IP, error rates, redaction
 * hits and the alerts of a window. Built for large stores: every figure comes from rollups kept
 * at write time (auth failures and redaction hits: security-rollups.ts; error rates: the cost
 * rollups; the provider quota: provider-quota-rollups.ts), on SQLite and PostgreSQL alike, never
 * from the window's events.
 * Windows are aligned outward to the minute (the rollups' finest bucket).
 */
import type { Alert } from '../alerting/alert.js';
import type { AlertStore } from '../alerting/alert-store.js';
import { HOUR_MS, type RollupReader } from '../store/rollups.js';
import type { ProviderQuotaSummary } from '../reports/provider-quota.js';

export interface TimeBucket {
  start_ms: number;
  value: number;
}

export interface SecuritySummary {
  since: string;
  until: string;
  bucket_ms: number;
  auth_failures: {
    total: number;
    truncated: boolean;
    over_time: TimeBucket[];
    by_key: { key: string; prefix: string | null; failures: number; last_seen: string }[];
    by_ip: { ip: string; failures: number; distinct_keys: number; last_seen: string }[];
  };
  /** Error share from the rollups (core/event-outcome.ts isError: auth failures included, cancellations not). */
  error_rates: {
    over_time: { start_ms: number; requests: number; errors: number }[];
    by_model: { model: string; requests: number; errors: number; rate: number }[];
    by_key: { key: string; requests: number; errors: number; rate: number }[];
  };
  redactions: { hits: { type: string; hits: number; events: number }[]; sampled: boolean };
  /**
   * The provider's quota per provider key (src/reports/provider-quota.ts), from the summary kept
   * at write time, over the whole window (`sampled` is always false).
   */
  provider_quota: ProviderQuotaSummary;
  alerts: Alert[];
}

export interface SecuritySummaryDeps {
  rollups: RollupReader;
  alerts: AlertStore;
}

/** Chart buckets: 5 minutes up to a 3-hour window (the totals rollup keeps minutes), hours up to 3 days, then days. */
export function bucketSize(sinceMs: number, untilMs: number): number {
  const span = untilMs - sinceMs;
  if (span <= 3 * HOUR_MS + 60_000) return 5 * 60_000;
  return span <= 3 * 86_400_000 ? HOUR_MS : 86_400_000;
}

/** Bucket starts covering [sinceMs, untilMs), aligned to the bucket size (UTC). */
export function bucketStarts(sinceMs: number, untilMs: number, size: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(sinceMs / size) * size; t < untilMs; t += size) out.push(t);
  return out;
}

export async function securitySummary(
  d: SecuritySummaryDeps,
  sinceMs: number,
  untilMs: number,
): Promise<SecuritySummary> {
  const size = bucketSize(sinceMs, untilMs);
  const starts = bucketStarts(sinceMs, untilMs, size);

  // Auth failures: the refusals (status AUTH_FAILED or BLOCKED with a failed credential), from
  // the security rollups' (IP, key, prefix) rows of the window.
  const counts = await d.rollups.authFailures(sinceMs, untilMs, size);
  const failed = counts.pairs.filter((p) => p.refused);
  const overTime = new Map<number, number>(starts.map((s) => [s, 0]));
  for (const t of counts.over_time)
    if (t.refused && overTime.has(t.start_ms))
      overTime.set(t.start_ms, overTime.get(t.start_ms)! + t.failures);
  const byKey = new Map<string, { key: string; prefix: string | null; failures: number; last: number }>();
  const byIp = new Map<string, { ip: string; failures: number; keys: Set<string>; last: number }>();
  for (const p of failed) {
    const key = p.key_id ?? p.prefix ?? '(none)';
    const k = byKey.get(key) ?? { key, prefix: p.prefix, failures: 0, last: 0 };
    k.failures += p.failures;
    // The prefix shown is the newest failure's.
    if (p.last_ts_ms > k.last) {
      k.last = p.last_ts_ms;
      k.prefix = p.prefix;
    }
    byKey.set(key, k);
    const ip = p.ip ?? '(unknown)';
    const i = byIp.get(ip) ?? { ip, failures: 0, keys: new Set<string>(), last: 0 };
    i.failures += p.failures;
    i.keys.add(key);
    i.last = Math.max(i.last, p.last_ts_ms);
    byIp.set(ip, i);
  }
  const total = failed.reduce((n, p) => n + p.failures, 0);

  // Error rates from the rollups (one small read per bucket and per dimension).
  const rate = (errors: number, requests: number): number => (requests === 0 ? 0 : errors / requests);
  const perBucket = await Promise.all(starts.map((s) => d.rollups.groups('all', s, s + size)));
  const errorsOverTime = starts.map((s, i) => {
    const g = perBucket[i]![0];
    return { start_ms: s, requests: g?.requests ?? 0, errors: g?.errors ?? 0 };
  });
  const byModel = (await d.rollups.groups('model', sinceMs, untilMs))
    .map((g) => ({
      model: g.key || '(none)',
      requests: g.requests,
      errors: g.errors,
      rate: rate(g.errors, g.requests),
    }))
    .sort((a, b) => b.errors - a.errors || b.requests - a.requests)
    .slice(0, 20);
  const byKeyRates = (await d.rollups.groups('key', sinceMs, untilMs))
    .map((g) => ({
      key: g.key || '(none)',
      requests: g.requests,
      errors: g.errors,
      rate: rate(g.errors, g.requests),
    }))
    .sort((a, b) => b.errors - a.errors || b.requests - a.requests)
    .slice(0, 20);

  return {
    since: new Date(sinceMs).toISOString(),
    until: new Date(untilMs).toISOString(),
    bucket_ms: size,
    auth_failures: {
      total,
      truncated: false,
      over_time: [...overTime]
        .map(([start_ms, value]) => ({ start_ms, value }))
        .sort((a, b) => a.start_ms - b.start_ms),
      by_key: [...byKey.values()]
        .sort((a, b) => b.failures - a.failures)
        .slice(0, 20)
        .map((k) => ({
          key: k.key,
          prefix: k.prefix,
          failures: k.failures,
          last_seen: new Date(k.last).toISOString(),
        })),
      by_ip: [...byIp.values()]
        .sort((a, b) => b.failures - a.failures)
        .slice(0, 20)
        .map((i) => ({
          ip: i.ip,
          failures: i.failures,
          distinct_keys: i.keys.size,
          last_seen: new Date(i.last).toISOString(),
        })),
    },
    error_rates: { over_time: errorsOverTime, by_model: byModel, by_key: byKeyRates },
    redactions: await redactionHits(d, sinceMs, untilMs),
    provider_quota: await d.rollups.providerQuota(sinceMs, untilMs, 50),
    alerts: await d.alerts.list({ sinceMs, limit: 100 }),
  };
}

async function redactionHits(
  d: SecuritySummaryDeps,
  sinceMs: number,
  untilMs: number,
): Promise<SecuritySummary['redactions']> {
  return { hits: await d.rollups.redactionHits(sinceMs, untilMs), sampled: false };
}
