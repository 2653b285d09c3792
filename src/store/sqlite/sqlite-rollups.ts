/**
 * Cost and usage rollups in SQLite, maintained as events are written so that reports never
 * scan raw events. The writer calls `applyRollups(batch)` inside the transaction that inserts
 * the batch (SqliteEventStore.addInTransactionHook), so rollups and events commit together.
 *
 * Layout: one WITHOUT ROWID table keyed (granularity, dimension, bucket, key). Each batch is
 * first summed in memory per minute bucket, then folded into hour and day buckets, and written
 * with one UPSERT per distinct group — far fewer statements than events × dimensions.
 * Day buckets exist so a 30-day report reads ~30 rows per subject instead of ~720.
 *
 * Sessions also get a growth row (first/last/max input tokens, consecutive-growth streaks) for
 * the "silent token leak" report, merged with UPSERT arithmetic rather than read back.
 */
import type Database from 'better-sqlite3';
import type { AuditEvent } from '../../core/audit-event.js';

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
>;

/**
 * What a time-bucketed rollup can be grouped by. `all` has the single key '' (totals, `--by day`).
 * Sessions are rolled up per session and hour instead (session_rollups), see below.
 */
export type RollupDimension = 'all' | 'key' | 'user' | 'feature' | 'model' | 'team';

export const ROLLUP_DIMENSIONS: readonly RollupDimension[] = ['all', 'key', 'user', 'feature', 'model', 'team'];

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

