/**
 * Cost and usage rollups, independent of the database: what is summed per bucket, which
 * dimensions exist, how a report window splits into minute/hour/day buckets, and how a batch
 * of events is folded in memory before a store writes it (SQLite: sqlite-rollups.ts,
 * PostgreSQL: postgres-rollups.ts). Both stores keep the same rows, so reports read either
 * through `RollupReader`.
 */
import { isError } from '../core/event-outcome.js';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { SecurityRollupReader } from './security-rollups.js';
import type { ProviderQuotaReader } from './provider-quota-rollups.js';
import { isUnpriced } from '../pricing/unpriced.js';

/** The event fields rollups read; AuditEvent satisfies it. */
export type RollupEvent = Pick<
  AuditEvent,
  | 'timestamp'
  | 'api_key_id'
  | 'virtual_key_id'
  | 'user_id'
  | 'feature_name'
  | 'model_used'
  | 'model_requested'
  | 'team'
  | 'session_id'
  | 'input_tokens'
  | 'output_tokens'
  | 'cached_input_tokens'
  | 'reasoning_tokens'
  | 'usage_source'
  | 'cost_micro_usd'
  | 'status'
  | 'http_method'
>;

/**
 * What a time-bucketed rollup can be grouped by. `all` has the single key '' (totals, `--by day`).
 * Sessions are rolled up per session and hour instead (session_rollups), see below.
 */
export type RollupDimension = 'all' | 'key' | 'user' | 'feature' | 'model' | 'team';

export const ROLLUP_DIMENSIONS: readonly RollupDimension[] = [
  'all',
  'key',
  'user',
  'feature',
  'model',
  'team',
];

/**
 * Finest bucket kept per dimension. Write cost is one UPSERT per distinct (bucket, key) in a
 * batch, so per-minute rows are kept only where keys are few (totals, model, team, feature);
 * keys and users, which can number in the thousands, start at the hour — a minute row per user
 * would be about one row per event. Sessions get one row per session and hour (totals plus the
 * input-growth summary of that segment), keyed hour first: the rows a batch touches are then
 * neighbours in the b-tree (the current hour) instead of scattered over every session ever seen,
 * and a report reads one contiguous range and joins the segments in hour order.
 */
export const FINEST_BUCKET_MS: Readonly<Record<RollupDimension, number>> = {
  all: 60_000,
  model: 60_000,
  team: 60_000,
  feature: 60_000,
  key: 3_600_000,
  user: 3_600_000,
};

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Bucket granularities as stored (minute, hour, day). */
export const G_MINUTE = 0;
export const G_HOUR = 1;
export const G_DAY = 2;
export const GRANULARITY_BY_MS = new Map<number, 0 | 1 | 2>([
  [MINUTE_MS, G_MINUTE],
  [HOUR_MS, G_HOUR],
]);

/** Sums kept per bucket. Reported token counts are the totals minus the estimated ones. */
export interface RollupTotals {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
  /** Requests whose usage was estimated (usage_source 'estimated'), and their tokens and cost. */
  estimated_requests: number;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
  estimated_cost_micro_usd: number;
  /** Sum over priced events only. */
  cost_micro_usd: number;
  /** Events with cost_micro_usd null: counted, never added as 0. */
  unpriced_requests: number;
}

/** One group of a rollup query. `key` is '' where the event had no value for the dimension. */
export interface RollupGroup extends RollupTotals {
  key: string;
}

/** One session's totals and input growth within a report window (hour resolution). */
export interface SessionGrowth extends RollupTotals {
  session_id: string;
  first_ts_ms: number;
  last_ts_ms: number;
  /** Requests with a known input token count (the ones growth is measured on). */
  growth_requests: number;
  first_input_tokens: number;
  last_input_tokens: number;
  max_input_tokens: number;
  /** Times a request had more input tokens than the previous one of the session. */
  increases: number;
  /** Consecutive increases ending at the latest request. */
  current_streak: number;
  /** Longest run of consecutive increases. */
  max_streak: number;
}

/** A half-open time range of one granularity's buckets: bucket >= from and bucket < to. */
export interface BucketRange {
  granularity: 0 | 1 | 2;
  from: number;
  to: number;
}

