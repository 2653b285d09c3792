/**
 * Security rollups, independent of the database: authentication failures per (IP, key, prefix)
 * and redaction hits per type, summed per minute, hour and day as events are written (SQLite:
 * sqlite-security-rollups.ts, PostgreSQL: postgres-security-rollups.ts), so the security page
 * over 30 days reads a few thousand rows instead of every event of the window.
 *
 * The figures of `tollgate report security` that are not auth failures or redactions are kept
 * per hour and day only (the report's window is aligned outward to whole hours): events per
 * bucket, requests and failures per model and per key (error rates), anomalous events per
 * session and the threat indicators seen per session.
 *
 * Every kind is written at each of its granularities per batch: no day fold, and a late event
 * lands in its own minute, hour and day like any other.
 */
import { isAuthFailure, isRequestFailure } from '../core/event-outcome.js';
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
  | 'timestamp'
  | 'status'
  | 'auth_result'
  | 'ip_address'
  | 'api_key_id'
  | 'api_key_prefix'
  | 'redactions'
  | 'model_used'
  | 'model_requested'
  | 'session_id'
  | 'user_id'
  | 'is_anomalous'
  | 'threat_indicators'
>;

export const KIND_AUTH_FAILURE = 0;
export const KIND_REDACTION = 1;
/** Every event (AI requests and administrative actions): a = ''. Hour and day only. */
export const KIND_EVENTS = 2;
/**
 * Per model (a = model_used ?? model_requested): n = requests that are neither an auth failure
 * nor CANCELLED, hits = those that failed (isRequestFailure). Hour and day only.
 */
export const KIND_ERRORS_BY_MODEL = 3;
/** The same per key (a = api_key_id). Hour and day only. */
export const KIND_ERRORS_BY_KEY = 4;
/** Anomalous events per session (a = session_id, b = user_id, FLAG_NO_USER when null). Hour and day only. */
export const KIND_SESSION_ANOMALIES = 5;
/** Events of a session carrying a threat indicator (a = session_id, b = indicator). Hour and day only. */
export const KIND_SESSION_INDICATORS = 6;

/** `flags` bits of an auth-failure row: which of a, b, c were null, and the status class. */
export const FLAG_NO_IP = 1;
export const FLAG_NO_KEY = 2;
export const FLAG_NO_PREFIX = 4;
/** Status AUTH_FAILED or BLOCKED: the refusals the security page charts (the report counts every auth failure). */
export const FLAG_REFUSED = 8;
/** KIND_SESSION_ANOMALIES: the events had no user_id. */
export const FLAG_NO_USER = 1;

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
/** The report-only kinds: hours and days (a minute row per key or session would be one per event). */
const HOUR_AND_DAY = GRANULARITIES.slice(1);