const G_MINUTE = 0;
const G_HOUR = 1;
const G_DAY = 2;
const GRANULARITY_BY_MS = new Map<number, 0 | 1 | 2>([
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

const TOTAL_COLUMNS = [
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

const GROWTH_COLUMNS = [
  'growth_requests',
  'first_input_tokens',
  'last_input_tokens',
  'max_input_tokens',
  'increases',
  'lead_streak',
  'current_streak',
  'max_streak',
] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cost_rollups (
  granularity INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  k TEXT NOT NULL,
  ${TOTAL_COLUMNS.map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  PRIMARY KEY (granularity, dim, bucket, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_rollups (
  hour INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  first_ts_ms INTEGER NOT NULL,
  last_ts_ms INTEGER NOT NULL,
  ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  PRIMARY KEY (hour, session_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Rows per multi-row UPSERT: one statement step instead of many cuts the per-row overhead. */
const CHUNK = 64;

/** A mutable accumulator, in TOTAL_COLUMNS order. */
type Acc = number[];

function addAcc(into: Acc, from: Acc): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
}

/** One session's requests within a batch and hour, merged into session_rollups by UPSERT arithmetic. */
interface SessionRun {
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

function dimensionKeys(e: RollupEvent): string[] {
  return [
    '',
    e.virtual_key_id ?? e.api_key_id ?? '',
    e.user_id ?? '',
    e.feature_name ?? '',
    e.model_used ?? e.model_requested ?? '',
    e.team ?? '',
  ];
}

function eventAcc(e: RollupEvent): Acc {
  const estimated = e.usage_source === 'estimated';
  const input = e.input_tokens ?? 0;
  const output = e.output_tokens ?? 0;
  const cost = e.cost_micro_usd;
  return [
    1,
    e.status === 'SUCCESS' ? 0 : 1,
    input,
    output,
    e.cached_input_tokens ?? 0,
    e.reasoning_tokens ?? 0,
    estimated ? 1 : 0,
    estimated ? input : 0,
    estimated ? output : 0,
    estimated && cost !== null ? cost : 0,
    cost ?? 0,
    cost === null ? 1 : 0,
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

/** Rollups over one SQLite database (the event store's file, so they share its transactions). */
export interface SqliteRollups {
  /** Adds a batch of written events, in write order. Call inside the transaction that inserts them. */
  applyRollups(events: readonly RollupEvent[]): void;
  /** Totals per key of one dimension over [sinceMs, untilMs) (see bucketRanges), biggest cost first. */
  groups(dimension: RollupDimension, sinceMs: number, untilMs: number): RollupGroup[];
  /** Totals per UTC day over [sinceMs, untilMs); key is the day `YYYY-MM-DD`. */
  days(sinceMs: number, untilMs: number): RollupGroup[];
  /**
   * Sessions with a request in [sinceMs, untilMs) (aligned outward to whole hours), with their
   * totals and input growth over that window, segments joined in hour order.
   */
  sessions(sinceMs: number, untilMs: number): SessionGrowth[];
}

function multiRowUpsert(db: Database.Database, head: string, columns: number, rows: number, tail: string): Database.Statement {
  const one = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return db.prepare(`${head} VALUES ${Array.from({ length: rows }, () => one).join(', ')} ${tail}`);
}

/** Writes rows through a chunked multi-row statement plus a single-row one for the remainder. */
class ChunkedWriter {
  private readonly pending: number[] = [];
  private count = 0;
  constructor(
    private readonly many: Database.Statement,
    private readonly one: Database.Statement,
    private readonly width: number,
  ) {}
  push(row: readonly number[] | readonly (number | string)[]): void {
    for (const v of row) this.pending.push(v as number);
    if (++this.count === CHUNK) {
      this.many.run(this.pending);
      this.pending.length = 0;
      this.count = 0;
    }
  }
  flush(): void {
    for (let i = 0; i < this.count; i++) this.one.run(this.pending.slice(i * this.width, (i + 1) * this.width));
    this.pending.length = 0;
    this.count = 0;
  }
}

/** Creates the rollup tables if needed and returns the rollup writer and queries. */
export function createSqliteRollups(db: Database.Database): SqliteRollups {
  db.exec(SCHEMA);
  const rollupHead = `INSERT INTO cost_rollups (granularity, dim, bucket, k, ${TOTAL_COLUMNS.join(', ')})`;
  const rollupTail = `ON CONFLICT (granularity, dim, bucket, k) DO UPDATE SET
     ${TOTAL_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
  const rollupWidth = 4 + TOTAL_COLUMNS.length;

  // SET expressions read the stored row as it was before this update (SQLite UPDATE semantics):
  // `last_input_tokens` there is the stored session's last request, joined to the batch's first.
  const joins = `(growth_requests > 0 AND excluded.growth_requests > 0 AND excluded.first_input_tokens > last_input_tokens)`;
  const sessionHead = `INSERT INTO session_rollups (hour, session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')})`;
  const sessionTail = `ON CONFLICT (hour, session_id) DO UPDATE SET
       first_ts_ms = MIN(first_ts_ms, excluded.first_ts_ms),
       last_ts_ms = MAX(last_ts_ms, excluded.last_ts_ms),
       ${TOTAL_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')},
       growth_requests = growth_requests + excluded.growth_requests,
       first_input_tokens = CASE WHEN growth_requests = 0 THEN excluded.first_input_tokens ELSE first_input_tokens END,
       last_input_tokens = CASE WHEN excluded.growth_requests = 0 THEN last_input_tokens ELSE excluded.last_input_tokens END,
       max_input_tokens = MAX(max_input_tokens, excluded.max_input_tokens),
       increases = increases + excluded.increases + ${joins},
       lead_streak = CASE WHEN growth_requests = 0 THEN excluded.lead_streak
         WHEN lead_streak = growth_requests - 1 AND ${joins} THEN lead_streak + 1 + excluded.lead_streak
         ELSE lead_streak END,
       current_streak = CASE WHEN excluded.growth_requests = 0 THEN current_streak
         WHEN excluded.lead_streak = excluded.growth_requests - 1 AND ${joins} THEN current_streak + excluded.growth_requests
         ELSE excluded.current_streak END,
       max_streak = MAX(max_streak, excluded.max_streak,
         CASE WHEN ${joins} THEN current_streak + 1 + excluded.lead_streak ELSE 0 END)`;
  const sessionWidth = 4 + TOTAL_COLUMNS.length + GROWTH_COLUMNS.length;

  const rollupWriter = new ChunkedWriter(
    multiRowUpsert(db, rollupHead, rollupWidth, CHUNK, rollupTail),
    multiRowUpsert(db, rollupHead, rollupWidth, 1, rollupTail),
    rollupWidth,
  );
  const sessionWriter = new ChunkedWriter(
    multiRowUpsert(db, sessionHead, sessionWidth, CHUNK, sessionTail),
    multiRowUpsert(db, sessionHead, sessionWidth, 1, sessionTail),
    sessionWidth,
  );

  // `dim IN (…)` lets SQLite seek each dimension's hour range in the primary key; without it
  // the fold would scan every hour row ever written, once per hour.
  const foldHours = db.prepare(
    `INSERT INTO cost_rollups (granularity, dim, bucket, k, ${TOTAL_COLUMNS.join(', ')})
     SELECT ${G_DAY}, dim, bucket - (bucket % ${DAY_MS}) AS day, k, ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')}
     FROM cost_rollups WHERE granularity = ${G_HOUR} AND dim IN (${ROLLUP_DIMENSIONS.map((_, i) => i).join(', ')})
       AND bucket >= ? AND bucket < ?
     GROUP BY dim, day, k
     ${rollupTail}`,
  );
  const readFoldedStmt = db.prepare(`SELECT value FROM rollup_state WHERE name = 'day_folded_through_ms'`).pluck();
  const writeFolded = db.prepare(
    `INSERT INTO rollup_state (name, value) VALUES ('day_folded_through_ms', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  );
  /** Hours before this are folded into days. Read per batch: a rolled-back transaction must not leave it stale. */
  const readFolded = (): number => (readFoldedStmt.get() as number | undefined) ?? Number.NEGATIVE_INFINITY;

  const sums = TOTAL_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ');
  const statements = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
  // One SELECT per range, summed by UNION ALL: each arm is a primary-key range scan.
  const rangeQuery = (select: string, ranges: BucketRange[], groupBy: string, orderBy: string): string =>
    `SELECT ${groupBy}, ${sums} FROM (${ranges
      .map(() => `SELECT ${select} FROM cost_rollups WHERE granularity = ? AND dim = ? AND bucket >= ? AND bucket < ?`)
      .join(' UNION ALL ')}) GROUP BY ${groupBy} ORDER BY ${orderBy}`;
  const rangeParams = (ranges: BucketRange[], dim: number): number[] =>
    ranges.flatMap((r) => [r.granularity, dim, r.from, r.to]);
  const totalsList = TOTAL_COLUMNS.join(', ');

  // Primary-key order is (hour, session_id): the range comes back in hour order.
  const sessionsStmt = db.prepare(
    `SELECT session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')}
     FROM session_rollups WHERE hour >= ? AND hour < ?`,
  );

  return {
    applyRollups(events: readonly RollupEvent[]): void {
      if (events.length === 0) return;
      const finest = ROLLUP_DIMENSIONS.map((d) => FINEST_BUCKET_MS[d]);
      // 1) sum per finest bucket, per dimension, per key
      const first = ROLLUP_DIMENSIONS.map(() => new Map<string, { bucket: number; k: string; acc: Acc }>());
      const sessions = new Map<string, SessionRun>();
      for (const e of events) {
        const ts = Date.parse(e.timestamp);
        if (!Number.isFinite(ts)) continue;
        const acc = eventAcc(e);
        const keys = dimensionKeys(e);
        for (let d = 0; d < keys.length; d++) {
          const size = finest[d]!;
          const bucket = ts - (ts % size);
          const k = keys[d]!;
          const id = `${bucket}\u0001${k}`;
          const m = first[d]!;
          const g = m.get(id);
          if (g) addAcc(g.acc, acc);
          else m.set(id, { bucket, k, acc: acc.slice() });
        }
        if (e.session_id) trackSession(sessions, e.session_id, ts, acc, e.input_tokens);
      }
      // 2) write the finest buckets and, for minute dimensions, their hours. Day rows are
      //    folded from whole hours in SQL (below): hours are few per day, while a batch
      //    touches as many day rows as hour rows, so this halves the rows written per batch.
      const folded = readFolded();
      let latestHour = folded;
      for (let d = 0; d < first.length; d++) {
        const finestG = GRANULARITY_BY_MS.get(finest[d]!)!;
        const hours = finestG === G_MINUTE ? new Map<string, { bucket: number; k: string; acc: Acc }>() : first[d]!;
        for (const { bucket, k, acc } of first[d]!.values()) {
          if (finestG !== G_MINUTE) break;
          rollupWriter.push([G_MINUTE, d, bucket, k, ...acc]);
          const b = bucket - (bucket % HOUR_MS);
          const id = `${b}\u0001${k}`;
          const c = hours.get(id);
          if (c) addAcc(c.acc, acc);
          else hours.set(id, { bucket: b, k, acc: acc.slice() });
        }
        for (const { bucket, k, acc } of hours.values()) {
          rollupWriter.push([G_HOUR, d, bucket, k, ...acc]);
          if (bucket > latestHour) latestHour = bucket;
          // A late event (a long stream is stamped with its start) into an hour already folded.
          if (bucket < folded) rollupWriter.push([G_DAY, d, bucket - (bucket % DAY_MS), k, ...acc]);
        }
      }
      rollupWriter.flush();
      // 3) every hour before the latest one seen is taken as complete: fold it into its day.
      if (latestHour > folded) {
        foldHours.run(folded === Number.NEGATIVE_INFINITY ? -8_640_000_000_000_000 : folded, latestHour);
        writeFolded.run(latestHour);
      }
      for (const r of sessions.values()) {
        sessionWriter.push([
          r.hour,
          r.session,
          r.first_ts,
          r.last_ts,
          ...r.acc,
          r.n,
          r.first,
          r.last,
          r.max,
          r.increases,
          r.lead,
          r.trail,
          r.maxStreak,
        ]);
      }
      sessionWriter.flush();
    },

    groups(dimension: RollupDimension, sinceMs: number, untilMs: number): RollupGroup[] {
      const ranges = bucketRanges(sinceMs, untilMs, FINEST_BUCKET_MS[dimension], readFolded());
      if (ranges.length === 0) return [];
      const sql = rangeQuery(`k, ${totalsList}`, ranges, 'k', 'cost_micro_usd DESC, k ASC');
      const rows = statement(sql).all(...rangeParams(ranges, ROLLUP_DIMENSIONS.indexOf(dimension))) as (RollupTotals & {
        k: string;
      })[];
      return rows.map(({ k, ...totals }) => ({ key: k, ...totals }));
    },

    days(sinceMs: number, untilMs: number): RollupGroup[] {
      const ranges = bucketRanges(sinceMs, untilMs, MINUTE_MS, readFolded());
      if (ranges.length === 0) return [];
      const sql = rangeQuery(`bucket - (bucket % ${DAY_MS}) AS day_ms, ${totalsList}`, ranges, 'day_ms', 'day_ms ASC');
      const rows = statement(sql).all(...rangeParams(ranges, 0)) as (RollupTotals & { day_ms: number })[];
      return rows.map(({ day_ms, ...totals }) => ({ key: new Date(day_ms).toISOString().slice(0, 10), ...totals }));
    },

    sessions(sinceMs: number, untilMs: number): SessionGrowth[] {
      if (!(untilMs > sinceMs)) return [];
      const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
      const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
      const merged = new Map<string, SegmentRow>();
      for (const row of sessionsStmt.all(from, to) as SegmentRow[]) {
        const prev = merged.get(row.session_id);
        if (prev) merged.set(row.session_id, joinSegments(prev, row));
        else merged.set(row.session_id, row);
      }
      // lead_streak is internal to joining; the extra field is harmless, so no copy of every row.
      return [...merged.values()];
    },
  };
}

type SegmentRow = SessionGrowth & { lead_streak: number };

/**
 * Joins a session's segment `b` after segment `a` (hour order). The same arithmetic as the
 * UPSERT that joins a batch to a stored segment; the tests check both against a naive count.
 */
function joinSegments(a: SegmentRow, b: SegmentRow): SegmentRow {
  const joins = a.growth_requests > 0 && b.growth_requests > 0 && b.first_input_tokens > a.last_input_tokens;
  const out: SegmentRow = { ...a, first_ts_ms: Math.min(a.first_ts_ms, b.first_ts_ms), last_ts_ms: Math.max(a.last_ts_ms, b.last_ts_ms) };
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
function trackSession(sessions: Map<string, SessionRun>, session: string, ts: number, acc: Acc, input: number | null): void {
  const hour = ts - (ts % HOUR_MS);
  const id = `${hour}\u0001${session}`;
  let r = sessions.get(id);
  if (!r) {
    r = { hour, session, first_ts: ts, last_ts: ts, acc: acc.slice(), n: 0, first: 0, last: 0, max: 0, increases: 0, lead: 0, rising: true, trail: 0, maxStreak: 0 };
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