export const TOTAL_COLUMNS = [
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'estimated_requests',
  'estimated_input_tokens',
  'estimated_output_tokens',
  'estimated_cost_micro_usd',
  'cost_micro_usd',
  'unpriced_requests',
] as const satisfies readonly (keyof RollupTotals)[];

/** Totals of nothing: every column of TOTAL_COLUMNS at 0. */
export function zeroTotals(): RollupTotals {
  return Object.fromEntries(TOTAL_COLUMNS.map((c) => [c, 0])) as unknown as RollupTotals;
}

export const GROWTH_COLUMNS = [
  'growth_requests',
  'first_input_tokens',
  'last_input_tokens',
  'max_input_tokens',
  'increases',
  'lead_streak',
  'current_streak',
  'max_streak',
] as const;

/** A segment's columns as stored and read (session_rollups, session_days, session_totals). */
export const SEGMENT_COLUMNS = [
  'session_id',
  'first_ts_ms',
  'last_ts_ms',
  ...TOTAL_COLUMNS,
  ...GROWTH_COLUMNS,
] as const;

/**
 * A segment from a row read as an array (SEGMENT_COLUMNS from `offset`): building objects in
 * JavaScript from arrays costs a fraction of a driver's named-column rows (better-sqlite3: 20,000
 * summary rows as objects 1.5 s, as arrays 0.3 s under load), and rows filtered out cost nothing.
 */
export function segmentFromRaw(raw: readonly unknown[], offset = 0): SegmentRow {
  const out = {} as Record<string, unknown>;
  for (let i = 0; i < SEGMENT_COLUMNS.length; i++) out[SEGMENT_COLUMNS[i]!] = raw[offset + i];
  return out as unknown as SegmentRow;
}

/** A mutable accumulator, in TOTAL_COLUMNS order. */
export type Acc = number[];

export function addAcc(into: Acc, from: Acc): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
}

/** One session's requests within a batch and hour, merged into session_rollups by UPSERT arithmetic. */
export interface SessionRun {
  hour: number;
  session: string;
  first_ts: number;
  last_ts: number;
  acc: Acc;
  /** Growth part, over requests with a known input count. */
  n: number;
  first: number;
  last: number;
  max: number;
  increases: number;
  /** Consecutive increases from the batch's first request; rising while every step increased. */
  lead: number;
  rising: boolean;
  trail: number;
  maxStreak: number;
}

export function dimensionKeys(e: RollupEvent): string[] {
  return [
    '',
    e.virtual_key_id ?? e.api_key_id ?? '',
    e.user_id ?? '',
    e.feature_name ?? '',
    e.model_used ?? e.model_requested ?? '',
    e.team ?? '',
  ];
}

export function eventAcc(e: RollupEvent): Acc {
  const estimated = e.usage_source === 'estimated';
  const input = e.input_tokens ?? 0;
  const output = e.output_tokens ?? 0;
  const cost = e.cost_micro_usd;
  return [
    1,
    // core/event-outcome.ts: CANCELLED (the client went away) is not an error.
    isError(e) ? 1 : 0,
    input,
    output,
    e.cached_input_tokens ?? 0,
    e.reasoning_tokens ?? 0,
    estimated ? 1 : 0,
    estimated ? input : 0,
    estimated ? output : 0,
    estimated && cost !== null ? cost : 0,
    cost ?? 0,
    isUnpriced(e) ? 1 : 0,
  ];
}

/**
 * Splits [sinceMs, untilMs) into the fewest buckets: whole days, then whole hours, then (when
 * `finestMs` is a minute) minutes at the edges. Bounds are aligned outward to `finestMs`, so a
 * report's window has that resolution (one minute for totals and models, one hour for users).
 * Day buckets are used only for days that end at or before `foldedThroughMs` (see applyRollups).
 */
