/**
 * Security rollups, independent of the database: authentication failures per (IP, key, prefix)
 * and redaction hits per type, summed per minute, hour and day as events are written (SQLite:
 * sqlite-security-rollups.ts, PostgreSQL: postgres-security-rollups.ts), so the security page
 * over 30 days reads a few thousand rows instead of every event of the window.
 *
 * Both kinds are sparse (a few percent of events), so every granularity is written per batch: no
 * day fold, and a late event lands in its own minute, hour and day like any other.
 */
import { isAuthFailure } from '../core/event-outcome.js';
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

/** The event fields security rollups read; AuditEvent satisfies it. */
export type SecurityRollupEvent = Pick<
  AuditEvent,
  'timestamp' | 'status' | 'auth_result' | 'ip_address' | 'api_key_id' | 'api_key_prefix' | 'redactions'
>;

export const KIND_AUTH_FAILURE = 0;
export const KIND_REDACTION = 1;

/** `flags` bits of an auth-failure row: which of a, b, c were null, and the status class. */
export const FLAG_NO_IP = 1;
export const FLAG_NO_KEY = 2;
export const FLAG_NO_PREFIX = 4;
/** Status AUTH_FAILED or BLOCKED: the refusals the security page charts (the report counts every auth failure). */
export const FLAG_REFUSED = 8;

// isAuthFailure is core/event-outcome.ts's (the SQL rebuilds say the same in SQL).
export { isAuthFailure };

/**
 * One row: kind AUTH_FAILURE keys (a, b, c) = (ip, api_key_id, api_key_prefix), null as '' with
 * its flag bit; kind REDACTION keys a = the redaction type (b, c '', flags 0), n = entries and
 * hits = their counts summed. `last_ts` is the newest event's time.
 */
export interface SecurityRow {
  granularity: 0 | 1 | 2;
  kind: number;
  bucket: number;
  a: string;
  b: string;
  c: string;
  flags: number;
  n: number;
  hits: number;
  last_ts: number;
}

export const SECURITY_KEY = ['granularity', 'kind', 'bucket', 'a', 'b', 'c', 'flags'] as const;
export const SECURITY_COLUMNS = [...SECURITY_KEY, 'n', 'hits', 'last_ts'] as const;

const GRANULARITIES: readonly [0 | 1 | 2, number][] = [
  [G_MINUTE, MINUTE_MS],
  [G_HOUR, HOUR_MS],
  [G_DAY, DAY_MS],
];

/** Sums a batch's security rows, unique on the key and sorted by it (one UPSERT, one lock order). */
export function foldSecurity(events: readonly SecurityRollupEvent[]): SecurityRow[] {
  const rows = new Map<string, SecurityRow>();
  const add = (
    kind: number,
    ts: number,
    a: string,
    b: string,
    c: string,
    flags: number,
    hits: number,
  ): void => {
    for (const [granularity, size] of GRANULARITIES) {
      const bucket = ts - (((ts % size) + size) % size);
      const id = `${granularity}\u0001${kind}\u0001${bucket}\u0001${a}\u0001${b}\u0001${c}\u0001${flags}`;
      const r = rows.get(id);
      if (r) {
        r.n += 1;
        r.hits += hits;
        if (ts > r.last_ts) r.last_ts = ts;
      } else rows.set(id, { granularity, kind, bucket, a, b, c, flags, n: 1, hits, last_ts: ts });
    }
  };
  for (const e of events) {
    const ts = Date.parse(e.timestamp);
    if (!Number.isFinite(ts)) continue;
    if (isAuthFailure(e)) {
      const flags =
        (e.ip_address === null ? FLAG_NO_IP : 0) |
        (e.api_key_id === null ? FLAG_NO_KEY : 0) |
        (e.api_key_prefix === null ? FLAG_NO_PREFIX : 0) |
        (e.status === 'AUTH_FAILED' || e.status === 'BLOCKED' ? FLAG_REFUSED : 0);
      add(KIND_AUTH_FAILURE, ts, e.ip_address ?? '', e.api_key_id ?? '', e.api_key_prefix ?? '', flags, 0);
    }
    for (const r of e.redactions) add(KIND_REDACTION, ts, r.type, '', '', 0, r.count);
  }
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return [...rows.values()].sort(
    (x, y) =>
      x.granularity - y.granularity ||
      x.kind - y.kind ||
      x.bucket - y.bucket ||
      cmp(x.a, y.a) ||
      cmp(x.b, y.b) ||
      cmp(x.c, y.c) ||
      x.flags - y.flags,
  );
}

/**
 * The buckets that cover [sinceMs, untilMs), aligned outward to the minute, none coarser than
 * `chartMs` (so each row falls in one chart bucket): minutes only under an hour, minutes and hours
 * up to a day, days in the middle beyond.
 */
export function securityRanges(sinceMs: number, untilMs: number, chartMs: number = DAY_MS): BucketRange[] {
  if (!(untilMs > sinceMs)) return [];
  if (chartMs < HOUR_MS)
    return [
      {
        granularity: G_MINUTE,
        from: Math.floor(sinceMs / MINUTE_MS) * MINUTE_MS,
        to: Math.ceil(untilMs / MINUTE_MS) * MINUTE_MS,
      },
    ];
  return bucketRanges(sinceMs, untilMs, MINUTE_MS, chartMs < DAY_MS ? Number.NEGATIVE_INFINITY : undefined);
}

/** Failures of one (IP, key, prefix, status class) over a window. */
export interface AuthFailurePair {
  ip: string | null;
  key_id: string | null;
  prefix: string | null;
  /** Status AUTH_FAILED or BLOCKED (see FLAG_REFUSED). */
  refused: boolean;
  failures: number;
  last_ts_ms: number;
}

export interface AuthFailureCounts {
  pairs: AuthFailurePair[];
  /** Failures per chart bucket (start = bucket start aligned to `bucketMs`) and status class. */
  over_time: { start_ms: number; refused: boolean; failures: number }[];
}

export interface RedactionHits {
  type: string;
  /** Sum of the entries' counts. */
  hits: number;
  /** Entries (one per event and type as recorded). */
  events: number;
}

/** Reads the security rollups; implemented by each store. Windows are aligned outward to the minute. */
export interface SecurityRollupReader {
  authFailures(sinceMs: number, untilMs: number, bucketMs: number): Promise<AuthFailureCounts>;
  redactionHits(sinceMs: number, untilMs: number): Promise<RedactionHits[]>;
}

/** A pair from a grouped row (a, b, c, flags, failures, last_ts). */
export function pairOf(
  a: string,
  b: string,
  c: string,
  flags: number,
  n: number,
  last: number,
): AuthFailurePair {
  return {
    ip: flags & FLAG_NO_IP ? null : a,
    key_id: flags & FLAG_NO_KEY ? null : b,
    prefix: flags & FLAG_NO_PREFIX ? null : c,
    refused: (flags & FLAG_REFUSED) !== 0,
    failures: n,
    last_ts_ms: last,
  };
}