/** Sums a batch's security rows, unique on the key and sorted by it (one UPSERT, one lock order). */
export function foldSecurity(events: readonly SecurityRollupEvent[]): SecurityRow[] {
  // Per (granularity, kind, bucket), then per (a, b, c, flags): a batch has a few buckets, and the
  // bucket's digits are not turned into a key string per row and event (the write path runs this).
  const groups = new Map<number, Map<number, Map<string, SecurityRow>>>();
  const add = (
    kind: number,
    ts: number,
    a: string,
    b: string,
    c: string,
    flags: number,
    hits: number,
    granularities = GRANULARITIES,
  ): void => {
    const id = `${a}\u0001${b}\u0001${c}\u0001${flags}`;
    for (const [granularity, size] of granularities) {
      const bucket = ts - (((ts % size) + size) % size);
      let byBucket = groups.get(granularity * 256 + kind);
      if (!byBucket)
        groups.set(granularity * 256 + kind, (byBucket = new Map<number, Map<string, SecurityRow>>()));
      let rows = byBucket.get(bucket);
      if (!rows) byBucket.set(bucket, (rows = new Map<string, SecurityRow>()));
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
    add(KIND_EVENTS, ts, '', '', '', 0, 0, HOUR_AND_DAY);
    if (!isAuthFailure(e) && e.status !== 'CANCELLED') {
      const failed = isRequestFailure(e) ? 1 : 0;
      const model = e.model_used ?? e.model_requested;
      if (model !== null) add(KIND_ERRORS_BY_MODEL, ts, model, '', '', 0, failed, HOUR_AND_DAY);
      if (e.api_key_id !== null) add(KIND_ERRORS_BY_KEY, ts, e.api_key_id, '', '', 0, failed, HOUR_AND_DAY);
    }
    if (e.session_id !== null) {
      if (e.is_anomalous)
        add(
          KIND_SESSION_ANOMALIES,
          ts,
          e.session_id,
          e.user_id ?? '',
          '',
          e.user_id === null ? FLAG_NO_USER : 0,
          0,
          HOUR_AND_DAY,
        );
      for (const t of new Set(e.threat_indicators))
        add(KIND_SESSION_INDICATORS, ts, e.session_id, t, '', 0, 0, HOUR_AND_DAY);
    }
  }
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  const all: SecurityRow[] = [];
  for (const byBucket of groups.values())
    for (const rows of byBucket.values()) for (const r of rows.values()) all.push(r);
  return all.sort(
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

/** Requests and failures of one model or key (KIND_ERRORS_BY_MODEL / _BY_KEY). */
export interface ErrorCount {
  key: string;
  requests: number;
  failed: number;
}

/** The report-only figures of a window aligned to whole hours (see reportCounts). */
export interface SecurityReportCounts {
  /** Every event of the window. */
  events: number;
  errors_by_model: ErrorCount[];
  errors_by_key: ErrorCount[];
  /** Sessions with an anomalous event: their count, and the user with the most of them. */
  anomalous_sessions: { session_id: string; user_id: string | null; anomalous_events: number }[];
}

/** Reads the security rollups; implemented by each store. Windows are aligned outward to the minute. */
export interface SecurityRollupReader {
  authFailures(sinceMs: number, untilMs: number, bucketMs: number): Promise<AuthFailureCounts>;
  redactionHits(sinceMs: number, untilMs: number): Promise<RedactionHits[]>;
  /** The report-only kinds over [fromMs, toMs), both whole hours. */
  reportCounts(fromMs: number, toMs: number): Promise<SecurityReportCounts>;
  /** The threat indicators seen per session over [fromMs, toMs) (whole hours), sorted. */
  sessionIndicators(
    sessionIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, string[]>>;
}

/** Hour-and-day ranges of a window of whole hours (the report-only kinds have no minute rows). */
export function hourRanges(fromMs: number, toMs: number): BucketRange[] {
  return bucketRanges(fromMs, toMs, HOUR_MS);
}

/**
 * Summed rows (kind, a, b, flags, n, hits) of the report-only kinds into SecurityReportCounts;
 * an anomalous session's user is the one with the most anomalous events (ties: the smaller id),
 * null only when none of them had a user.
 */
export function reportCountsOf(
  rows: Iterable<{ kind: number; a: string; b: string; flags: number; n: number; hits: number }>,
): SecurityReportCounts {
  const out: SecurityReportCounts = {
    events: 0,
    errors_by_model: [],
    errors_by_key: [],
    anomalous_sessions: [],
  };
  const sessions = new Map<string, { count: number; user: string | null; userCount: number }>();
  for (const r of rows) {
    if (r.kind === KIND_EVENTS) out.events += r.n;
    else if (r.kind === KIND_ERRORS_BY_MODEL)
      out.errors_by_model.push({ key: r.a, requests: r.n, failed: r.hits });
    else if (r.kind === KIND_ERRORS_BY_KEY)
      out.errors_by_key.push({ key: r.a, requests: r.n, failed: r.hits });
    else if (r.kind === KIND_SESSION_ANOMALIES) {
      let s = sessions.get(r.a);
      if (!s) sessions.set(r.a, (s = { count: 0, user: null, userCount: 0 }));
      s.count += r.n;
      const user = r.flags & FLAG_NO_USER ? null : r.b;
      if (user !== null && (s.user === null || r.n > s.userCount || (r.n === s.userCount && user < s.user))) {
        s.user = user;
        s.userCount = r.n;
      }
    }
  }
  for (const [session_id, s] of sessions)
    out.anomalous_sessions.push({ session_id, user_id: s.user, anomalous_events: s.count });
  return out;
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
