/**
 * The provider's quota per provider key, kept at write time (issue 20, issue 22): per minute, hour
 * and day bucket, provider key fingerprint and kind (requests, tokens), the latest reading of the
 * bucket (remaining, limit, reset, provider, time), the lowest share remaining / limit and when it
 * was first reached, and the number of readings. A window then reads a few rows per key (whole days
 * as day rows, the edges as hours and minutes) instead of the newest 20,000 events, and the figures
 * cover the whole window. SQLite: sqlite-provider-quota.ts, PostgreSQL: postgres-provider-quota.ts.
 *
 * Rows merge by the same rule in the UPSERT, in the reads and in `mergeQuotaRows`: the latest
 * reading is the one with the greatest time (a later write wins a tie), the lowest share the
 * smallest one (the earliest time wins a tie); readings add up. Like every rollup, the rows stay
 * when retention prunes the events they came from; a rebuild recomputes them from the events kept.
 */
import type { AuditEvent } from '../core/audit-event.js';
import {
  bucketRanges,
  DAY_MS,
  G_DAY,
  G_HOUR,
  G_MINUTE,
  HOUR_MS,
  MINUTE_MS,
  type BucketRange,
} from './rollups.js';

/**
 * The event fields the provider quota reads; AuditEvent satisfies it. Absent readings count as
 * none, so a caller that builds rollup events without them (bench/postgres.bench.ts) adds nothing.
 */
export type ProviderQuotaEvent = Pick<AuditEvent, 'timestamp'> &
  Partial<
    Pick<
      AuditEvent,
      | 'api_provider'
      | 'api_key_id'
      | 'provider_key_id'
      | 'provider_requests_remaining'
      | 'provider_requests_limit'
      | 'provider_requests_reset'
      | 'provider_tokens_remaining'
      | 'provider_tokens_limit'
      | 'provider_tokens_reset'
    >
  >;

export type QuotaKind = 'requests' | 'tokens';

/** The kinds as stored (`kind` column) and the event fields of each. */
export const QUOTA_KINDS = [
  {
    kind: 'requests',
    remaining: 'provider_requests_remaining',
    limit: 'provider_requests_limit',
    reset: 'provider_requests_reset',
  },
  {
    kind: 'tokens',
    remaining: 'provider_tokens_remaining',
    limit: 'provider_tokens_limit',
    reset: 'provider_tokens_reset',
  },
] as const;

/** Before provider_key_id existed nothing had readings; the client's key is the provider's in passthrough and the SDK. */
export const UNKNOWN_PROVIDER_KEY = '(unknown)';

/** One stored row: a bucket's readings of one provider key and kind. */
export interface QuotaRow {
  granularity: 0 | 1 | 2;
  bucket: number;
  key: string;
  /** Index into QUOTA_KINDS. */
  kind: number;
  /** Of the latest reading ('' when the event had none). */
  provider: string;
  remaining: number;
  /** null without a limit header. */
  lim: number | null;
  reset: string | null;
  at_ms: number;
  readings: number;
  /** remaining / limit, lowest of the bucket; null when no reading had a limit. */
  lowest_share: number | null;
  lowest_at_ms: number | null;
}

export const QUOTA_COLUMNS = [
  'granularity',
  'bucket',
  'key',
  'kind',
  'provider',
  'remaining',
  'lim',
  'reset',
  'at_ms',
  'readings',
  'lowest_share',
  'lowest_at_ms',
] as const satisfies readonly (keyof QuotaRow)[];

/** One provider key and kind over a window: what the report and the security page show. */
export interface ProviderQuotaRow {
  /** Fingerprint of the provider key (api_key_id form), never the key. */
  key: string;
  provider: string | null;
  kind: QuotaKind;
  /** The latest reading in the window. */
  remaining: number;
  limit: number | null;
  /** remaining / limit of the latest reading; null without a limit. */
  share: number | null;
  reset: string | null;
  /** Time of the event that carried the latest reading. */
  at: string;
  /** Lowest remaining / limit of the window, and when it was first reached; null when no reading had a limit. */
  lowest_share: number | null;
  lowest_at: string | null;
  /** Events in the window with a reading of this kind for this key. */
  readings: number;
}

/** The rows of a window. `sampled` is always false now (the figures cover the whole window); kept for the JSON shape. */
export interface ProviderQuotaSummary {
  rows: ProviderQuotaRow[];
  sampled: boolean;
}

/** Reads the provider quota summary; implemented by each store. */
export interface ProviderQuotaReader {
  /** The provider quota of [sinceMs, untilMs), aligned outward to the minute, the closest to exhaustion first, at most `top` rows. */
  providerQuota(sinceMs: number, untilMs: number, top: number): Promise<ProviderQuotaSummary>;
}

const GRANULARITIES: readonly [0 | 1 | 2, number][] = [
  [G_MINUTE, MINUTE_MS],
  [G_HOUR, HOUR_MS],
  [G_DAY, DAY_MS],
];

