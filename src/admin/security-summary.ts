/**
 * The security view: authentication failures over time by key and IP, error rates, redaction
 * hits and the alerts of a window. Built for large stores: auth failures come from the
 * (status, ts_ms) index, error rates from the rollups, redaction hits from one aggregate over
 * the window's rows (SQLite `json_each`), never from loading the window into memory.
 */
import type { Alert } from '../alerting/alert.js';
import type { AlertStore } from '../alerting/alert-store.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { EventStore } from '../store/event-store.js';
import type { SqliteDatabase } from '../store/sqlite/open-sqlite.js';
import { HOUR_MS, type RollupReader } from '../store/rollups.js';

/** Auth failures read per status at most (a flood beyond this is reported as truncated). */
export const MAX_AUTH_FAILURE_ROWS = 50_000;
/** Without SQL access (PostgreSQL events), redaction hits are counted over the newest events only. */
const REDACTION_SAMPLE_EVENTS = 20_000;

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
  /** Non-SUCCESS share from the rollups (auth failures and cancellations included). */
  error_rates: {
    over_time: { start_ms: number; requests: number; errors: number }[];
    by_model: { model: string; requests: number; errors: number; rate: number }[];
    by_key: { key: string; requests: number; errors: number; rate: number }[];
  };
  redactions: { hits: { type: string; hits: number; events: number }[]; sampled: boolean };
  alerts: Alert[];
}

export interface SecuritySummaryDeps {
  store: EventStore;
  eventsDb: SqliteDatabase | null;
  rollups: RollupReader;
  alerts: AlertStore;
}

function authFailed(e: AuditEvent): boolean {
  return e.status === 'AUTH_FAILED' || (e.auth_result !== null && e.auth_result !== 'SUCCESS');
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

  // Auth failures: the statuses an auth refusal is recorded with, each an indexed range read.
  const failed: AuditEvent[] = [];
  let truncated = false;
  for (const status of ['AUTH_FAILED', 'BLOCKED'] as const) {
    const rows = await d.store.query({
      status,
      sinceMs,
      untilMs,
      limit: MAX_AUTH_FAILURE_ROWS,
      order: 'desc',
    });
    if (rows.length === MAX_AUTH_FAILURE_ROWS) truncated = true;
    for (const e of rows) if (authFailed(e)) failed.push(e);
  }
  const overTime = new Map<number, number>(starts.map((s) => [s, 0]));
  const byKey = new Map<string, { key: string; prefix: string | null; failures: number; last: number }>();
  const byIp = new Map<string, { ip: string; failures: number; keys: Set<string>; last: number }>();
  for (const e of failed) {
    const t = Date.parse(e.timestamp);
    const b = Math.floor(t / size) * size;
    overTime.set(b, (overTime.get(b) ?? 0) + 1);
    const key = e.api_key_id ?? e.api_key_prefix ?? '(none)';
    const k = byKey.get(key) ?? { key, prefix: e.api_key_prefix, failures: 0, last: 0 };
    k.failures++;
    k.last = Math.max(k.last, t);
    byKey.set(key, k);
    const ip = e.ip_address ?? '(unknown)';
    const i = byIp.get(ip) ?? { ip, failures: 0, keys: new Set<string>(), last: 0 };
    i.failures++;
    i.keys.add(key);
    i.last = Math.max(i.last, t);
    byIp.set(ip, i);
  }

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
      total: failed.length,
      truncated,
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
    alerts: await d.alerts.list({ sinceMs, limit: 100 }),
  };
}

async function redactionHits(
  d: SecuritySummaryDeps,
  sinceMs: number,
  untilMs: number,
): Promise<SecuritySummary['redactions']> {
  if (d.eventsDb) {
    const rows = d.eventsDb
      .prepare(
        `SELECT json_extract(r.value, '$.type') AS redaction_type, SUM(json_extract(r.value, '$.count')) AS hits, COUNT(*) AS events
         FROM events, json_each(events.redactions) AS r
         WHERE events.ts_ms >= ? AND events.ts_ms < ? AND events.redactions <> '[]'
         GROUP BY redaction_type ORDER BY hits DESC`,
      )
      .all(sinceMs, untilMs) as { redaction_type: string; hits: number; events: number }[];
    // (json_each has its own `type` column, hence the alias.)
    return {
      hits: rows.map((r) => ({ type: r.redaction_type, hits: r.hits, events: r.events })),
      sampled: false,
    };
  }
  const events = await d.store.query({ sinceMs, untilMs, limit: REDACTION_SAMPLE_EVENTS, order: 'desc' });
  const hits = new Map<string, { type: string; hits: number; events: number }>();
  for (const e of events) {
    for (const r of e.redactions) {
      const h = hits.get(r.type) ?? { type: r.type, hits: 0, events: 0 };
      h.hits += r.count;
      h.events++;
      hits.set(r.type, h);
    }
  }
  return {
    hits: [...hits.values()].sort((a, b) => b.hits - a.hits),
    sampled: events.length === REDACTION_SAMPLE_EVENTS,
  };
}
