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
import { TollgateError } from '../../core/errors.js';
import {
  bucketRanges,
  DAY_MS,
  foldBatch,
  FINEST_BUCKET_MS,
  G_DAY,
  G_HOUR,
  GROWTH_COLUMNS,
  GROWING_INEXACT_UP_TO,
  GROWING_MIN_RANK,
  growthRankSql,
  HOUR_MS,
  topGrowing,
  WHOLE_LIFE,
  joinSegments,
  MINUTE_MS,
  joinSessionSegments,
  joinWindowPieces,
  SEGMENT_COLUMNS,
  segmentFromRaw,
  ROLLUP_DIMENSIONS,
  sessionJoinSet,
  sessionDaysOf,
  sessionTotalsOf,
  TOTAL_COLUMNS,
  windowDays,
  type WindowPiece,
  type Acc,
  type BucketRange,
  type RollupDimension,
  type RollupEvent,
  type RollupGroup,
  type RollupReader,
  type RollupTotals,
  type SegmentRow,
  type SessionGrowth,
  type GrowingSessions,
  type SessionCursor,
  type SessionPage,
  byCostThenId,
  ranksAfter,
  sessionPageOf,
  zeroTotals,
} from '../rollups.js';

import type {
  AuthFailureCounts,
  RedactionHits,
  SecurityReportCounts,
  SecurityRollupEvent,
} from '../security-rollups.js';
import { createSqliteSecurityRollups } from './sqlite-security-rollups.js';
import { createSqliteProviderQuota } from './sqlite-provider-quota.js';
import type { ProviderQuotaEvent, ProviderQuotaSummary } from '../provider-quota-rollups.js';

export * from '../rollups.js';

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

/**
 * One row per session over its whole life (see sessionTotalsOf), so a window of days reads one
 * row per session instead of one per session and hour; `exact` is 0 once a batch arrived out of
 * hour order for the session (its growth figures then come from the segments). The index on
 * session_rollups serves those re-reads and the edges of a window.
 */
const SESSION_TOTALS_SCHEMA = `
CREATE TABLE IF NOT EXISTS session_totals (
  session_id TEXT NOT NULL PRIMARY KEY,
  first_ts_ms INTEGER NOT NULL,
  last_ts_ms INTEGER NOT NULL,
  ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  exact INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS session_rollups_session ON session_rollups (session_id, hour);
`;
const SESSION_TOTALS_STATE = 'session_totals_v1';

/**
 * The cost ranking of a window's sessions (sessionPage) and the window bound of the growing
 * sessions: summaries by whole-life cost (walked in order; its time columns filter out sessions
 * not wholly inside the window without reading the table), and by time span (counts of a
 * window's sessions and the ones reaching outside it, index-only; every read of the sessions
 * overlapping a window). The span index replaced `session_totals_last (last_ts_ms)`, its prefix,
 * which is dropped on open: one index fewer to update on each summary's upsert.
 */
const SESSION_PAGE_INDEXES = `CREATE INDEX IF NOT EXISTS session_totals_cost ON session_totals (cost_micro_usd DESC, session_id, first_ts_ms, last_ts_ms);
CREATE INDEX IF NOT EXISTS session_totals_span ON session_totals (last_ts_ms, first_ts_ms);`;

/**
 * Sessions reaching outside a window that a page of the cost ranking reads by id (their pieces
 * within it) and ranks with the summaries of the sessions wholly inside; past this many (a short
 * window over long-lived sessions), the window's day summaries and edge hours are summed per
 * session by one range scan and ranked in SQL.
 */
export const SESSION_PAGE_BY_ID_UP_TO = 1000;

/**
 * Growing sessions: up to this many sessions overlapping a window are ranked by sorting them;
 * more, and the rank index is walked (at most as many rows as the window has sessions, then the
 * window sorted after all), so a read never walks sessions far outside its window.
 */
const GROWING_WINDOW_SORT_UP_TO = 2000;

/**
 * One row per session and UTC day (the day's hour segments joined in hour order, `exact` as in
 * session_totals), so a window read from segments reads a row per session-day for its whole days
 * and hour segments only at its edges: sessions that reach outside a 7-day window read ~3× fewer
 * rows than their hour segments.
 */
const SESSION_DAYS_SCHEMA = `
CREATE TABLE IF NOT EXISTS session_days (
  day INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  first_ts_ms INTEGER NOT NULL,
  last_ts_ms INTEGER NOT NULL,
  ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  exact INTEGER NOT NULL,
  PRIMARY KEY (day, session_id)
) WITHOUT ROWID;
`;
const SESSION_DAYS_STATE = 'session_days_v1';

/**
 * Creates session_days on a writable store; a store written before it gets one summary per
 * session and day from its segments, inexact until `rebuildSessionTotals` (one transaction).
 * Returns false for such a store opened read-only (reads then join hour segments).
 */