export function bucketRanges(
  sinceMs: number,
  untilMs: number,
  finestMs: number = MINUTE_MS,
  foldedThroughMs: number = Number.POSITIVE_INFINITY,
): BucketRange[] {
  if (!(untilMs > sinceMs)) return [];
  const s = Math.floor(sinceMs / finestMs) * finestMs;
  const u = Math.ceil(untilMs / finestMs) * finestMs;
  const out: BucketRange[] = [];
  const minutesAndHours = (a: number, b: number): void => {
    if (b <= a) return;
    const h0 = Math.ceil(a / HOUR_MS) * HOUR_MS;
    const h1 = Math.floor(b / HOUR_MS) * HOUR_MS;
    if (h0 < h1) {
      if (a < h0) out.push({ granularity: G_MINUTE, from: a, to: h0 });
      out.push({ granularity: G_HOUR, from: h0, to: h1 });
      if (h1 < b) out.push({ granularity: G_MINUTE, from: h1, to: b });
    } else {
      out.push({ granularity: G_MINUTE, from: a, to: b });
    }
  };
  const d0 = Math.ceil(s / DAY_MS) * DAY_MS;
  const d1 = Math.min(Math.floor(u / DAY_MS), Math.floor(foldedThroughMs / DAY_MS)) * DAY_MS;
  if (d0 < d1) {
    minutesAndHours(s, d0);
    out.push({ granularity: G_DAY, from: d0, to: d1 });
    minutesAndHours(d1, u);
  } else {
    minutesAndHours(s, u);
  }
  return out;
}

/** Reads rollups for reports, the dashboard and budgets; implemented by each store. */
export interface RollupReader extends SecurityRollupReader, ProviderQuotaReader {
  /** Totals per key of one dimension over [sinceMs, untilMs) (see bucketRanges), biggest cost first. */
  groups(dimension: RollupDimension, sinceMs: number, untilMs: number): Promise<RollupGroup[]>;
  /** Totals per UTC day over [sinceMs, untilMs); key is the day `YYYY-MM-DD`. */
  days(sinceMs: number, untilMs: number): Promise<RollupGroup[]>;
  /**
   * Sessions with a request in [sinceMs, untilMs) (aligned outward to whole hours), with their
   * totals and input growth over that window, segments joined in hour order.
   */
  sessions(sinceMs: number, untilMs: number): Promise<SessionGrowth[]>;
  /** The same for the given sessions only (their hour segments in the window, joined). */
  sessionsById(sessionIds: readonly string[], sinceMs: number, untilMs: number): Promise<SessionGrowth[]>;
  /**
   * The sessions whose context keeps growing, for the cost pages: sessions whose life overlaps
   * [sinceMs, untilMs) (aligned outward to whole hours), ranked by their input growth over their
   * whole life so far (growthRank: leaking first, then last / first input), those with a rank of
   * at least GROWING_MIN_RANK, at most `limit`, highest first (ties: session id). Read from
   * session_totals through an index on the rank, so the cost of a page does not grow with the
   * number of sessions; sessions whose summary is inexact are joined from their segments.
   */
  growingSessions(sinceMs: number, untilMs: number, limit: number): Promise<GrowingSessions>;
  /**
   * One page of the sessions with a request in [sinceMs, untilMs) (aligned outward to whole
   * hours), ranked by their cost in that window (highest first, ties by session id), after
   * `after` (the cursor of the previous page's last row; null for the first page), at most
   * `limit`: what `sessions` answers, ranked and cut, without reading every session of the window
   * (see each store). Also the window's session count and the sums over all of its sessions.
   */
  sessionPage(
    sinceMs: number,
    untilMs: number,
    page: { limit: number; after: SessionCursor | null },
  ): Promise<SessionPage>;
}

/** The top of the growing sessions, and how many inexact summaries stood in for the segments. */
export interface GrowingSessions {
  sessions: SessionGrowth[];
  /** Sessions overlapping the window whose summary is inexact (batches out of hour order). */
  inexact: number;
  /**
   * Of them, the ones re-joined from their segments and ranked: at most GROWING_INEXACT_UP_TO.
   * Below `inexact`, the list may miss a growing session; `tollgate rollups rebuild` makes every
   * summary exact again.
   */
  inexact_ranked: number;
}

/**
 * Where a page of sessions ended: the last row's window cost and id (the ranking is cost
 * descending, then id ascending) and its position (rows ranked up to and including it, 1-based).
 */
export interface SessionCursor {
  cost_micro_usd: number;
  session_id: string;
  position: number;
}

/** A page of a window's sessions ranked by cost (RollupReader.sessionPage). */
export interface SessionPage {
  /** Ranked by cost in the window, highest first, ties by session id. */
  sessions: SessionGrowth[];
  /** Sessions with a request in the window, on every page. */
  total: number;
  /** Sums over every session of the window (every page): the report's `(none)` row is the rest. */
  sum: RollupTotals;
}

