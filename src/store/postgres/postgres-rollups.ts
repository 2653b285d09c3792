/**
 * Cost and usage rollups in PostgreSQL, shared by every replica writing to the same schema: the
 * same rows and arithmetic as SQLite's (sqlite-rollups.ts), written inside the transaction that
 * appends the events (PostgresEventStore.addInTransactionHook), from the events that transaction
 * actually inserted, so a replayed batch is not counted twice.
 *
 * Per batch: the batch is folded in memory (foldBatch), then one multi-row UPSERT per table
 * (arrays through `unnest`), rows sorted by key so that replicas writing at the same time lock
 * rows in the same order and cannot deadlock.
 *
 * The day fold: hours before the latest hour written are taken as complete and summed into day
 * rows, once, by whichever transaction first sees a newer hour. The watermark row in
 * `rollup_state` serialises that across replicas: every batch reads it FOR SHARE (batches do not
 * wait for each other), a batch that folds reads it FOR UPDATE (it waits for the batches in
 * flight, which may still add to the hours it folds, and they wait for it). A batch that finds
 * its hour already folded adds to the day row itself (a late event), as on SQLite.
 */
import { inTransaction } from './pg-transaction.js';
import type pg from 'pg';
import {
  bucketRanges,
  DAY_MS,
  FINEST_BUCKET_MS,
  foldBatch,
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
  joinSessionSegments,
  MINUTE_MS,
  partitionSessionTotals,
  ROLLUP_DIMENSIONS,
  addAcc,
  sessionDaysOf,
  sessionJoinSet,
  sessionTotalsOf,
  TOTAL_COLUMNS,
  joinWindowPieces,
  type RollupRow,
  type RollupTotals,
  type SessionDayTotal,
  type WindowPiece,
  type RollupDimension,
  type RollupEvent,
  type RollupGroup,
  type RollupReader,
  type SegmentRow,
  type SessionGrowth,
  type SessionRun,
  type SessionTotalRow,
  type GrowingSessions,
  type SessionCursor,
  type SessionPage,
  byCostThenId,
  windowDays,
  zeroTotals,
} from '../rollups.js';
import { int2Array, int8Array, textArray } from './binary-arrays.js';
import {
  BLOCK_LEVELS,
  blockGranularity,
  blockMs,
  blocksThrough,
  coarsenRanges,
  type BlockRange,
} from '../day-blocks.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';
import {
  PostgresSecurityRollups,
  SECURITY_REPORT_KINDS_MIGRATION,
  SECURITY_ROLLUPS_MIGRATION,
} from './postgres-security-rollups.js';
import { PostgresProviderQuota, PROVIDER_QUOTA_MIGRATION } from './postgres-provider-quota.js';
import type { ProviderQuotaEvent, ProviderQuotaSummary } from '../provider-quota-rollups.js';
import type {
  AuthFailureCounts,
  RedactionHits,
  SecurityReportCounts,
  SecurityRollupEvent,
} from '../security-rollups.js';

const SESSION_NUMBERS = [...TOTAL_COLUMNS, ...GROWTH_COLUMNS] as const;