function openSessionDays(db: Database.Database): boolean {
  if (db.readonly)
    return db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${SESSION_DAYS_STATE}'`).get() !== undefined;
  db.transaction(() => {
    if (db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${SESSION_DAYS_STATE}'`).get() !== undefined)
      return;
    db.exec(SESSION_DAYS_SCHEMA);
    db.prepare(
      `INSERT OR REPLACE INTO session_days (day, session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')}, exact)
       SELECT hour - (hour % ${DAY_MS}) AS d, session_id, MIN(first_ts_ms), MAX(last_ts_ms), ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')},
         ${GROWTH_COLUMNS.map(() => '0').join(', ')}, 0
       FROM session_rollups GROUP BY d, session_id`,
    ).run();
    db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${SESSION_DAYS_STATE}', 1)`).run();
  })();
  return true;
}

const GROWTH_RANK = growthRankSql('sqlite');

/** Rows per multi-row UPSERT: one statement step instead of many cuts the per-row overhead. */
const CHUNK = 64;

/**
 * Day blocks (SQLite only): besides day rows, complete days are also summed into aligned
 * blocks of 2, 4, 8, 16 and 32 days (granularity 3…7, block start a multiple of its size since
 * the epoch), once a day when the fold mark enters a new day. A window of whole days then reads at most about ten blocks per key instead of one row
 * per day: `--by user` over 30 days with 5,000 daily users read 265,000 rows (~500 ms) before.
 */
const BLOCK_LEVELS = [1, 2, 3, 4, 5] as const;
const blockGranularity = (level: number): number => G_DAY + level;
const blockMs = (level: number): number => DAY_MS * 2 ** level;
const BLOCKS_STATE = 'day_blocks_v2';
/** Blocks hold the days before the fold mark's day: whole days only. */
const blocksThrough = (foldedMs: number): number =>
  foldedMs === Number.NEGATIVE_INFINITY ? foldedMs : Math.floor(foldedMs / DAY_MS) * DAY_MS;
/** Below every timestamp (the lower bound of a fold with no mark yet). */
const MIN_MS = -8_640_000_000_000_000;

interface Range {
  granularity: number;
  from: number;
  to: number;
}

/**
 * Covers [from, to) (whole days) with the fewest aligned blocks, each run of same-size blocks as
 * one range of that granularity. Only blocks inside [from, to) are used, so all are complete.
 */
function dayBlockRanges(from: number, to: number): Range[] {
  const out: Range[] = [];
  let at = from;
  while (at < to) {
    let level = 0;
    for (const l of BLOCK_LEVELS) if (at % blockMs(l) === 0 && at + blockMs(l) <= to) level = l;
    const size = level === 0 ? DAY_MS : blockMs(level);
    const g = level === 0 ? G_DAY : blockGranularity(level);
    const last = out[out.length - 1];
    if (last && last.granularity === g && last.to === at) last.to = at + size;
    else out.push({ granularity: g, from: at, to: at + size });
    at += size;
  }
  return out;
}

/**
 * Creates session_totals on a writable store. A store written before it gets one summary per
 * session from its segments, marked inexact (its growth figures are read from the segments
 * until `rebuildSessionTotals`), in one transaction so two processes opening it do not both
 * build. Returns false for such a store opened read-only: its reads then join segments only.
 */
function openSessionTotals(db: Database.Database): boolean {
  if (db.readonly)
    return (
      db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session_totals'`).get() !==
      undefined
    );
  db.transaction(() => {
    if (db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${SESSION_TOTALS_STATE}'`).get() !== undefined)
      return;
    db.exec(SESSION_TOTALS_SCHEMA);
    db.prepare(
      `INSERT OR REPLACE INTO session_totals (session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')}, exact)
       SELECT session_id, MIN(first_ts_ms), MAX(last_ts_ms), ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')},
         ${GROWTH_COLUMNS.map(() => '0').join(', ')}, 0
       FROM session_rollups GROUP BY session_id`,
    ).run();
    db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${SESSION_TOTALS_STATE}', 1)`).run();
  })();
  return true;
}

/** Rollups over one SQLite database (the event store's file, so they share its transactions). */
export interface SqliteRollups {
  /** Adds a batch of written events, in write order. Call inside the transaction that inserts them. */
  applyRollups(events: readonly (RollupEvent & SecurityRollupEvent & ProviderQuotaEvent)[]): void;
  /** Auth failures per (IP, key, prefix) and per chart bucket (security-rollups.ts). */
  authFailures(sinceMs: number, untilMs: number, bucketMs: number): AuthFailureCounts;
  /** Redaction hits per type. */
  redactionHits(sinceMs: number, untilMs: number): RedactionHits[];
  /** The report-only security kinds over whole hours (security-rollups.ts). */
  reportCounts(fromMs: number, toMs: number): SecurityReportCounts;
  /** Threat indicators per session over whole hours. */
  sessionIndicators(sessionIds: readonly string[], fromMs: number, toMs: number): Map<string, string[]>;
  /** The provider quota per provider key and kind (provider-quota-rollups.ts). */
  providerQuota(sinceMs: number, untilMs: number, top: number): ProviderQuotaSummary;
  /** Recomputes the security rollups and the provider quota summary from the stored events. */
  rebuildSecurity(): void;
  /** Totals per key of one dimension over [sinceMs, untilMs) (see bucketRanges), biggest cost first. */
  groups(dimension: RollupDimension, sinceMs: number, untilMs: number): RollupGroup[];
  /** Totals per UTC day over [sinceMs, untilMs); key is the day `YYYY-MM-DD`. */
  days(sinceMs: number, untilMs: number): RollupGroup[];
  /**
   * Sessions with a request in [sinceMs, untilMs) (aligned outward to whole hours), with their
   * totals and input growth over that window, segments joined in hour order.
   */
  sessions(sinceMs: number, untilMs: number): SessionGrowth[];
  /** The same for the given sessions only. */
  sessionsById(sessionIds: readonly string[], sinceMs: number, untilMs: number): SessionGrowth[];
  /** The top of the growing sessions overlapping a window (RollupReader.growingSessions). */
  growingSessions(sinceMs: number, untilMs: number, limit: number): GrowingSessions;
  /** A page of a window's sessions ranked by cost (RollupReader.sessionPage). */
  sessionPage(
    sinceMs: number,
    untilMs: number,
    page: { limit: number; after: SessionCursor | null },
  ): SessionPage;
  /**
   * Rebuilds session_totals from the hour segments (exact again, whatever order batches came
   * in), in one transaction; returns the number of sessions.
   */
  rebuildSessionTotals(): number;
}

function multiRowUpsert(
  db: Database.Database,
  head: string,
  columns: number,
  rows: number,
  tail: string,
): Database.Statement {
  const one = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return db.prepare(`${head} VALUES ${Array.from({ length: rows }, () => one).join(', ')} ${tail}`);
}

/**
 * Writes rows through a chunked multi-row statement plus a single-row one for the remainder.
 * Parameters are spread as arguments: better-sqlite3 binds an array through one V8 API call per
 * element, which cost ~40 % of a 22-column row's write (1.4 of 3.5 µs, measured with 64-row upserts).
 */
class ChunkedWriter {
  private readonly pending: (number | string)[] = [];
  private count = 0;
  constructor(
    private readonly many: Database.Statement,
    private readonly one: Database.Statement,
    private readonly width: number,
  ) {}
  /** One row: the leading values, then the accumulator, then the trailing values. */
  push(a: number, b: number | string, c: number, d: number | string, acc: Acc, ...tail: number[]): void {
    const p = this.pending;
    p.push(a, b, c, d);
    for (let i = 0; i < acc.length; i++) p.push(acc[i]!);
    for (let i = 0; i < tail.length; i++) p.push(tail[i]!);
    this.rowAdded();
  }
  /**
   * One session summary row (session_totals, or session_days with its `day` first): the segment's
   * columns, then `exact`. Pushed in place, without building the row as an array first.
   */
  pushSummary(day: number | null, t: SegmentRow, exact: boolean): void {
    const p = this.pending;
    if (day !== null) p.push(day);
    p.push(t.session_id, t.first_ts_ms, t.last_ts_ms);
    for (const c of TOTAL_COLUMNS) p.push(t[c]);
    for (const c of GROWTH_COLUMNS) p.push(t[c]);
    p.push(exact ? 1 : 0);
    this.rowAdded();
  }
  private rowAdded(): void {
    const p = this.pending;
    if (++this.count === CHUNK) {
      this.many.run(...p);
      p.length = 0;
      this.count = 0;
    }
  }
  flush(): void {
    for (let i = 0; i < this.count; i++)
      this.one.run(...this.pending.slice(i * this.width, (i + 1) * this.width));
    this.pending.length = 0;
    this.count = 0;
  }
}

export interface SqliteRollupOptions {
  /**
   * Up to this many sessions of a window that need their segments (reaching outside it, or
   * inexact) are read by session id; more are read by range scans of the window's day summaries
   * and edge hours (one scan each). Default: 32 or a quarter of the window's sessions, whichever
   * is more; the tests set 0 to check the range path. Also the sessions a page of the cost
   * ranking (sessionPage) reads by id before it ranks the window by a range scan instead
   * (default SESSION_PAGE_BY_ID_UP_TO).
   */
  sessionsByIdUpTo?: number;
  /**
   * Growing sessions: up to this many sessions of a window are ranked by sorting them, more by
   * walking the rank index (default GROWING_WINDOW_SORT_UP_TO); the tests set 0 to check the walk.
   */
  growingSortUpTo?: number;
}

/** Creates the rollup tables if needed and returns the rollup writer and queries. */
export function createSqliteRollups(db: Database.Database, options: SqliteRollupOptions = {}): SqliteRollups {
  const sessionsByIdUpTo = options.sessionsByIdUpTo;
  db.exec(SCHEMA);
  const totalsReady = openSessionTotals(db);
  // The growing-sessions index (the rank of exact summaries) and the inexact summaries by time:
  // a cost page reads the top ten through the first and the few inexact ones through the second.
  if (totalsReady && !db.readonly)
    db.exec(`CREATE INDEX IF NOT EXISTS session_totals_growth ON session_totals (${GROWTH_RANK} DESC, session_id) WHERE exact = 1;
      CREATE INDEX IF NOT EXISTS session_totals_inexact ON session_totals (last_ts_ms) WHERE exact = 0;
      ${SESSION_PAGE_INDEXES}
      DROP INDEX IF EXISTS session_totals_last;`);
  const hasIndex = (name: string): boolean =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).get(name) !== undefined;
  // An old store opened read-only may lack them: the same queries then go without the hint.
  const costIndex = totalsReady && hasIndex('session_totals_cost') ? 'INDEXED BY session_totals_cost' : '';
  const spanIndex = totalsReady && hasIndex('session_totals_span') ? 'INDEXED BY session_totals_span' : '';
  const daysReady = totalsReady && openSessionDays(db);
  const security = createSqliteSecurityRollups(db);
  const quota = createSqliteProviderQuota(db);
  const rollupHead = `INSERT INTO cost_rollups (granularity, dim, bucket, k, ${TOTAL_COLUMNS.join(', ')})`;
  const rollupTail = `ON CONFLICT (granularity, dim, bucket, k) DO UPDATE SET
     ${TOTAL_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
  const rollupWidth = 4 + TOTAL_COLUMNS.length;

  const sessionHead = `INSERT INTO session_rollups (hour, session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')})`;
  const sessionTail = `ON CONFLICT (hour, session_id) DO UPDATE SET ${sessionJoinSet('sqlite')}`;
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

  const totalsColumns = [
    'session_id',
    'first_ts_ms',
    'last_ts_ms',
    ...TOTAL_COLUMNS,
    ...GROWTH_COLUMNS,
    'exact',
  ];
  const totalsHead = `INSERT INTO session_totals (${totalsColumns.join(', ')})`;
  // A batch that starts before the stored summary's last hour is out of hour order: inexact.
  const totalsTail = `ON CONFLICT (session_id) DO UPDATE SET ${sessionJoinSet('sqlite')},
       exact = CASE WHEN exact = 1 AND excluded.first_ts_ms - (excluded.first_ts_ms % ${HOUR_MS}) >= last_ts_ms - (last_ts_ms % ${HOUR_MS}) THEN 1 ELSE 0 END`;
  // Null only for an old store opened read-only (it is never written then).
  const totalsWriter = totalsReady
    ? new ChunkedWriter(
        multiRowUpsert(db, totalsHead, totalsColumns.length, CHUNK, totalsTail),
        multiRowUpsert(db, totalsHead, totalsColumns.length, 1, totalsTail),
        totalsColumns.length,
      )
    : null;
  const daysColumns = ['day', ...totalsColumns];
  const daysHead = `INSERT INTO session_days (${daysColumns.join(', ')})`;
  const daysTail = `ON CONFLICT (day, session_id) DO UPDATE SET ${sessionJoinSet('sqlite')},
       exact = CASE WHEN exact = 1 AND excluded.first_ts_ms - (excluded.first_ts_ms % ${HOUR_MS}) >= last_ts_ms - (last_ts_ms % ${HOUR_MS}) THEN 1 ELSE 0 END`;
  const daysWriter = daysReady
    ? new ChunkedWriter(
        multiRowUpsert(db, daysHead, daysColumns.length, CHUNK, daysTail),
        multiRowUpsert(db, daysHead, daysColumns.length, 1, daysTail),
        daysColumns.length,
      )
    : null;

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
  const dims = ROLLUP_DIMENSIONS.map((_, i) => i).join(', ');
  const sumsOf = TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ');
  // Blocks hold whole days only: the days before the fold mark's day (see blocksThrough).
  const foldDaysIntoBlocks = BLOCK_LEVELS.map((level) =>
    db.prepare(
      `INSERT INTO cost_rollups (granularity, dim, bucket, k, ${TOTAL_COLUMNS.join(', ')})
       SELECT ${blockGranularity(level)}, dim, bucket - (bucket % ${blockMs(level)}) AS blk, k, ${sumsOf}
       FROM cost_rollups WHERE granularity = ${G_DAY} AND dim IN (${dims}) AND bucket >= ? AND bucket < ?
       GROUP BY dim, blk, k
       ${rollupTail}`,
    ),
  );
  const foldDays = (from: number, to: number): void => {
    for (const fold of foldDaysIntoBlocks) fold.run(from === Number.NEGATIVE_INFINITY ? MIN_MS : from, to);
  };
  const readFoldedStmt = db
    .prepare(`SELECT value FROM rollup_state WHERE name = 'day_folded_through_ms'`)
    .pluck();
  const writeFolded = db.prepare(
    `INSERT INTO rollup_state (name, value) VALUES ('day_folded_through_ms', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  );
  /** Hours before this are folded into days. Read per batch: a rolled-back transaction must not leave it stale. */
  const readFolded = (): number => (readFoldedStmt.get() as number | undefined) ?? Number.NEGATIVE_INFINITY;
  // A store written before blocks (or with an earlier block layout): build them once from its day
  // rows. Checked inside the write transaction, so two processes opening it do not both build.
  const blocksState = db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${BLOCKS_STATE}'`).pluck();
  if (!db.readonly) {
    db.transaction(() => {
      if (blocksState.get() !== undefined) return;
      db.prepare(`DELETE FROM cost_rollups WHERE granularity > ${G_DAY}`).run();
      const through = blocksThrough(readFolded());
      if (through > Number.NEGATIVE_INFINITY) foldDays(Number.NEGATIVE_INFINITY, through);
      db.prepare(`DELETE FROM rollup_state WHERE name LIKE 'day_blocks%'`).run();
      db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${BLOCKS_STATE}', 1)`).run();
    })();
  }
  /** False only for an old store opened read-only: its reads then use day rows. */
  const blocksReady = blocksState.get() !== undefined;

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
  const rangeQuery = (select: string, ranges: readonly Range[], groupBy: string, orderBy: string): string =>
    `SELECT ${groupBy}, ${sums} FROM (${ranges
      .map(
        () =>
          `SELECT ${select} FROM cost_rollups WHERE granularity = ? AND dim = ? AND bucket >= ? AND bucket < ?`,
      )
      .join(' UNION ALL ')}) GROUP BY ${groupBy} ORDER BY ${orderBy}`;
  const rangeParams = (ranges: readonly Range[], dim: number): number[] =>
    ranges.flatMap((r) => [r.granularity, dim, r.from, r.to]);
  const totalsList = TOTAL_COLUMNS.join(', ');

  const readSnapshot = <T>(read: () => T): T => (db.inTransaction ? read() : db.transaction(read)());
  /**
   * Fewer rows for the same sums: whole days as day blocks, and the hours of the day being
   * folded (hour rows from its start up to `folded`) as that day's row, which holds exactly
   * those hours — only hours before `folded` are in a day row.
   */
  const coarsen = (ranges: readonly BucketRange[], folded: number): Range[] => {
    const out: Range[] = [];
    for (const r of ranges) {
      if (r.granularity === G_DAY) out.push(...(blocksReady ? dayBlockRanges(r.from, r.to) : [r]));
      else if (
        r.granularity === G_HOUR &&
        r.from % DAY_MS === 0 &&
        r.from < folded &&
        folded <= r.to &&
        folded <= r.from + DAY_MS
      ) {
        out.push({ granularity: G_DAY, from: r.from, to: r.from + DAY_MS });
        if (folded < r.to) out.push({ granularity: G_HOUR, from: folded, to: r.to });
      } else out.push(r);
    }
    return out;
  };

  // Primary-key order is (hour, session_id): the range comes back in hour order.
  const sessionsStmt = db.prepare(
    `SELECT session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')}
     FROM session_rollups WHERE hour >= ? AND hour < ?`,
  );

  const segmentColumns = `session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')}`;
  const totalsStmt = totalsReady
    ? db
        .prepare(
          `SELECT ${segmentColumns}, exact FROM session_totals WHERE last_ts_ms >= ? AND first_ts_ms < ?`,
        )
        .raw()
    : null;
  const inexactStmt = totalsReady
    ? db
        .prepare(
          `SELECT session_id FROM session_totals WHERE exact = 0 AND last_ts_ms >= ? AND first_ts_ms < ? LIMIT ${GROWING_INEXACT_UP_TO}`,
        )
        .pluck()
    : null;
  const segmentsOfStmt = db
    .prepare(
      `SELECT ${segmentColumns} FROM session_rollups WHERE session_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
    )
    .raw();
  const hourRangeStmt = db
    .prepare(`SELECT hour, ${segmentColumns} FROM session_rollups WHERE hour >= ? AND hour < ?`)
    .raw();
  const dayRangeStmt = daysReady
    ? db.prepare(`SELECT day, exact, ${segmentColumns} FROM session_days WHERE day >= ? AND day < ?`).raw()
    : null;
  const segmentsWithHourStmt = db
    .prepare(
      `SELECT hour, ${segmentColumns} FROM session_rollups WHERE session_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
    )
    .raw();
  /**
   * The sessions in `ids` over [from, to) (whole hours): their day summaries for the window's whole
   * days (hour segments for a day whose summary is inexact) and hour segments at the edges, each
   * range one primary-key scan, joined per session in time order.
   */
  const joinPartial = (ids: ReadonlySet<string>, from: number, to: number): SegmentRow[] => {
    const pieces = new Map<string, WindowPiece[]>();
    const add = (id: string, at: number, segment: SegmentRow): void => {
      const list = pieces.get(id);
      if (list) list.push({ at, segment });
      else pieces.set(id, [{ at, segment }]);
    };
    const { days, hours } = dayRangeStmt ? windowDays(from, to) : { days: null, hours: [[from, to]] };
    // Raw rows: [hour, ...segment] and [day, exact, ...segment]; objects only for the sessions asked.
    for (const [a, b] of hours)
      for (const raw of hourRangeStmt.iterate(a, b) as IterableIterator<unknown[]>) {
        if (ids.has(raw[1] as string)) add(raw[1] as string, raw[0] as number, segmentFromRaw(raw, 1));
      }
    if (days && dayRangeStmt)
      for (const raw of dayRangeStmt.iterate(days[0], days[1]) as IterableIterator<unknown[]>) {
        const id = raw[2] as string;
        if (!ids.has(id)) continue;
        const day = raw[0] as number;
        if (raw[1] === 1) add(id, day, segmentFromRaw(raw, 2));
        else
          for (const h of segmentsWithHourStmt.iterate(id, day, day + DAY_MS) as IterableIterator<unknown[]>)
            add(id, h[0] as number, segmentFromRaw(h, 1));
      }
    return joinWindowPieces(pieces);
  };
  const segmentsOf = (ids: Iterable<string>, from: number, to: number): SegmentRow[] => {
    const segments: SegmentRow[] = [];
    for (const id of ids)
      for (const raw of segmentsOfStmt.iterate(id, from, to) as IterableIterator<unknown[]>)
        segments.push(segmentFromRaw(raw));
    return segments;
  };
  // A session has a request in [from, to) when its last request is in it, or its first, or (one
  // spanning the whole window) one of its segments.
  const windowCountStmt = totalsReady
    ? db
        .prepare(
          `SELECT COUNT(*) FROM session_totals ${spanIndex} WHERE last_ts_ms >= ? AND first_ts_ms < ?
           AND (last_ts_ms < ? OR first_ts_ms >= ? OR EXISTS (SELECT 1 FROM session_rollups r
             WHERE r.session_id = session_totals.session_id AND r.hour >= ? AND r.hour < ?))`,
        )
        .pluck()
    : null;
  const straddlingStmt = totalsReady
    ? db
        .prepare(
          `SELECT session_id FROM session_totals ${spanIndex}
           WHERE last_ts_ms >= ? AND first_ts_ms < ? AND (first_ts_ms < ? OR last_ts_ms >= ?)`,
        )
        .pluck()
    : null;
  // Summaries wholly inside the window, by whole-life cost, after a cursor (cost descending, id
  // ascending: the index's order, so the walk stops after `limit` rows of the window).
  const wholeTopStmt = totalsReady
    ? db
        .prepare(
          `SELECT ${segmentColumns}, exact FROM session_totals ${costIndex}
           WHERE cost_micro_usd <= ? AND (cost_micro_usd < ? OR session_id > ?) AND first_ts_ms >= ? AND last_ts_ms < ?
           ORDER BY cost_micro_usd DESC, session_id LIMIT ?`,
        )
        .raw()
    : null;
  const wholeSumStmt = totalsReady
    ? db
        .prepare(
          `SELECT ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')} FROM session_totals ${spanIndex}
           WHERE last_ts_ms >= ? AND last_ts_ms < ? AND first_ts_ms >= ?`,
        )
        .raw()
    : null;
  const totalsByIdStmt = db
    .prepare(
      totalsReady
        ? `SELECT ${segmentColumns}, exact FROM session_totals WHERE session_id = ?`
        : `SELECT NULL WHERE ? IS NULL`,
    )
    .raw();
  const windowSessionsStmt = totalsReady
    ? db
        .prepare(`SELECT COUNT(*) FROM session_totals ${spanIndex} WHERE last_ts_ms >= ? AND first_ts_ms < ?`)
        .pluck()
    : null;
  const growingInWindowStmt = totalsReady
    ? db
        .prepare(
          `SELECT ${segmentColumns} FROM session_totals ${spanIndex}
           WHERE last_ts_ms >= ? AND first_ts_ms < ? AND exact = 1 AND ${GROWTH_RANK} >= ${GROWING_MIN_RANK}
           ORDER BY ${GROWTH_RANK} DESC, session_id LIMIT ?`,
        )
        .raw()
    : null;
  const growingWalkStmt = totalsReady
    ? db
        .prepare(
          `SELECT ${segmentColumns} FROM session_totals WHERE exact = 1 AND ${GROWTH_RANK} >= ${GROWING_MIN_RANK}
           ORDER BY ${GROWTH_RANK} DESC, session_id LIMIT ?`,
        )
        .raw()
    : null;
  const inexactCountStmt = totalsReady
    ? db
        .prepare(
          `SELECT COUNT(*) FROM session_totals WHERE exact = 0 AND last_ts_ms >= ? AND first_ts_ms < ?`,
        )
        .pluck()
    : null;
  /**
   * The pieces of every session's window [from, to) as one UNION ALL: day summaries for its whole
   * days (their sums are exact even where their growth is not) and hour segments at its edges.
   */
  const windowPieces = (from: number, to: number, columns: string): { sql: string; params: number[] } => {
    const { days, hours } = daysReady ? windowDays(from, to) : { days: null, hours: [[from, to]] };
    const arms: string[] = [];
    const params: number[] = [];
    if (days) {
      arms.push(`SELECT session_id, ${columns} FROM session_days WHERE day >= ? AND day < ?`);
      params.push(...days);
    }
    for (const [a, b] of hours) {
      arms.push(`SELECT session_id, ${columns} FROM session_rollups WHERE hour >= ? AND hour < ?`);
      params.push(a, b);
    }
    return { sql: arms.join(' UNION ALL '), params };
  };
  /** Sums over every session's requests in [from, to). */
  const sessionSums = (from: number, to: number): RollupTotals => {
    const sum = zeroTotals();
    const { sql, params } = windowPieces(from, to, TOTAL_COLUMNS.join(', '));
    if (params.length === 0) return sum;
    const raw = statement(`SELECT ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')} FROM (${sql})`)
      .raw()
      .get(...params) as (number | null)[];
    TOTAL_COLUMNS.forEach((c, i) => (sum[c] = raw[i] ?? 0));
    return sum;
  };
  const exactAt = SEGMENT_COLUMNS.length;
  /** The window figures of the given sessions: an exact summary wholly inside, else its segments. */
  const windowFigures = (ids: readonly string[], from: number, to: number): Map<string, SegmentRow> => {
    const out = new Map<string, SegmentRow>();
    const partial: string[] = [];
    for (const id of ids) {
      const raw = totalsByIdStmt.get(id) as unknown[] | undefined;
      if (raw && raw[exactAt] === 1 && (raw[1] as number) >= from && (raw[2] as number) < to)
        out.set(id, segmentFromRaw(raw));
      else partial.push(id);
    }
    for (const s of joinSessionSegments(segmentsOf(partial, from, to))) out.set(s.session_id, s);
    return out;
  };

  const segmentPageStmt = db.prepare(
    `SELECT hour, ${segmentColumns} FROM session_rollups
     WHERE (session_id, hour) > (?, ?) ORDER BY session_id, hour LIMIT 20000`,
  );

  return {
    applyRollups(events: readonly (RollupEvent & SecurityRollupEvent & ProviderQuotaEvent)[]): void {
      if (events.length === 0) return;
      security.apply(events);
      quota.apply(events);
      // Rows come summed per key and sorted by primary key, so consecutive upserts land on the
      // same or neighbouring b-tree pages. Day rows are folded from whole hours in SQL (below):
      // hours are few per day, while a batch touches as many day rows as hour rows.
      const folded = readFolded();
      const batch = foldBatch(events, folded);
      for (const r of batch.rows) {
        rollupWriter.push(r.granularity, r.dim, r.bucket, r.k, r.acc);
        // A late event's day row (its hour was already folded), of a day already in the blocks.
        if (r.granularity === G_DAY && r.bucket < blocksThrough(folded)) {
          for (const level of BLOCK_LEVELS)
            rollupWriter.push(
              blockGranularity(level),
              r.dim,
              r.bucket - (r.bucket % blockMs(level)),
              r.k,
              r.acc,
            );
        }
      }
      rollupWriter.flush();
      // Every hour before the latest one seen is taken as complete: fold it into its day.
      if (batch.latestHour > folded) {
        foldHours.run(folded === Number.NEGATIVE_INFINITY ? MIN_MS : folded, batch.latestHour);
        // Days completed by this fold (their day rows are whole now) go into the blocks: once a day.
        if (blocksThrough(batch.latestHour) > blocksThrough(folded))
          foldDays(blocksThrough(folded), blocksThrough(batch.latestHour));
        writeFolded.run(batch.latestHour);
      }
      for (const r of batch.sessions) {
        sessionWriter.push(
          r.hour,
          r.session,
          r.first_ts,
          r.last_ts,
          r.acc,
          r.n,
          r.first,
          r.last,
          r.max,
          r.increases,
          r.lead,
          r.trail,
          r.maxStreak,
        );
      }
      sessionWriter.flush();
      if (totalsWriter) {
        for (const t of sessionTotalsOf(batch.sessions)) totalsWriter.pushSummary(null, t, true);
        totalsWriter.flush();
      }
      if (daysWriter) {
        for (const d of sessionDaysOf(batch.sessions)) daysWriter.pushSummary(d.day, d, true);
        daysWriter.flush();
      }
    },

    groups(dimension: RollupDimension, sinceMs: number, untilMs: number): RollupGroup[] {
      // One read transaction: the folded mark and the rows it describes come from one snapshot
      // (a writer in another process may fold more hours between two statements).
      return readSnapshot(() => {
        const folded = readFolded();
        const ranges = coarsen(bucketRanges(sinceMs, untilMs, FINEST_BUCKET_MS[dimension], folded), folded);
        if (ranges.length === 0) return [];
        const sql = rangeQuery(`k, ${totalsList}`, ranges, 'k', 'cost_micro_usd DESC, k ASC');
        const rows = statement(sql).all(
          ...rangeParams(ranges, ROLLUP_DIMENSIONS.indexOf(dimension)),
        ) as (RollupTotals & {
          k: string;
        })[];
        return rows.map(({ k, ...totals }) => ({ key: k, ...totals }));
      });
    },

    days(sinceMs: number, untilMs: number): RollupGroup[] {
      const ranges = bucketRanges(sinceMs, untilMs, MINUTE_MS, readFolded());
      if (ranges.length === 0) return [];
      const sql = rangeQuery(
        `bucket - (bucket % ${DAY_MS}) AS day_ms, ${totalsList}`,
        ranges,
        'day_ms',
        'day_ms ASC',
      );
      const rows = statement(sql).all(...rangeParams(ranges, 0)) as (RollupTotals & { day_ms: number })[];
      return rows.map(({ day_ms, ...totals }) => ({
        key: new Date(day_ms).toISOString().slice(0, 10),
        ...totals,
      }));
    },

    sessions(sinceMs: number, untilMs: number): SessionGrowth[] {
      if (!(untilMs > sinceMs)) return [];
      const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
      const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
      if (!totalsReady) return joinSessionSegments(sessionsStmt.all(from, to) as SegmentRow[]);
      // One snapshot: a summary and the segments it is checked against come from the same commit.
      return readSnapshot(() => {
        // partitionSessionTotals, on raw rows: an exact summary wholly inside the window is the
        // session's answer; the others are joined from their day summaries and hour segments.
        const whole: SegmentRow[] = [];
        const partial: string[] = [];
        for (const raw of totalsStmt!.iterate(from, to) as IterableIterator<unknown[]>) {
          if (raw[exactAt] === 1 && (raw[1] as number) >= from && (raw[2] as number) < to)
            whole.push(segmentFromRaw(raw));
          else partial.push(raw[0] as string);
        }
        if (partial.length === 0) return whole;
        // A few partial sessions (by default up to a quarter of the window's): their own segments
        // by index. More: range scans of the window's day summaries and edge hours.
        const byIdUpTo = sessionsByIdUpTo ?? Math.max(32, Math.floor((whole.length + partial.length) / 4));
        if (partial.length <= byIdUpTo)
          return [...whole, ...joinSessionSegments(segmentsOf(partial, from, to))];
        return [...whole, ...joinPartial(new Set(partial), from, to)];
      });
    },

    sessionsById(sessionIds: readonly string[], sinceMs: number, untilMs: number): SessionGrowth[] {
      if (!(untilMs > sinceMs) || sessionIds.length === 0) return [];
      const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
      const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
      return readSnapshot(() => joinSessionSegments(segmentsOf(new Set(sessionIds), from, to)));
    },

    growingSessions(sinceMs: number, untilMs: number, limit: number): GrowingSessions {
      if (!(untilMs > sinceMs) || limit <= 0) return { sessions: [], inexact: 0, inexact_ranked: 0 };
      const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
      const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
      return readSnapshot(() => {
        if (!growingInWindowStmt || !growingWalkStmt || !windowSessionsStmt || !inexactStmt)
          return {
            sessions: topGrowing(
              joinSessionSegments(
                segmentsOf(
                  new Set((sessionsStmt.all(from, to) as SegmentRow[]).map((r) => r.session_id)),
                  ...WHOLE_LIFE,
                ),
              ),
              limit,
            ),
            inexact: 0,
            inexact_ranked: 0,
          };
        // Bounded by the window: a few sessions are sorted; many, and the rank index is walked for
        // at most as many rows as the window has sessions (a window holding most sessions finds its
        // top within the first rows), then the window is sorted after all.
        const inWindow = windowSessionsStmt.get(from, to) as number;
        let exact: SegmentRow[] = [];
        let sorted = inWindow <= (options.growingSortUpTo ?? GROWING_WINDOW_SORT_UP_TO);
        if (!sorted) {
          let walked = 0;
          for (const raw of growingWalkStmt.iterate(inWindow) as IterableIterator<unknown[]>) {
            walked++;
            if ((raw[2] as number) >= from && (raw[1] as number) < to) {
              exact.push(segmentFromRaw(raw));
              if (exact.length === limit) break;
            }
          }
          sorted = exact.length < limit && walked === inWindow;
        }
        if (sorted)
          exact = (growingInWindowStmt.all(from, to, limit) as unknown[][]).map((raw) => segmentFromRaw(raw));
        const ids = inexactStmt.all(from, to) as string[];
        if (ids.length === 0) return { sessions: exact, inexact: 0, inexact_ranked: 0 };
        // Inexact summaries are joined from their segments, up to GROWING_INEXACT_UP_TO; the count
        // of the others is returned so that the page can say the list may be incomplete.
        const inexact =
          ids.length < GROWING_INEXACT_UP_TO ? ids.length : (inexactCountStmt!.get(from, to) as number);
        return {
          sessions: topGrowing([...exact, ...joinSessionSegments(segmentsOf(ids, ...WHOLE_LIFE))], limit),
          inexact,
          inexact_ranked: ids.length,
        };
      });
    },

    sessionPage(sinceMs, untilMs, page): SessionPage {
      const limit = Math.max(0, Math.floor(page.limit));
      if (!(untilMs > sinceMs)) return { sessions: [], total: 0, sum: zeroTotals() };
      const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
      const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
      if (!windowCountStmt || !straddlingStmt || !wholeTopStmt)
        return sessionPageOf(joinSessionSegments(sessionsStmt.all(from, to) as SegmentRow[]), page);
      const after = page.after;
      const [capCost, capId] = after
        ? [after.cost_micro_usd, after.session_id]
        : [Number.MAX_SAFE_INTEGER, ''];
      return readSnapshot(() => {
        const total = windowCountStmt.get(from, to, to, from, from, to) as number;
        const straddling = straddlingStmt.all(from, to, from, to) as string[];
        if (straddling.length <= (sessionsByIdUpTo ?? SESSION_PAGE_BY_ID_UP_TO)) {
          // Sessions reaching outside the window: their figures within it, from their segments.
          const outside = joinSessionSegments(segmentsOf(straddling, from, to));
          // The sums: the summaries wholly inside (one row per session, through the span index:
          // 2.4x less CPU than the window's day summaries on the bench store) plus those figures.
          const sum = zeroTotals();
          const inside = wholeSumStmt!.get(from, to, from) as (number | null)[];
          TOTAL_COLUMNS.forEach((c, i) => (sum[c] = inside[i] ?? 0));
          for (const s of outside) for (const c of TOTAL_COLUMNS) sum[c] += s[c];
          if (limit === 0 || total === 0) return { sessions: [], total, sum };
          // Sessions wholly inside the window: their summaries, the top `limit` through the cost
          // index (inexact ones: their growth from their segments).
          const whole = wholeTopStmt.all(capCost, capCost, capId, from, to, limit) as unknown[][];
          const figures = windowFigures(
            whole.filter((raw) => raw[exactAt] !== 1).map((raw) => raw[0] as string),
            from,
            to,
          );
          const candidates = whole.map((raw) =>
            raw[exactAt] === 1 ? segmentFromRaw(raw) : figures.get(raw[0] as string)!,
          );
          for (const s of outside) if (ranksAfter(s.cost_micro_usd, s.session_id, after)) candidates.push(s);
          return { sessions: candidates.sort(byCostThenId).slice(0, limit), total, sum };
        }
        const sum = sessionSums(from, to);
        if (limit === 0 || total === 0) return { sessions: [], total, sum };
        // Many sessions reach outside the window (a short window over long-lived sessions): the
        // window's pieces summed per session by one range scan and ranked in SQL, then the page's
        // sessions read by id.
        const { sql, params } = windowPieces(from, to, 'cost_micro_usd');
        const ids = statement(
          `SELECT session_id, SUM(cost_micro_usd) AS c FROM (${sql}) GROUP BY session_id
           HAVING c <= ? AND (c < ? OR session_id > ?) ORDER BY c DESC, session_id LIMIT ?`,
        )
          .pluck()
          .all(...params, capCost, capCost, capId, limit) as string[];
        const figures = windowFigures(ids, from, to);
        return { sessions: ids.map((id) => figures.get(id)!), total, sum };
      });
    },

    authFailures: (sinceMs, untilMs, bucketMs) => security.authFailures(sinceMs, untilMs, bucketMs),
    redactionHits: (sinceMs, untilMs) => security.redactionHits(sinceMs, untilMs),
    reportCounts: (fromMs, toMs) => security.reportCounts(fromMs, toMs),
    sessionIndicators: (ids, fromMs, toMs) => security.sessionIndicators(ids, fromMs, toMs),
    providerQuota: (sinceMs, untilMs, top) => quota.providerQuota(sinceMs, untilMs, top),
    rebuildSecurity: () => {
      security.rebuild();
      quota.rebuild();
    },

    rebuildSessionTotals(): number {
      if (!totalsReady)
        throw new TollgateError('TG_ERR_STORE_WRITE', { table: 'session_totals', reason: 'read-only' });
      return db.transaction(() => {
        db.prepare('DELETE FROM session_totals').run();
        if (daysWriter) db.prepare('DELETE FROM session_days').run();
        let current: SegmentRow | null = null;
        let currentDay: (SegmentRow & { day: number }) | null = null;
        let n = 0;
        const put = (t: SegmentRow): void => {
          totalsWriter!.pushSummary(null, t, true);
          n++;
        };
        const putDay = (d: SegmentRow & { day: number }): void => {
          daysWriter?.pushSummary(d.day, d, true);
        };
        // Keyset pages, not one iterate(): the writers cannot run while a statement is being read.
        const pages = function* (): Generator<SegmentRow & { hour: number }> {
          let after: [string, number] = ['', Number.MIN_SAFE_INTEGER];
          for (;;) {
            const page = segmentPageStmt.all(...after) as (SegmentRow & { hour: number })[];
            if (page.length === 0) return;
            yield* page;
            const tail = page[page.length - 1]!;
            after = [tail.session_id, tail.hour];
          }
        };
        for (const raw of pages()) {
          const { hour, ...row } = raw;
          const day = hour - (hour % DAY_MS);
          if (current && current.session_id === row.session_id) current = joinSegments(current, row);
          else {
            if (current) put(current);
            current = row;
          }
          if (currentDay && currentDay.session_id === row.session_id && currentDay.day === day)
            currentDay = { ...joinSegments(currentDay, row), day };
          else {
            if (currentDay) putDay(currentDay);
            currentDay = { ...row, day };
          }
        }
        if (current) put(current);
        if (currentDay) putDay(currentDay);
        totalsWriter!.flush();
        daysWriter?.flush();
        return n;
      })();
    },
  };
}

/** The async `RollupReader` over SQLite rollups, so reports read either store kind the same way. */
export function sqliteRollupReader(rollups: SqliteRollups): RollupReader {
  return {
    groups: async (dimension, sinceMs, untilMs) => rollups.groups(dimension, sinceMs, untilMs),
    days: async (sinceMs, untilMs) => rollups.days(sinceMs, untilMs),
    sessions: async (sinceMs, untilMs) => rollups.sessions(sinceMs, untilMs),
    sessionsById: async (ids, sinceMs, untilMs) => rollups.sessionsById(ids, sinceMs, untilMs),
    growingSessions: async (sinceMs, untilMs, limit) => rollups.growingSessions(sinceMs, untilMs, limit),
    sessionPage: async (sinceMs, untilMs, page) => rollups.sessionPage(sinceMs, untilMs, page),
    reportCounts: async (fromMs, toMs) => rollups.reportCounts(fromMs, toMs),
    sessionIndicators: async (ids, fromMs, toMs) => rollups.sessionIndicators(ids, fromMs, toMs),
    authFailures: async (sinceMs, untilMs, bucketMs) => rollups.authFailures(sinceMs, untilMs, bucketMs),
    redactionHits: async (sinceMs, untilMs) => rollups.redactionHits(sinceMs, untilMs),
    providerQuota: async (sinceMs, untilMs, top) => rollups.providerQuota(sinceMs, untilMs, top),
  };
}