/** Whether session `(cost, id)` ranks after the cursor (cost descending, then id ascending). */
export function ranksAfter(cost: number, id: string, after: SessionCursor | null): boolean {
  return (
    after === null || cost < after.cost_micro_usd || (cost === after.cost_micro_usd && id > after.session_id)
  );
}

/** The ranking of session pages: cost descending, then session id ascending (code-unit order). */
export function byCostThenId(
  a: { cost_micro_usd: number; session_id: string },
  b: { cost_micro_usd: number; session_id: string },
): number {
  return (
    b.cost_micro_usd - a.cost_micro_usd ||
    (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0)
  );
}

/**
 * A page from a window's sessions all read (`sessions`): the reference answer, and the answer of
 * a store without a ranked read of its own.
 */
export function sessionPageOf(
  sessions: readonly SessionGrowth[],
  page: { limit: number; after: SessionCursor | null },
): SessionPage {
  const sum = zeroTotals();
  for (const s of sessions) for (const c of TOTAL_COLUMNS) sum[c] += s[c];
  const ranked = sessions
    .filter((s) => ranksAfter(s.cost_micro_usd, s.session_id, page.after))
    .sort(byCostThenId);
  return { sessions: ranked.slice(0, Math.max(0, page.limit)), total: sessions.length, sum };
}

/** A cursor as text for URLs and the command line: base64url of `[cost, position, id]`. */
export function encodeSessionCursor(c: SessionCursor): string {
  return Buffer.from(JSON.stringify([c.cost_micro_usd, c.position, c.session_id]), 'utf8').toString(
    'base64url',
  );
}

/** The cursor of `encodeSessionCursor`, or null when `text` is not one. */
export function decodeSessionCursor(text: string): SessionCursor | null {
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(text)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      Number.isSafeInteger(v[0]) &&
      Number.isSafeInteger(v[1]) &&
      (v[1] as number) > 0 &&
      typeof v[2] === 'string'
    )
      return { cost_micro_usd: v[0] as number, position: v[1] as number, session_id: v[2] };
  } catch {
    // Not JSON: not a cursor.
  }
  return null;
}

/**
 * A session is flagged as leaking when it has at least `minRequests` requests with a usage
 * count, its input grew `minStreak` times in a row at some point, and its last request sends at
 * least `minRatio` times the first one's input. Chosen so that a normal chat (context grows,
 * then a new session starts) is not flagged after a handful of turns, while a tab resending its
 * whole history for an hour is.
 */
export const LEAK_RULE = { minRequests: 5, minStreak: 4, minRatio: 2 } as const;

/** Whether a session's growth figures meet LEAK_RULE. */
export function isLeaking(s: SessionGrowth): boolean {
  return (
    s.growth_requests >= LEAK_RULE.minRequests &&
    s.max_streak >= LEAK_RULE.minStreak &&
    s.last_input_tokens >= LEAK_RULE.minRatio * Math.max(1, s.first_input_tokens)
  );
}

/** Rank of a leaking session: above every ratio. */
const LEAK_RANK = 1_000_000_000;
/** Leaking, or input at least 1.5× the first: ordinary chats barely grow and would bury the runaways. */
export const GROWING_MIN_RANK = 1.5;

/** A session's growth rank: LEAK_RANK when leaking, plus last / first input tokens (0 when first is 0). */
export function growthRank(s: SessionGrowth): number {
  return (
    (isLeaking(s) ? LEAK_RANK : 0) +
    (s.first_input_tokens > 0 ? s.last_input_tokens / s.first_input_tokens : 0)
  );
}

/**
 * growthRank in SQL, over session_totals' columns: the same double arithmetic, so an index on it
 * orders rows as growthRank does. Used verbatim by the index and the query (SQLite matches an
 * indexed expression by its text).
 */
export function growthRankSql(dialect: 'sqlite' | 'postgres'): string {
  const max = dialect === 'postgres' ? 'GREATEST' : 'MAX';
  return `((CASE WHEN growth_requests >= ${LEAK_RULE.minRequests} AND max_streak >= ${LEAK_RULE.minStreak}
    AND last_input_tokens >= ${LEAK_RULE.minRatio} * ${max}(1, first_input_tokens) THEN ${LEAK_RANK}.0 ELSE 0.0 END)
    + (CASE WHEN first_input_tokens > 0 THEN CAST(last_input_tokens AS DOUBLE PRECISION) / first_input_tokens ELSE 0.0 END))`;
}