/**
 * Keys are `COLLATE "C"`: byte order, as SQLite sorts, and cheaper comparisons in the b-trees.
 * fillfactor leaves room on each page so the upserts' new row versions stay on the page (HOT
 * updates: no index entry per update).
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE {schema}.cost_rollups (
     granularity smallint NOT NULL,
     dim smallint NOT NULL,
     bucket bigint NOT NULL,
     k text COLLATE "C" NOT NULL,
     ${TOTAL_COLUMNS.map((c) => `${c} bigint NOT NULL`).join(',\n     ')},
     PRIMARY KEY (granularity, dim, bucket, k)
   ) WITH (fillfactor = 80);
   CREATE TABLE {schema}.session_rollups (
     hour bigint NOT NULL,
     session_id text COLLATE "C" NOT NULL,
     first_ts_ms bigint NOT NULL,
     last_ts_ms bigint NOT NULL,
     ${SESSION_NUMBERS.map((c) => `${c} bigint NOT NULL`).join(',\n     ')},
     PRIMARY KEY (hour, session_id)
   ) WITH (fillfactor = 80);
   CREATE TABLE {schema}.rollup_state (name text PRIMARY KEY, value bigint);
   INSERT INTO {schema}.rollup_state (name, value) VALUES ('day_folded_through_ms', NULL);`,
  // Whole-life session summaries (see sessionTotalsOf). A schema written before gets one per
  // session from its segments, inexact (growth read from the segments until a rebuild).
  `CREATE TABLE {schema}.session_totals (
     session_id text COLLATE "C" PRIMARY KEY,
     first_ts_ms bigint NOT NULL,
     last_ts_ms bigint NOT NULL,
     ${SESSION_NUMBERS.map((c) => `${c} bigint NOT NULL`).join(',\n     ')},
     exact boolean NOT NULL
   ) WITH (fillfactor = 80);
   CREATE INDEX session_totals_last ON {schema}.session_totals (last_ts_ms);
   CREATE INDEX session_rollups_session ON {schema}.session_rollups (session_id, hour);
   INSERT INTO {schema}.session_totals (session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact)
     SELECT session_id, MIN(first_ts_ms), MAX(last_ts_ms), ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')},
       ${GROWTH_COLUMNS.map(() => '0').join(', ')}, false
     FROM {schema}.session_rollups GROUP BY session_id;`,
  SECURITY_ROLLUPS_MIGRATION,
  SECURITY_REPORT_KINDS_MIGRATION,
  PROVIDER_QUOTA_MIGRATION,
  // 6: the growing-sessions index (growthRank of exact summaries) and inexact summaries by time,
  // so a cost page reads its top ten sessions instead of every session of the window.
  `CREATE INDEX session_totals_growth ON {schema}.session_totals (${growthRankSql('postgres')} DESC, session_id) WHERE exact;
   CREATE INDEX session_totals_inexact ON {schema}.session_totals (last_ts_ms) WHERE NOT exact;`,
  // 7: one summary per session and UTC day (see sessionDaysOf), as on SQLite: a window's sessions
  // that reach outside it read a row per session-day for its whole days and hour segments only at
  // its edges. A schema written before gets them from its segments, inexact until a rebuild.
  `CREATE TABLE {schema}.session_days (
     day bigint NOT NULL,
     session_id text COLLATE "C" NOT NULL,
     first_ts_ms bigint NOT NULL,
     last_ts_ms bigint NOT NULL,
     ${SESSION_NUMBERS.map((c) => `${c} bigint NOT NULL`).join(',\n     ')},
     exact boolean NOT NULL,
     PRIMARY KEY (day, session_id)
   ) WITH (fillfactor = 80);
   INSERT INTO {schema}.session_days (day, session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact)
     SELECT hour - (hour % ${DAY_MS}) AS d, session_id, MIN(first_ts_ms), MAX(last_ts_ms), ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')},
       ${GROWTH_COLUMNS.map(() => '0').join(', ')}, false
     FROM {schema}.session_rollups GROUP BY d, session_id;`,
  // 8: day blocks (day-blocks.ts) of the days already folded, from their day rows (any blocks
  // there are replaced: a schema whose migrations are run again keeps one set).
  `DELETE FROM {schema}.cost_rollups WHERE granularity > ${G_DAY};\n` +
    BLOCK_LEVELS.map(
      (level) => `INSERT INTO {schema}.cost_rollups (granularity, dim, bucket, k, ${TOTAL_COLUMNS.join(', ')})
     SELECT ${blockGranularity(level)}, dim, bucket - (bucket % ${blockMs(level)}) AS blk, k, ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')}
     FROM {schema}.cost_rollups
     WHERE granularity = ${G_DAY} AND bucket < (SELECT value - (value % ${DAY_MS}) FROM {schema}.rollup_state WHERE name = 'day_folded_through_ms')
     GROUP BY dim, blk, k;`,
    ).join('\n'),
  // 9: the cost ranking of a window's sessions (sessionPage): summaries by whole-life cost, walked
  // in order, their time columns in the key so that sessions not wholly inside the window are
  // passed over in the index; and by time span (a window's sessions, the ones reaching outside
  // it, the window bound of the growing sessions), which supersedes the index on last_ts_ms,
  // covering the ids and sums so that those reads are index-only (session_totals is rewritten by
  // every batch: at 50 M events its heap was 200 MB of mostly dead versions for 30,000 rows, a
  // 90 ms scan for the window's sums under load where the index read takes a few); and
  // day summaries by session: a page's sessions read by id (joinPartial) probe their own days
  // instead of scanning every session's day rows of the window (the primary key leads with the
  // day; PostgreSQL 15 has no skip scan).
  // IF (NOT) EXISTS: a schema whose migrations are run again keeps one of each.
  `CREATE INDEX IF NOT EXISTS session_totals_cost ON {schema}.session_totals (cost_micro_usd DESC, session_id, first_ts_ms, last_ts_ms);
   CREATE INDEX IF NOT EXISTS session_totals_span ON {schema}.session_totals (last_ts_ms, first_ts_ms)
     INCLUDE (session_id, ${TOTAL_COLUMNS.join(', ')});
   DROP INDEX IF EXISTS {schema}.session_totals_last;
   CREATE INDEX IF NOT EXISTS session_days_session ON {schema}.session_days (session_id, day);`,
];

/** The lower bound of the first fold (no hour was folded yet): before any representable bucket. */
const NEVER = -8_640_000_000_000_000;

const int8 = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** foldBatch's row order (granularity, dimension, bucket, key in code-unit order). */
const byRollupKey = (a: RollupRow, b: RollupRow): number =>
  a.granularity - b.granularity ||
  a.dim - b.dim ||
  a.bucket - b.bucket ||
  (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);

export interface PostgresRollupOptions {
  /**
   * Up to this many sessions of a window that need their segments (reaching outside it, or
   * inexact) are read by session id; more are read from their day summaries (joinPartial).
   * Default: 32 or a quarter of the window's sessions, whichever is more; the tests set 0 to
   * check the day-summary path.
   */
  sessionsByIdUpTo?: number;
  /**
   * Growing sessions: up to this many sessions of a window are ranked by sorting them, more by
   * walking the rank index (default GROWING_WINDOW_SORT_UP_TO); the tests set 0 to check the walk.
   */
  growingSortUpTo?: number;
}

/**
 * Growing sessions: up to this many sessions overlapping a window are ranked by sorting them;
 * more, and the rank index is walked for at most as many rows as the window has sessions.
 */
const GROWING_WINDOW_SORT_UP_TO = 2000;