/** `b` merged into `a` (either order of time): the rule of the UPSERT and of the reads. */
export function mergeQuota(a: QuotaRow, b: QuotaRow): void {
  if (b.at_ms >= a.at_ms) {
    a.provider = b.provider;
    a.remaining = b.remaining;
    a.lim = b.lim;
    a.reset = b.reset;
    a.at_ms = b.at_ms;
  }
  a.readings += b.readings;
  if (
    b.lowest_share !== null &&
    (a.lowest_share === null ||
      b.lowest_share < a.lowest_share ||
      (b.lowest_share === a.lowest_share && b.lowest_at_ms! < a.lowest_at_ms!))
  ) {
    a.lowest_share = b.lowest_share;
    a.lowest_at_ms = b.lowest_at_ms;
  }
}

/** A batch's rows, per (granularity, bucket, key, kind), sorted by that key (one UPSERT, one lock order). */
export function foldProviderQuota(events: readonly ProviderQuotaEvent[]): QuotaRow[] {
  const rows = new Map<string, QuotaRow>();
  for (const e of events) {
    const ts = Date.parse(e.timestamp);
    if (!Number.isFinite(ts)) continue;
    for (let kind = 0; kind < QUOTA_KINDS.length; kind++) {
      const k = QUOTA_KINDS[kind]!;
      const remaining = e[k.remaining];
      if (remaining === null || remaining === undefined) continue;
      const key = e.provider_key_id ?? e.api_key_id ?? UNKNOWN_PROVIDER_KEY;
      const lim = e[k.limit] ?? null;
      const share = lim !== null && lim > 0 ? remaining / lim : null;
      for (const [granularity, size] of GRANULARITIES) {
        const one: QuotaRow = {
          granularity,
          bucket: ts - (ts % size),
          key,
          kind,
          provider: e.api_provider ?? '',
          remaining,
          lim,
          reset: e[k.reset] ?? null,
          at_ms: ts,
          readings: 1,
          lowest_share: share,
          lowest_at_ms: share === null ? null : ts,
        };
        const id = `${granularity}\u0000${one.bucket}\u0000${key}\u0000${kind}`;
        const r = rows.get(id);
        if (r) mergeQuota(r, one);
        else rows.set(id, one);
      }
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      a.granularity - b.granularity ||
      a.bucket - b.bucket ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
      a.kind - b.kind,
  );
}

/** The bucket ranges of a window: whole days as days, the edges as hours and minutes. */
export function quotaRanges(sinceMs: number, untilMs: number): BucketRange[] {
  return bucketRanges(sinceMs, untilMs, MINUTE_MS);
}

/** Rows of a window's ranges (any order) merged per key and kind, the closest to exhaustion first. */
export function providerQuotaOfRows(rows: Iterable<QuotaRow>, top: number): ProviderQuotaSummary {
  const merged = new Map<string, QuotaRow>();
  for (const r of rows) {
    const id = `${r.key}\u0000${r.kind}`;
    const m = merged.get(id);
    if (m) mergeQuota(m, r);
    else merged.set(id, { ...r });
  }
  const out: ProviderQuotaRow[] = [...merged.values()].map((r) => ({
    key: r.key,
    provider: r.provider === '' ? null : r.provider,
    kind: QUOTA_KINDS[r.kind]!.kind,
    remaining: r.remaining,
    limit: r.lim,
    share: r.lim !== null && r.lim > 0 ? r.remaining / r.lim : null,
    reset: r.reset,
    at: new Date(r.at_ms).toISOString(),
    lowest_share: r.lowest_share,
    lowest_at: r.lowest_at_ms === null ? null : new Date(r.lowest_at_ms).toISOString(),
    readings: r.readings,
  }));
  out.sort(
    (a, b) =>
      (a.lowest_share ?? 2) - (b.lowest_share ?? 2) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : a.kind < b.kind ? -1 : 1),
  );
  return { rows: out.slice(0, top), sampled: false };
}

/**
 * The SET list of the UPSERT that merges a batch's row (`excluded`) into the stored one (`o.` on
 * PostgreSQL, unqualified on SQLite): mergeQuota in SQL. SET expressions read the stored row as it
 * was before the update.
 */
export function quotaMergeSet(dialect: 'sqlite' | 'postgres'): string {
  const o = dialect === 'postgres' ? 'o.' : '';
  const max = dialect === 'postgres' ? 'GREATEST' : 'MAX';
  const later = `excluded.at_ms >= ${o}at_ms`;
  const lower = `excluded.lowest_share IS NOT NULL AND (${o}lowest_share IS NULL OR excluded.lowest_share < ${o}lowest_share
      OR (excluded.lowest_share = ${o}lowest_share AND excluded.lowest_at_ms < ${o}lowest_at_ms))`;
  return `${['provider', 'remaining', 'lim', 'reset'].map((c) => `${c} = CASE WHEN ${later} THEN excluded.${c} ELSE ${o}${c} END`).join(', ')},
    at_ms = ${max}(${o}at_ms, excluded.at_ms),
    readings = ${o}readings + excluded.readings,
    lowest_share = CASE WHEN ${lower} THEN excluded.lowest_share ELSE ${o}lowest_share END,
    lowest_at_ms = CASE WHEN ${lower} THEN excluded.lowest_at_ms ELSE ${o}lowest_at_ms END`;
}