/** The top of exact summaries and the re-joined inexact sessions merged: growingSessions' answer. */
export function topGrowing(rows: Iterable<SessionGrowth>, limit: number): SessionGrowth[] {
  return [...rows]
    .map((s) => ({ s, rank: growthRank(s) }))
    .filter((x) => x.rank >= GROWING_MIN_RANK)
    .sort(
      (a, b) =>
        b.rank - a.rank || (a.s.session_id < b.s.session_id ? -1 : a.s.session_id > b.s.session_id ? 1 : 0),
    )
    .slice(0, limit)
    .map((x) => x.s);
}

/** Inexact summaries re-joined per growingSessions call, at most (a rebuild makes them exact). */
export const GROWING_INEXACT_UP_TO = 1000;

/** A whole life: the hour-aligned window every timestamp falls in. */
export const WHOLE_LIFE: readonly [number, number] = [-8_640_000_000_000_000, 8_640_000_000_000_000];

export type SegmentRow = SessionGrowth & { lead_streak: number };

/**
 * Joins a session's segment `b` after segment `a` (hour order). The same arithmetic as the
 * UPSERT that joins a batch to a stored segment; the tests check both against a naive count.
 */
export function joinSegments(a: SegmentRow, b: SegmentRow): SegmentRow {
  const joins = a.growth_requests > 0 && b.growth_requests > 0 && b.first_input_tokens > a.last_input_tokens;
  const out: SegmentRow = {
    ...a,
    first_ts_ms: Math.min(a.first_ts_ms, b.first_ts_ms),
    last_ts_ms: Math.max(a.last_ts_ms, b.last_ts_ms),
  };
  for (const c of TOTAL_COLUMNS) out[c] = a[c] + b[c];
  out.growth_requests = a.growth_requests + b.growth_requests;
  out.first_input_tokens = a.growth_requests === 0 ? b.first_input_tokens : a.first_input_tokens;
  out.last_input_tokens = b.growth_requests === 0 ? a.last_input_tokens : b.last_input_tokens;
  out.max_input_tokens = Math.max(a.max_input_tokens, b.max_input_tokens);
  out.increases = a.increases + b.increases + (joins ? 1 : 0);
  out.lead_streak =
    a.growth_requests === 0
      ? b.lead_streak
      : a.lead_streak === a.growth_requests - 1 && joins
        ? a.lead_streak + 1 + b.lead_streak
        : a.lead_streak;
  out.current_streak =
    b.growth_requests === 0
      ? a.current_streak
      : b.lead_streak === b.growth_requests - 1 && joins
        ? a.current_streak + b.growth_requests
        : b.current_streak;
  out.max_streak = Math.max(a.max_streak, b.max_streak, joins ? a.current_streak + 1 + b.lead_streak : 0);
  return out;
}

/** Folds one request into its session's run for this batch and hour (batch order = write order). */
export function trackSession(
  sessions: Map<string, SessionRun>,
  session: string,
  ts: number,
  acc: Acc,
  input: number | null,
): void {
  const hour = ts - (ts % HOUR_MS);
  const id = `${hour}\u0001${session}`;
  let r = sessions.get(id);
  if (!r) {
    r = {
      hour,
      session,
      first_ts: ts,
      last_ts: ts,
      acc: acc.slice(),
      n: 0,
      first: 0,
      last: 0,
      max: 0,
      increases: 0,
      lead: 0,
      rising: true,
      trail: 0,
      maxStreak: 0,
    };
    sessions.set(id, r);
  } else {
    addAcc(r.acc, acc);
    if (ts > r.last_ts) r.last_ts = ts;
    if (ts < r.first_ts) r.first_ts = ts;
  }
  if (input === null || !Number.isSafeInteger(input)) return;
  if (r.n === 0) {
    r.n = 1;
    r.first = r.last = r.max = input;
    return;
  }
  const up = input > r.last;
  r.n += 1;
  r.last = input;
  if (input > r.max) r.max = input;
  if (up) {
    r.increases += 1;
    r.trail += 1;
    if (r.rising) r.lead += 1;
    if (r.trail > r.maxStreak) r.maxStreak = r.trail;
  } else {
    r.trail = 0;
    r.rising = false;
  }
}