export class PostgresRollups implements RollupReader {
  private readonly s: string;
  private readonly upsertRollups: string;
  private readonly upsertSessions: string;
  private readonly upsertTotals: string;
  private readonly upsertDays: string;
  private readonly security: PostgresSecurityRollups;
  private readonly quota: PostgresProviderQuota;
  private readonly foldHours: string;
  private readonly foldDays: string;
  /** The watermark as last seen by this replica; only decides which lock a batch asks for. */
  private seenFolded = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    private readonly options: PostgresRollupOptions,
  ) {
    const s = (this.s = schemaIdent(schema));
    this.security = new PostgresSecurityRollups(pool, s);
    this.quota = new PostgresProviderQuota(pool, s);
    const totals = TOTAL_COLUMNS.join(', ');
    const rollupTail = `ON CONFLICT (granularity, dim, bucket, k) DO UPDATE SET
       ${TOTAL_COLUMNS.map((c) => `${c} = r.${c} + excluded.${c}`).join(', ')}`;
    this.upsertRollups = `INSERT INTO ${s}.cost_rollups AS r (granularity, dim, bucket, k, ${totals})
       SELECT * FROM unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::text[], ${TOTAL_COLUMNS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')})
       ${rollupTail}`;
    this.upsertSessions = `INSERT INTO ${s}.session_rollups AS o (hour, session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')})
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], ${SESSION_NUMBERS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')})
       ON CONFLICT (hour, session_id) DO UPDATE SET ${sessionJoinSet('postgres')}`;
    // A batch that starts before the stored summary's last hour is out of hour order: inexact.
    this.upsertTotals = `INSERT INTO ${s}.session_totals AS o (session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact)
       SELECT *, true FROM unnest($1::text[], $2::bigint[], $3::bigint[], ${SESSION_NUMBERS.map((_, i) => `$${i + 4}::bigint[]`).join(', ')})
       ON CONFLICT (session_id) DO UPDATE SET ${sessionJoinSet('postgres')},
       exact = o.exact AND excluded.first_ts_ms - (excluded.first_ts_ms % ${HOUR_MS}) >= o.last_ts_ms - (o.last_ts_ms % ${HOUR_MS})`;
    // The same per (day, session): a batch that starts before the day summary's last hour makes it inexact.
    this.upsertDays = `INSERT INTO ${s}.session_days AS o (day, session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact)
       SELECT *, true FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], ${SESSION_NUMBERS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')})
       ON CONFLICT (day, session_id) DO UPDATE SET ${sessionJoinSet('postgres')},
       exact = o.exact AND excluded.first_ts_ms - (excluded.first_ts_ms % ${HOUR_MS}) >= o.last_ts_ms - (o.last_ts_ms % ${HOUR_MS})`;
    // `dim = ANY(…)` lets the primary key seek each dimension's hour range (no skip scan in
    // PostgreSQL 15: without it the fold would read every hour row ever written).
    // Days completed by a fold into their blocks: one arm per level, summed per block and key.
    this.foldDays = `INSERT INTO ${s}.cost_rollups AS r (granularity, dim, bucket, k, ${totals})
       SELECT g, dim, blk, k, ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')} FROM (
         ${BLOCK_LEVELS.map(
           (
             level,
           ) => `SELECT ${blockGranularity(level)}::smallint AS g, dim, bucket - (bucket % ${blockMs(level)}) AS blk, k, ${totals}
         FROM ${s}.cost_rollups WHERE granularity = ${G_DAY} AND dim = ANY('{${ROLLUP_DIMENSIONS.map((_, i) => i).join(',')}}'::smallint[])
           AND bucket >= $1 AND bucket < $2`,
         ).join(' UNION ALL ')}) d
       GROUP BY g, dim, blk, k ORDER BY g, dim, blk, k
       ${rollupTail}`;
    this.foldHours = `INSERT INTO ${s}.cost_rollups AS r (granularity, dim, bucket, k, ${totals})
       SELECT ${G_DAY}, dim, bucket - (bucket % ${DAY_MS}) AS day, k, ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')}
       FROM ${s}.cost_rollups WHERE granularity = ${G_HOUR} AND dim = ANY('{${ROLLUP_DIMENSIONS.map((_, i) => i).join(',')}}'::smallint[])
         AND bucket >= $1 AND bucket < $2
       GROUP BY dim, day, k ORDER BY dim, day, k
       ${rollupTail}`;
  }

  /** Runs the rollup migrations in `schema` (the events' schema: they share transactions). */
  static async open(
    pool: pg.Pool,
    schema: string,
    options: PostgresRollupOptions = {},
  ): Promise<PostgresRollups> {
    await migratePostgres(pool, schema, 'rollups', MIGRATIONS);
    return new PostgresRollups(pool, schema, options);
  }

  /**
   * Adds events to the rollups, in write order. Call inside the transaction that inserted them,
   * with only the events it inserted (duplicates of stored events must not count again).
   */
  async apply(
    client: pg.ClientBase,
    events: readonly (RollupEvent & SecurityRollupEvent & ProviderQuotaEvent)[],
  ): Promise<void> {
    if (events.length === 0) return;
    await this.applyCosts(client, events);
    // After the cost and session rows: every transaction locks rows of the tables in one order.
    await this.security.apply(client, events);
    await this.quota.apply(client, events);
  }

  private async applyCosts(client: pg.ClientBase, events: readonly RollupEvent[]): Promise<void> {
    let latest = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      const ts = Date.parse(e.timestamp);
      if (ts > latest) latest = ts;
    }
    const mayFold = latest - (latest % HOUR_MS) > this.seenFolded;
    // Row lock and read in one statement: a lock that had to wait returns the row as committed
    // by the transaction it waited for (READ COMMITTED re-reads a locked row).
    const state = await client.query<{ value: string | null }>(
      `SELECT value FROM ${this.s}.rollup_state WHERE name = 'day_folded_through_ms' FOR ${mayFold ? 'UPDATE' : 'SHARE'}`,
    );
    const folded = state.rows[0]?.value == null ? Number.NEGATIVE_INFINITY : Number(state.rows[0].value);
    this.seenFolded = Math.max(this.seenFolded, folded);
    const batch = foldBatch(events, folded);

    if (batch.rows.length > 0) {
      // A late event's day row (its hour was already folded), of a day already in the blocks, adds
      // to its blocks too; merged per block and key (one statement updates a row once), sorted
      // after the batch's rows (granularities above the day's): one lock order.
      const blocks = new Map<string, RollupRow>();
      for (const r of batch.rows)
        if (r.granularity === G_DAY && r.bucket < blocksThrough(folded))
          for (const level of BLOCK_LEVELS) {
            const bucket = r.bucket - (r.bucket % blockMs(level));
            const key = `${level}\u0001${r.dim}\u0001${bucket}\u0001${r.k}`;
            const b = blocks.get(key);
            if (b) addAcc(b.acc, r.acc);
            else
              blocks.set(key, {
                granularity: blockGranularity(level) as RollupRow['granularity'],
                dim: r.dim,
                bucket,
                k: r.k,
                acc: r.acc.slice(),
              });
          }
      const rows =
        blocks.size === 0 ? batch.rows : [...batch.rows, ...[...blocks.values()].sort(byRollupKey)];
      await client.query(this.upsertRollups, [
        int2Array(rows.map((r) => r.granularity)),
        int2Array(rows.map((r) => r.dim)),
        int8Array(rows.map((r) => r.bucket)),
        textArray(rows.map((r) => r.k)),
        ...TOTAL_COLUMNS.map((_, c) => int8Array(rows.map((r) => r.acc[c]!))),
      ]);
    }
    // Every hour before the latest one seen is taken as complete: fold it into its day. Only
    // under the exclusive lock; a batch holding the shared one leaves it to the next batch.
    if (mayFold && batch.latestHour > folded) {
      await client.query(this.foldHours, [
        folded === Number.NEGATIVE_INFINITY ? NEVER : folded,
        batch.latestHour,
      ]);
      await client.query(
        `UPDATE ${this.s}.rollup_state SET value = $1 WHERE name = 'day_folded_through_ms'`,
        [batch.latestHour],
      );
      // Days completed by this fold (their day rows are whole now) go into the blocks: once a day.
      if (blocksThrough(batch.latestHour) > blocksThrough(folded))
        await client.query(this.foldDays, [
          folded === Number.NEGATIVE_INFINITY ? NEVER : blocksThrough(folded),
          blocksThrough(batch.latestHour),
        ]);
    }
    if (batch.sessions.length > 0) {
      const runs = batch.sessions;
      const growth = runs.map((r: SessionRun) => [
        r.n,
        r.first,
        r.last,
        r.max,
        r.increases,
        r.lead,
        r.trail,
        r.maxStreak,
      ]);
      await client.query(this.upsertSessions, [
        int8Array(runs.map((r) => r.hour)),
        textArray(runs.map((r) => r.session)),
        int8Array(runs.map((r) => r.first_ts)),
        int8Array(runs.map((r) => r.last_ts)),
        ...TOTAL_COLUMNS.map((_, c) => int8Array(runs.map((r) => r.acc[c]!))),
        ...GROWTH_COLUMNS.map((_, c) => int8Array(growth.map((g) => g[c]!))),
      ]);
      // Summaries after segments, whole-life before day: every transaction locks in one order.
      await this.writeTotals(client, sessionTotalsOf(runs));
      await this.writeDays(client, sessionDaysOf(runs));
    }
  }

  private async writeDays(client: pg.ClientBase, days: readonly SessionDayTotal[]): Promise<void> {
    if (days.length === 0) return;
    await client.query(this.upsertDays, [
      int8Array(days.map((d) => d.day)),
      textArray(days.map((d) => d.session_id)),
      int8Array(days.map((d) => d.first_ts_ms)),
      int8Array(days.map((d) => d.last_ts_ms)),
      ...SESSION_NUMBERS.map((c) => int8Array(days.map((d) => d[c]))),
    ]);
  }

  private async writeTotals(client: pg.ClientBase, totals: readonly SegmentRow[]): Promise<void> {
    if (totals.length === 0) return;
    await client.query(this.upsertTotals, [
      textArray(totals.map((t) => t.session_id)),
      int8Array(totals.map((t) => t.first_ts_ms)),
      int8Array(totals.map((t) => t.last_ts_ms)),
      ...SESSION_NUMBERS.map((c) => int8Array(totals.map((t) => t[c]))),
    ]);
  }

  /**
   * Rebuilds session_totals and session_days from the hour segments (exact again, whatever order
   * batches came in), in one transaction that holds writers' summary updates back; returns the
   * number of sessions.
   */
  async rebuildSessionTotals(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // The writers' lock order: session_totals, then session_days.
      await client.query(`LOCK TABLE ${this.s}.session_totals IN EXCLUSIVE MODE`);
      await client.query(`LOCK TABLE ${this.s}.session_days IN EXCLUSIVE MODE`);
      await client.query(`DELETE FROM ${this.s}.session_totals`);
      await client.query(`DELETE FROM ${this.s}.session_days`);
      let n = 0;
      let current: SegmentRow | null = null;
      let currentDay: SessionDayTotal | null = null;
      let out: SegmentRow[] = [];
      let outDays: SessionDayTotal[] = [];
      const put = async (t: SegmentRow): Promise<void> => {
        out.push(t);
        n++;
        if (out.length >= 2000) {
          await this.writeTotals(client, out);
          out = [];
        }
      };
      const putDay = async (d: SessionDayTotal): Promise<void> => {
        outDays.push(d);
        if (outDays.length >= 2000) {
          await this.writeDays(client, outDays);
          outDays = [];
        }
      };
      // Keyset pages in (session_id, hour) order (the session_rollups_session index).
      let after: [string, number] | null = null;
      for (;;) {
        const page: SegmentRow[] = await this.segments(
          client,
          `${after ? 'WHERE (session_id, hour) > ($1, $2)' : ''} ORDER BY session_id, hour LIMIT 20000`,
          after ?? [],
          true,
        );
        if (page.length === 0) break;
        for (const withHour of page as (SegmentRow & { hour: number })[]) {
          const { hour, ...row } = withHour;
          const day = hour - (hour % DAY_MS);
          if (current && current.session_id === row.session_id) current = joinSegments(current, row);
          else {
            if (current) await put(current);
            current = row;
          }
          if (currentDay && currentDay.session_id === row.session_id && currentDay.day === day)
            currentDay = { ...joinSegments(currentDay, row), day };
          else {
            if (currentDay) await putDay(currentDay);
            currentDay = { ...row, day };
          }
        }
        const tail = page[page.length - 1] as SegmentRow & { hour: number };
        after = [tail.session_id, tail.hour];
      }
      if (current) await put(current);
      if (currentDay) await putDay(currentDay);
      await this.writeTotals(client, out);
      await this.writeDays(client, outDays);
      await client.query('COMMIT');
      return n;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Segment rows of session_rollups (`rest`: WHERE/ORDER BY), as arrays: a day holds tens of
   * thousands of segments, and building node-postgres's row objects cost more than the query.
   */
  private async segments(
    client: pg.ClientBase | pg.Pool,
    rest: string,
    values: unknown[],
    withHour = false,
  ): Promise<SegmentRow[]> {
    const res = await client.query<unknown[]>({
      text: `SELECT session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, hour
       FROM ${this.s}.session_rollups ${rest}`,
      values,
      rowMode: 'array',
    });
    return res.rows.map((raw) => {
      const row = {
        session_id: raw[0] as string,
        first_ts_ms: int8(raw[1]),
        last_ts_ms: int8(raw[2]),
      } as SegmentRow & { hour?: number };
      SESSION_NUMBERS.forEach((c, i) => (row[c] = int8(raw[3 + i])));
      if (withHour) row.hour = int8(raw[3 + SESSION_NUMBERS.length]);
      return row;
    });
  }

  /** Hours before this are folded into days (read per query: another replica may have folded). */
  private async folded(client: pg.ClientBase | pg.Pool = this.pool): Promise<number> {
    const res = await client.query<{ value: string | null }>(
      `SELECT value FROM ${this.s}.rollup_state WHERE name = 'day_folded_through_ms'`,
    );
    const v = res.rows[0]?.value;
    return v == null ? Number.NEGATIVE_INFINITY : Number(v);
  }

  /** One SELECT per range, summed by UNION ALL: each arm is a primary-key range scan. */
  private async ranges(
    select: string,
    ranges: readonly BlockRange[],
    dim: number,
    groupBy: string,
    orderBy: string,
    client: pg.ClientBase | pg.Pool = this.pool,
  ): Promise<Record<string, unknown>[]> {
    const params: number[] = [];
    const arms = ranges.map((r) => {
      params.push(r.granularity, dim, r.from, r.to);
      const n = params.length;
      return `SELECT ${select} FROM ${this.s}.cost_rollups WHERE granularity = $${n - 3} AND dim = $${n - 2} AND bucket >= $${n - 1} AND bucket < $${n}`;
    });
    const sums = TOTAL_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ');
    const res = await client.query(
      `SELECT ${groupBy}, ${sums} FROM (${arms.join(' UNION ALL ')}) u GROUP BY ${groupBy} ORDER BY ${orderBy}`,
      params,
    );
    return res.rows as Record<string, unknown>[];
  }

  async groups(dimension: RollupDimension, sinceMs: number, untilMs: number): Promise<RollupGroup[]> {
    if (!(untilMs > sinceMs)) return [];
    // One snapshot: the fold mark and the day rows and blocks it describes (coarsenRanges).
    return inTransaction(
      this.pool,
      async (client) => {
        const folded = await this.folded(client);
        const ranges = coarsenRanges(
          bucketRanges(sinceMs, untilMs, FINEST_BUCKET_MS[dimension], folded),
          folded,
        );
        if (ranges.length === 0) return [];
        const rows = await this.ranges(
          `k, ${TOTAL_COLUMNS.join(', ')}`,
          ranges,
          ROLLUP_DIMENSIONS.indexOf(dimension),
          'k',
          'cost_micro_usd DESC, k ASC',
          client,
        );
        return rows.map((row) => ({ key: row.k as string, ...totalsOf(row) }));
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  async days(sinceMs: number, untilMs: number): Promise<RollupGroup[]> {
    const ranges = bucketRanges(sinceMs, untilMs, MINUTE_MS, await this.folded());
    if (ranges.length === 0) return [];
    const rows = await this.ranges(
      `bucket - (bucket % ${DAY_MS}) AS day_ms, ${TOTAL_COLUMNS.join(', ')}`,
      ranges,
      0,
      'day_ms',
      'day_ms ASC',
    );
    return rows.map((row) => ({
      key: new Date(Number(row.day_ms)).toISOString().slice(0, 10),
      ...totalsOf(row),
    }));
  }

  authFailures(sinceMs: number, untilMs: number, bucketMs: number): Promise<AuthFailureCounts> {
    return this.security.authFailures(sinceMs, untilMs, bucketMs);
  }

  redactionHits(sinceMs: number, untilMs: number): Promise<RedactionHits[]> {
    return this.security.redactionHits(sinceMs, untilMs);
  }

  reportCounts(fromMs: number, toMs: number): Promise<SecurityReportCounts> {
    return this.security.reportCounts(fromMs, toMs);
  }

  sessionIndicators(
    sessionIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, string[]>> {
    return this.security.sessionIndicators(sessionIds, fromMs, toMs);
  }

  async sessionsById(
    sessionIds: readonly string[],
    sinceMs: number,
    untilMs: number,
  ): Promise<SessionGrowth[]> {
    if (!(untilMs > sinceMs) || sessionIds.length === 0) return [];
    const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
    return joinSessionSegments(
      await this.segments(
        this.pool,
        'WHERE session_id = ANY($1::text[]) AND hour >= $2 AND hour < $3 ORDER BY session_id, hour',
        [[...new Set(sessionIds)], from, to],
      ),
    );
  }

  providerQuota(sinceMs: number, untilMs: number, top: number): Promise<ProviderQuotaSummary> {
    return this.quota.providerQuota(sinceMs, untilMs, top);
  }

  async growingSessions(sinceMs: number, untilMs: number, limit: number): Promise<GrowingSessions> {
    if (!(untilMs > sinceMs) || limit <= 0) return { sessions: [], inexact: 0, inexact_ranked: 0 };
    const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
    const rank = growthRankSql('postgres');
    // One snapshot: the summaries and the segments inexact ones are joined from.
    return inTransaction(
      this.pool,
      async (client) => {
        const columns = `session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}`;
        // Bounded by the window, as on SQLite: a few sessions are sorted (the window read through
        // the span index); many, and the rank index is walked for at most as many rows as the
        // window has sessions (a window holding most sessions finds its top within the first
        // rows), else the window is sorted after all.
        const inWindow = int8(
          (
            await client.query<{ n: string }>(
              `SELECT COUNT(*) AS n FROM ${this.s}.session_totals WHERE last_ts_ms >= $1 AND first_ts_ms < $2`,
              [from, to],
            )
          ).rows[0]!.n,
        );
        let exact: SegmentRow[] = [];
        if (inWindow > (this.options.growingSortUpTo ?? GROWING_WINDOW_SORT_UP_TO)) {
          const walked = await client.query<unknown[]>({
            text: `SELECT * FROM (SELECT ${columns}, ${rank} AS rank_ FROM ${this.s}.session_totals
               WHERE exact AND ${rank} >= ${GROWING_MIN_RANK} ORDER BY ${rank} DESC, session_id LIMIT $3) w
             WHERE last_ts_ms >= $1 AND first_ts_ms < $2 ORDER BY rank_ DESC, session_id LIMIT $4`,
            values: [from, to, inWindow, limit],
            rowMode: 'array',
          });
          exact = walked.rows.map((raw) => sessionRowFromArray(raw));
        }
        if (exact.length < limit) {
          // MATERIALIZED: the window through the span index, then sorted (not the rank index).
          const sorted = await client.query<unknown[]>({
            text: `WITH w AS MATERIALIZED (SELECT ${columns}, exact FROM ${this.s}.session_totals
               WHERE last_ts_ms >= $1 AND first_ts_ms < $2)
             SELECT ${columns} FROM w WHERE exact AND ${rank} >= ${GROWING_MIN_RANK}
             ORDER BY ${rank} DESC, session_id LIMIT $3`,
            values: [from, to, limit],
            rowMode: 'array',
          });
          exact = sorted.rows.map((raw) => sessionRowFromArray(raw));
        }
        const inexact = await client.query<{ session_id: string }>(
          `SELECT session_id FROM ${this.s}.session_totals WHERE NOT exact AND last_ts_ms >= $1 AND first_ts_ms < $2
         LIMIT ${GROWING_INEXACT_UP_TO}`,
          [from, to],
        );
        let out: SessionGrowth[] = exact;
        // Inexact summaries past the cap are counted, so that the page can say the list may be incomplete.
        let inexactCount = inexact.rows.length;
        if (inexactCount >= GROWING_INEXACT_UP_TO)
          inexactCount = Number(
            (
              await client.query<{ n: string }>(
                `SELECT COUNT(*) AS n FROM ${this.s}.session_totals WHERE NOT exact AND last_ts_ms >= $1 AND first_ts_ms < $2`,
                [from, to],
              )
            ).rows[0]!.n,
          );
        if (inexact.rows.length > 0)
          out = topGrowing(
            [
              ...exact,
              ...joinSessionSegments(
                await this.segments(
                  client,
                  'WHERE session_id = ANY($1::text[]) AND hour >= $2 AND hour < $3 ORDER BY session_id, hour',
                  [inexact.rows.map((r) => r.session_id), ...WHOLE_LIFE],
                ),
              ),
            ],
            limit,
          );
        return { sessions: out, inexact: inexactCount, inexact_ranked: inexact.rows.length };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  /** Recomputes the security rollups and the provider quota summary from the stored events. */
  async rebuildSecurity(): Promise<void> {
    await this.security.rebuild();
    await this.quota.rebuild();
  }

  /**
   * The sessions `ids` over the hour-aligned window [from, to), from their day summaries: a day's
   * summary stands for the session's requests of that day in the window when it is exact and its
   * requests all fall in the window (every whole day of the window, and an edge day whose requests
   * do not reach outside it, such as today in a window ending now); otherwise that day's hour
   * segments within the window are read (one index probe per session and day). The pieces are
   * joined per session in time order.
   */
  private async joinPartial(
    client: pg.ClientBase,
    ids: readonly string[],
    from: number,
    to: number,
  ): Promise<SegmentRow[]> {
    const res = await client.query<unknown[]>({
      text: `SELECT session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact, day
       FROM ${this.s}.session_days WHERE day >= $1 AND day < $2 AND session_id = ANY($3::text[])`,
      values: [from - (from % DAY_MS), to, textArray(ids)],
      rowMode: 'array',
    });
    const pieces = new Map<string, WindowPiece[]>();
    const add = (id: string, at: number, segment: SegmentRow): void => {
      const list = pieces.get(id);
      if (list) list.push({ at, segment });
      else pieces.set(id, [{ at, segment }]);
    };
    const dayAt = 4 + SESSION_NUMBERS.length;
    const needIds: string[] = [];
    const needFrom: number[] = [];
    const needTo: number[] = [];
    for (const raw of res.rows) {
      const day = int8(raw[dayAt]);
      const row = sessionRowFromArray(raw, true);
      if (row.exact && row.first_ts_ms >= from && row.last_ts_ms < to) {
        const { exact: _exact, ...segment } = row;
        add(row.session_id, day, segment);
      } else {
        needIds.push(row.session_id);
        needFrom.push(Math.max(day, from));
        needTo.push(Math.min(day + DAY_MS, to));
      }
    }
    if (needIds.length > 0)
      for (const seg of await this.segments(
        client,
        `JOIN unnest($1::text[], $2::bigint[], $3::bigint[]) AS p(id, lo, hi)
           ON session_id = p.id AND hour >= p.lo AND hour < p.hi`,
        [textArray(needIds), int8Array(needFrom), int8Array(needTo)],
        true,
      )) {
        const { hour, ...segment } = seg as SegmentRow & { hour: number };
        add(segment.session_id, hour, segment);
      }
    return joinWindowPieces(pieces);
  }

  /**
   * A page of the window's sessions ranked by cost (cost descending, ties by id), the same answer
   * as SQLite's ranked read, without reading every session of the window:
   * - sessions wholly inside the window: their whole-life summaries are their figures; the top
   *   `limit` after the cursor through session_totals_cost (the walk stops after `limit` of the
   *   window's), their count and sums by one read of the span index;
   * - sessions reaching outside it: their figures within it summed per session in SQL from their
   *   day summaries (the window's whole days) and hour segments (its edges), read only over the
   *   time the reaching sessions have inside the window;
   * then merged and cut; the page's sessions whose growth needs their pieces (reaching outside, or
   * inexact) are joined from their day summaries and edge hours (joinPartial).
   */
  async sessionPage(
    sinceMs: number,
    untilMs: number,
    page: { limit: number; after: SessionCursor | null },
  ): Promise<SessionPage> {
    const limit = Math.max(0, Math.floor(page.limit));
    if (!(untilMs > sinceMs)) return { sessions: [], total: 0, sum: zeroTotals() };
    const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
    const after = page.after;
    const [capCost, capId] = after ? [after.cost_micro_usd, after.session_id] : [Number.MAX_SAFE_INTEGER, ''];
    // One snapshot: the summaries, the day summaries and segments, and the page agree.
    return inTransaction(
      this.pool,
      async (client) => {
        const inside = await client.query<unknown[]>({
          text: `SELECT COUNT(*), ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')} FROM ${this.s}.session_totals
           WHERE last_ts_ms >= $1 AND last_ts_ms < $2 AND first_ts_ms >= $1`,
          values: [from, to],
          rowMode: 'array',
        });
        const sum = zeroTotals();
        const insideRow = inside.rows[0]!;
        TOTAL_COLUMNS.forEach((c, i) => (sum[c] = int8(insideRow[1 + i])));
        const outside = await this.reachingOutside(client, from, to, limit, [capCost, capId]);
        for (const c of TOTAL_COLUMNS) sum[c] += outside.sum[c];
        const total = int8(insideRow[0]) + outside.count;
        if (limit === 0 || total === 0) return { sessions: [], total, sum };
        const whole = await client.query<unknown[]>({
          text: `SELECT session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact
           FROM ${this.s}.session_totals
           WHERE cost_micro_usd <= $1 AND (cost_micro_usd < $1 OR session_id > $2) AND first_ts_ms >= $3 AND last_ts_ms < $4
           ORDER BY cost_micro_usd DESC, session_id LIMIT $5`,
          values: [capCost, capId, from, to, limit],
          rowMode: 'array',
        });
        const candidates: { session_id: string; cost_micro_usd: number; row?: SessionTotalRow }[] =
          whole.rows.map((raw) => {
            const row = sessionRowFromArray(raw, true);
            return { session_id: row.session_id, cost_micro_usd: row.cost_micro_usd, row };
          });
        candidates.push(...outside.top);
        const ranked = candidates.sort(byCostThenId).slice(0, limit);
        // Growth is not a sum: a page's session reaching outside the window, or with an inexact
        // summary, is joined from its pieces in the window.
        const joined = ranked.filter((r) => !r.row?.exact).map((r) => r.session_id);
        const figures = new Map<string, SegmentRow>();
        if (joined.length > 0)
          for (const f of await this.joinPartial(client, joined, from, to)) figures.set(f.session_id, f);
        return {
          sessions: ranked.map((r) => {
            if (!r.row?.exact) return figures.get(r.session_id)!;
            const { exact: _exact, ...row } = r.row;
            return row;
          }),
          total,
          sum,
        };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  /**
   * The sessions overlapping [from, to) that reach outside it and have a request in it: how many,
   * the sums of their requests in it, and the first `limit` of them ranked by their cost in it
   * after the cursor (cost, id; the page's own). Summed per session in SQL from the window's day summaries (their sums are exact
   * even where their growth is not) and edge hours, over only the span those sessions have inside
   * the window (a 30-day window ending now reads the days of the sessions begun before it, not the
   * month); only the count, the sums and the ranked ids come back, not a row per session.
   */
  private async reachingOutside(
    client: pg.ClientBase,
    from: number,
    to: number,
    limit: number,
    [capCost, capId]: readonly [number, string],
  ): Promise<{ count: number; sum: RollupTotals; top: { session_id: string; cost_micro_usd: number }[] }> {
    const sum = zeroTotals();
    const spans = await client.query<unknown[]>({
      text: `SELECT session_id, first_ts_ms, last_ts_ms FROM ${this.s}.session_totals
       WHERE last_ts_ms >= $1 AND first_ts_ms < $2 AND (first_ts_ms < $1 OR last_ts_ms >= $2)`,
      values: [from, to],
      rowMode: 'array',
    });
    if (spans.rows.length === 0) return { count: 0, sum, top: [] };
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const raw of spans.rows) {
      lo = Math.min(lo, int8(raw[1]));
      hi = Math.max(hi, int8(raw[2]));
    }
    lo = Math.max(from, lo - (lo % HOUR_MS));
    hi = Math.min(to, hi - (hi % HOUR_MS) + HOUR_MS);
    const { days, hours } = windowDays(lo, hi);
    const params: unknown[] = [textArray(spans.rows.map((raw) => raw[0] as string)), capCost, capId, limit];
    const arms: string[] = [];
    const columns = TOTAL_COLUMNS.join(', ');
    if (days) {
      params.push(days[0], days[1]);
      arms.push(
        `SELECT session_id, ${columns} FROM ${this.s}.session_days WHERE day >= $${params.length - 1} AND day < $${params.length} AND session_id = ANY($1::text[])`,
      );
    }
    for (const [a, b] of hours) {
      params.push(a, b);
      arms.push(
        `SELECT session_id, ${columns} FROM ${this.s}.session_rollups WHERE hour >= $${params.length - 1} AND hour < $${params.length} AND session_id = ANY($1::text[])`,
      );
    }
    if (arms.length === 0) return { count: 0, sum, top: [] };
    // One row of count and sums (ranked 0), then the ranked sessions with their cost.
    const res = await client.query<unknown[]>({
      text: `WITH per AS (SELECT session_id, ${TOTAL_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ')}
         FROM (${arms.join(' UNION ALL ')}) u GROUP BY session_id)
       (SELECT 0 AS r, NULL AS session_id, COUNT(*) AS n, ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')} FROM per)
       UNION ALL
       (SELECT 1, session_id, cost_micro_usd, ${TOTAL_COLUMNS.map(() => 'NULL').join(', ')} FROM per
        WHERE cost_micro_usd <= $2 AND (cost_micro_usd < $2 OR session_id > $3)
        ORDER BY cost_micro_usd DESC, session_id LIMIT $4)`,
      values: params,
      rowMode: 'array',
    });
    let count = 0;
    const top: { session_id: string; cost_micro_usd: number }[] = [];
    for (const raw of res.rows) {
      if (Number(raw[0]) === 0) {
        count = int8(raw[2]);
        TOTAL_COLUMNS.forEach((c, i) => (sum[c] = int8(raw[3 + i])));
      } else top.push({ session_id: raw[1] as string, cost_micro_usd: int8(raw[2]) });
    }
    return { count, sum, top };
  }

  async sessions(sinceMs: number, untilMs: number): Promise<SessionGrowth[]> {
    if (!(untilMs > sinceMs)) return [];
    const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
    // One snapshot: a summary and the segments it is checked against come from the same commits.
    return inTransaction(
      this.pool,
      async (client) => {
        const res = await client.query<unknown[]>({
          text: `SELECT session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}, exact
         FROM ${this.s}.session_totals WHERE last_ts_ms >= $1 AND first_ts_ms < $2`,
          values: [from, to],
          rowMode: 'array',
        });
        const totals = res.rows.map((raw) => sessionRowFromArray(raw, true));
        const { whole, partial } = partitionSessionTotals(from, to, totals);
        if (partial.length === 0) return whole;
        // A few partial sessions (by default up to a quarter of the window's): their own hour
        // segments. More: their day summaries, and hour segments only where a day needs them.
        const byIdUpTo =
          this.options.sessionsByIdUpTo ?? Math.max(32, Math.floor((whole.length + partial.length) / 4));
        if (partial.length <= byIdUpTo)
          return [
            ...whole,
            ...joinSessionSegments(
              await this.segments(
                client,
                'WHERE session_id = ANY($1::text[]) AND hour >= $2 AND hour < $3 ORDER BY session_id, hour',
                [partial, from, to],
              ),
            ),
          ];
        return [...whole, ...(await this.joinPartial(client, partial, from, to))];
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }
}

/** bigint sums arrive as strings (node-postgres keeps int8 and numeric exact); they fit a double. */
function totalsOf(row: Record<string, unknown>): Omit<RollupGroup, 'key'> {
  const out = {} as Omit<RollupGroup, 'key'>;
  for (const c of TOTAL_COLUMNS) out[c] = int8(row[c]);
  return out;
}

/**
 * A session_totals row read as an array (session id, first and last time, then SESSION_NUMBERS),
 * with `exact` when the query selected it (it follows the numbers in the array).
 */
function sessionRowFromArray(raw: unknown[]): SegmentRow;
function sessionRowFromArray(raw: unknown[], withExact: true): SessionTotalRow;
function sessionRowFromArray(raw: unknown[], withExact = false): SegmentRow | SessionTotalRow {
  const row = {
    session_id: raw[0] as string,
    first_ts_ms: int8(raw[1]),
    last_ts_ms: int8(raw[2]),
    ...(withExact ? { exact: raw[3 + SESSION_NUMBERS.length] === true } : {}),
  } as SessionTotalRow;
  SESSION_NUMBERS.forEach((c, i) => (row[c] = int8(raw[3 + i])));
  return row;
}