/** One rollup row of a folded batch: the sums of one (granularity, dimension, bucket, key). */
export interface RollupRow {
  granularity: 0 | 1 | 2;
  dim: number;
  bucket: number;
  k: string;
  acc: Acc;
}

/** A batch summed in memory, ready for one multi-row UPSERT per table. */
export interface FoldedBatch {
  /** Unique on (granularity, dim, bucket, k) and sorted by it (code-unit order of k). */
  rows: RollupRow[];
  /** One run per (hour, session), sorted by hour then session. */
  sessions: SessionRun[];
  /** The latest hour bucket written: every hour before it is taken as complete (day fold). */
  latestHour: number;
}

/**
 * Folds a batch of events, in write order: sums per finest bucket and dimension and, for the
 * minute dimensions, per hour too. Day rows are not written per batch (they are folded from
 * whole hours by the store, see sqlite-rollups.ts), except for a late event whose hour is before
 * `foldedThroughMs`: its hour is already folded, so it adds to its day directly.
 *
 * The rows are merged per key and sorted, so one statement can upsert them all (PostgreSQL
 * refuses to update a row twice in one statement) and concurrent writers lock rows in the same
 * order (no deadlock between replicas).
 */
export function foldBatch(events: readonly RollupEvent[], foldedThroughMs: number): FoldedBatch {
  const finest = ROLLUP_DIMENSIONS.map((d) => FINEST_BUCKET_MS[d]);
  // Per (granularity, dimension): bucket → key → row. Nested maps, not one map keyed by a
  // joined string: a batch has few buckets, and building a key string per row and event was
  // the fold's main cost.
  const slots = Array.from(
    { length: 3 * ROLLUP_DIMENSIONS.length },
    () => new Map<number, Map<string, RollupRow>>(),
  );
  const add = (granularity: 0 | 1 | 2, dim: number, bucket: number, k: string, acc: Acc): void => {
    const slot = slots[granularity * ROLLUP_DIMENSIONS.length + dim]!;
    let byKey = slot.get(bucket);
    if (!byKey) slot.set(bucket, (byKey = new Map<string, RollupRow>()));
    const r = byKey.get(k);
    if (r) addAcc(r.acc, acc);
    else byKey.set(k, { granularity, dim, bucket, k, acc: acc.slice() });
  };
  const sessions = new Map<string, SessionRun>();
  let latestHour = foldedThroughMs;
  for (const e of events) {
    // Administrative actions (key created, alert acknowledged, erasure) share the audit trail but
    // are not AI requests: counted here they would show up as unpriced requests in cost reports.
    if (e.http_method === ADMIN_METHOD) continue;
    const ts = Date.parse(e.timestamp);
    if (!Number.isFinite(ts)) continue;
    const acc = eventAcc(e);
    const keys = dimensionKeys(e);
    const hour = ts - (ts % HOUR_MS);
    if (hour > latestHour) latestHour = hour;
    for (let d = 0; d < keys.length; d++) {
      const k = keys[d]!;
      if (finest[d] === MINUTE_MS) add(G_MINUTE, d, ts - (ts % MINUTE_MS), k, acc);
      add(G_HOUR, d, hour, k, acc);
      if (hour < foldedThroughMs) add(G_DAY, d, hour - (hour % DAY_MS), k, acc);
    }
    if (e.session_id) trackSession(sessions, e.session_id, ts, acc, e.input_tokens);
  }
  const byKey = (a: RollupRow, b: RollupRow): number =>
    a.granularity - b.granularity ||
    a.dim - b.dim ||
    a.bucket - b.bucket ||
    (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
  const bySession = (a: SessionRun, b: SessionRun): number =>
    a.hour - b.hour || (a.session < b.session ? -1 : a.session > b.session ? 1 : 0);
  const rows: RollupRow[] = [];
  for (const slot of slots) for (const byKey of slot.values()) for (const r of byKey.values()) rows.push(r);
  return { rows: rows.sort(byKey), sessions: [...sessions.values()].sort(bySession), latestHour };
}

/** One session's requests of a batch, every hour of it joined in hour order (see sessionTotalsOf). */
export interface SessionBatchTotal extends SegmentRow {
  /** The earliest hour of the batch's requests of this session. */
  first_hour: number;
}

/** A batch's run as a segment (the columns of session_rollups). */
export function segmentOf(r: SessionRun): SegmentRow {
  const seg = {
    session_id: r.session,
    first_ts_ms: r.first_ts,
    last_ts_ms: r.last_ts,
    growth_requests: r.n,
    first_input_tokens: r.first,
    last_input_tokens: r.last,
    max_input_tokens: r.max,
    increases: r.increases,
    lead_streak: r.lead,
    current_streak: r.trail,
    max_streak: r.maxStreak,
  } as SegmentRow;
  for (let i = 0; i < TOTAL_COLUMNS.length; i++) seg[TOTAL_COLUMNS[i]!] = r.acc[i]!;
  return seg;
}

/**
 * Per session, the batch's runs (sorted by hour, see foldBatch) joined in hour order: what the
 * batch adds to the session's whole-life summary (session_totals). Sorted by session id (code-unit
 * order), so concurrent writers lock summary rows in one order.
 *
 * The summary is the join of every hour segment in hour order only while batches arrive in hour
 * order for that session: a batch whose earliest hour is before the summary's last hour (a late
 * event, or two replicas writing one session) marks it inexact, and reads then join that
 * session's hour segments instead (see partitionSessionTotals).
 */
export function sessionTotalsOf(runs: readonly SessionRun[]): SessionBatchTotal[] {
  const out = new Map<string, SessionBatchTotal>();
  // Properties set on the segment rather than spread into a copy: this runs once per session and
  // batch on the write path.
  for (const r of runs) {
    const prev = out.get(r.session);
    const total = (prev ? joinSegments(prev, segmentOf(r)) : segmentOf(r)) as SessionBatchTotal;
    total.first_hour = prev ? prev.first_hour : r.hour;
    out.set(r.session, total);
  }
  return [...out.values()].sort((a, b) =>
    a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0,
  );
}

/** One session's requests of a batch within one UTC day, its hours joined in hour order. */
export interface SessionDayTotal extends SegmentRow {
  day: number;
}

/**
 * Per (day, session), the batch's runs joined in hour order: what the batch adds to the day
 * summary (session_days). Sorted by day, then session id (code-unit order): one lock order.
 * As with session_totals, a batch that starts before the stored day summary's last hour marks it
 * inexact, and reads join that day's hour segments instead.
 */
export function sessionDaysOf(runs: readonly SessionRun[]): SessionDayTotal[] {
  // Per day, per session: a batch holds one or two days, and no key string is built per run.
  const byDay = new Map<number, Map<string, SessionDayTotal>>();
  for (const r of runs) {
    const day = r.hour - (r.hour % DAY_MS);
    let out = byDay.get(day);
    if (!out) byDay.set(day, (out = new Map<string, SessionDayTotal>()));
    const prev = out.get(r.session);
    const total = (prev ? joinSegments(prev, segmentOf(r)) : segmentOf(r)) as SessionDayTotal;
    total.day = day;
    out.set(r.session, total);
  }
  const all: SessionDayTotal[] = [];
  for (const out of byDay.values()) for (const d of out.values()) all.push(d);
  return all.sort(
    (a, b) => a.day - b.day || (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0),
  );
}

/** A piece of a session's window: an hour segment or a whole day summary, starting at `at`. */
export interface WindowPiece {
  at: number;
  segment: SegmentRow;
}

/** Joins each session's pieces in time order (they never overlap): one row per session. */
export function joinWindowPieces(pieces: ReadonlyMap<string, WindowPiece[]>): SegmentRow[] {
  const out: SegmentRow[] = [];
  for (const list of pieces.values()) {
    list.sort((a, b) => a.at - b.at);
    let joined = list[0]!.segment;
    for (let i = 1; i < list.length; i++) joined = joinSegments(joined, list[i]!.segment);
    out.push(joined);
  }
  return out;
}

/**
 * The whole days of an hour-aligned window [from, to) and its edge hour ranges: a partial
 * session's window is read as day summaries for the days and hour segments for the edges.
 */
export function windowDays(
  from: number,
  to: number,
): { days: [number, number] | null; hours: [number, number][] } {
  const d0 = Math.ceil(from / DAY_MS) * DAY_MS;
  const d1 = Math.floor(to / DAY_MS) * DAY_MS;
  if (!(d0 < d1)) return { days: null, hours: from < to ? [[from, to]] : [] };
  const hours: [number, number][] = [];
  if (from < d0) hours.push([from, d0]);
  if (d1 < to) hours.push([d1, to]);
  return { days: [d0, d1], hours };
}

/** A session_totals row as read: the summary and whether it equals its segments joined in hour order. */
export type SessionTotalRow = SegmentRow & { exact: boolean };

/**
 * Reading the sessions of an hour-aligned window [from, to) from their whole-life summaries
 * (every session_totals row with last_ts >= from and first_ts < to): a summary that is exact and
 * lies wholly inside the window is the session's answer (one row per session: the common case
 * for a 30-day window); the others (`partial`: reaching outside the window, or inexact) are
 * answered by joining their hour segments within the window (joinSessionSegments). The result
 * equals joining every segment of the window in hour order; the contract tests check it against
 * that and against a naive count.
 */
export function partitionSessionTotals(
  from: number,
  to: number,
  totals: Iterable<SessionTotalRow>,
): { whole: SegmentRow[]; partial: string[] } {
  const whole: SegmentRow[] = [];
  const partial: string[] = [];
  for (const t of totals) {
    if (t.exact && t.first_ts_ms >= from && t.last_ts_ms < to) {
      const { exact: _exact, ...row } = t;
      whole.push(row);
    } else partial.push(t.session_id);
  }
  return { whole, partial };
}

/** Joins segments given in hour order (per session), one result per session. */
export function joinSessionSegments(rows: Iterable<SegmentRow>): SegmentRow[] {
  const merged = new Map<string, SegmentRow>();
  for (const row of rows) {
    const prev = merged.get(row.session_id);
    merged.set(row.session_id, prev ? joinSegments(prev, row) : row);
  }
  return [...merged.values()];
}

/**
 * The SET list of an UPSERT that joins a batch's segment (`excluded`) after the stored one:
 * joinSegments in SQL, for session_rollups and session_totals on either database. SET
 * expressions read the stored row as it was before the update (`o` on PostgreSQL, unqualified on
 * SQLite): `last_input_tokens` there is the stored segment's last request, joined to the batch's first.
 */
export function sessionJoinSet(dialect: 'sqlite' | 'postgres'): string {
  const o = dialect === 'postgres' ? 'o.' : '';
  const min = dialect === 'postgres' ? 'LEAST' : 'MIN';
  const max = dialect === 'postgres' ? 'GREATEST' : 'MAX';
  const joins = `(${o}growth_requests > 0 AND excluded.growth_requests > 0 AND excluded.first_input_tokens > ${o}last_input_tokens)`;
  const joinsInt = dialect === 'postgres' ? `${joins}::int` : joins;
  return `first_ts_ms = ${min}(${o}first_ts_ms, excluded.first_ts_ms),
       last_ts_ms = ${max}(${o}last_ts_ms, excluded.last_ts_ms),
       ${TOTAL_COLUMNS.map((c) => `${c} = ${o}${c} + excluded.${c}`).join(', ')},
       growth_requests = ${o}growth_requests + excluded.growth_requests,
       first_input_tokens = CASE WHEN ${o}growth_requests = 0 THEN excluded.first_input_tokens ELSE ${o}first_input_tokens END,
       last_input_tokens = CASE WHEN excluded.growth_requests = 0 THEN ${o}last_input_tokens ELSE excluded.last_input_tokens END,
       max_input_tokens = ${max}(${o}max_input_tokens, excluded.max_input_tokens),
       increases = ${o}increases + excluded.increases + ${joinsInt},
       lead_streak = CASE WHEN ${o}growth_requests = 0 THEN excluded.lead_streak
         WHEN ${o}lead_streak = ${o}growth_requests - 1 AND ${joins} THEN ${o}lead_streak + 1 + excluded.lead_streak
         ELSE ${o}lead_streak END,
       current_streak = CASE WHEN excluded.growth_requests = 0 THEN ${o}current_streak
         WHEN excluded.lead_streak = excluded.growth_requests - 1 AND ${joins} THEN ${o}current_streak + excluded.growth_requests
         ELSE excluded.current_streak END,
       max_streak = ${max}(${o}max_streak, excluded.max_streak,
         CASE WHEN ${joins} THEN ${o}current_streak + 1 + excluded.lead_streak ELSE 0 END)`;
}
