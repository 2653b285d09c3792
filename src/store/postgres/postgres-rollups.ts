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
import type pg from 'pg';
import {
  bucketRanges,
  DAY_MS,
  FINEST_BUCKET_MS,
  foldBatch,
  G_DAY,
  G_HOUR,
  GROWTH_COLUMNS,
  HOUR_MS,
  joinSegments,
  MINUTE_MS,
  ROLLUP_DIMENSIONS,
  TOTAL_COLUMNS,
  type BucketRange,
  type RollupDimension,
  type RollupEvent,
  type RollupGroup,
  type RollupReader,
  type SegmentRow,
  type SessionGrowth,
  type SessionRun,
} from '../rollups.js';
import { int2Array, int8Array, textArray } from './binary-arrays.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';

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
];

/** The lower bound of the first fold (no hour was folded yet): before any representable bucket. */
const NEVER = -8_640_000_000_000_000;

const int8 = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export class PostgresRollups implements RollupReader {
  private readonly s: string;
  private readonly upsertRollups: string;
  private readonly upsertSessions: string;
  private readonly foldHours: string;
  /** The watermark as last seen by this replica; only decides which lock a batch asks for. */
  private seenFolded = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    const s = (this.s = schemaIdent(schema));
    const totals = TOTAL_COLUMNS.join(', ');
    const rollupTail = `ON CONFLICT (granularity, dim, bucket, k) DO UPDATE SET
       ${TOTAL_COLUMNS.map((c) => `${c} = r.${c} + excluded.${c}`).join(', ')}`;
    this.upsertRollups = `INSERT INTO ${s}.cost_rollups AS r (granularity, dim, bucket, k, ${totals})
       SELECT * FROM unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::text[], ${TOTAL_COLUMNS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')})
       ${rollupTail}`;
    // SET expressions read the stored row as it was before this update (`o.`), as on SQLite:
    // `o.last_input_tokens` is the stored segment's last request, joined to the batch's first.
    const joins = `(o.growth_requests > 0 AND excluded.growth_requests > 0 AND excluded.first_input_tokens > o.last_input_tokens)`;
    this.upsertSessions = `INSERT INTO ${s}.session_rollups AS o (hour, session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')})
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], ${SESSION_NUMBERS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')})
       ON CONFLICT (hour, session_id) DO UPDATE SET
       first_ts_ms = LEAST(o.first_ts_ms, excluded.first_ts_ms),
       last_ts_ms = GREATEST(o.last_ts_ms, excluded.last_ts_ms),
       ${TOTAL_COLUMNS.map((c) => `${c} = o.${c} + excluded.${c}`).join(', ')},
       growth_requests = o.growth_requests + excluded.growth_requests,
       first_input_tokens = CASE WHEN o.growth_requests = 0 THEN excluded.first_input_tokens ELSE o.first_input_tokens END,
       last_input_tokens = CASE WHEN excluded.growth_requests = 0 THEN o.last_input_tokens ELSE excluded.last_input_tokens END,
       max_input_tokens = GREATEST(o.max_input_tokens, excluded.max_input_tokens),
       increases = o.increases + excluded.increases + ${joins}::int,
       lead_streak = CASE WHEN o.growth_requests = 0 THEN excluded.lead_streak
         WHEN o.lead_streak = o.growth_requests - 1 AND ${joins} THEN o.lead_streak + 1 + excluded.lead_streak
         ELSE o.lead_streak END,
       current_streak = CASE WHEN excluded.growth_requests = 0 THEN o.current_streak
         WHEN excluded.lead_streak = excluded.growth_requests - 1 AND ${joins} THEN o.current_streak + excluded.growth_requests
         ELSE excluded.current_streak END,
       max_streak = GREATEST(o.max_streak, excluded.max_streak,
         CASE WHEN ${joins} THEN o.current_streak + 1 + excluded.lead_streak ELSE 0 END)`;
    // `dim = ANY(…)` lets the primary key seek each dimension's hour range (no skip scan in
    // PostgreSQL 15: without it the fold would read every hour row ever written).
    this.foldHours = `INSERT INTO ${s}.cost_rollups AS r (granularity, dim, bucket, k, ${totals})
       SELECT ${G_DAY}, dim, bucket - (bucket % ${DAY_MS}) AS day, k, ${TOTAL_COLUMNS.map((c) => `SUM(${c})`).join(', ')}
       FROM ${s}.cost_rollups WHERE granularity = ${G_HOUR} AND dim = ANY('{${ROLLUP_DIMENSIONS.map((_, i) => i).join(',')}}'::smallint[])
         AND bucket >= $1 AND bucket < $2
       GROUP BY dim, day, k ORDER BY dim, day, k
       ${rollupTail}`;
  }

  /** Runs the rollup migrations in `schema` (the events' schema: they share transactions). */
  static async open(pool: pg.Pool, schema: string): Promise<PostgresRollups> {
    await migratePostgres(pool, schema, 'rollups', MIGRATIONS);
    return new PostgresRollups(pool, schema);
  }

  /**
   * Adds events to the rollups, in write order. Call inside the transaction that inserted them,
   * with only the events it inserted (duplicates of stored events must not count again).
   */
  async apply(client: pg.ClientBase, events: readonly RollupEvent[]): Promise<void> {
    if (events.length === 0) return;
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
      const rows = batch.rows;
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
    }
  }

  /** Hours before this are folded into days (read per query: another replica may have folded). */
  private async folded(): Promise<number> {
    const res = await this.pool.query<{ value: string | null }>(
      `SELECT value FROM ${this.s}.rollup_state WHERE name = 'day_folded_through_ms'`,
    );
    const v = res.rows[0]?.value;
    return v == null ? Number.NEGATIVE_INFINITY : Number(v);
  }

  /** One SELECT per range, summed by UNION ALL: each arm is a primary-key range scan. */
  private async ranges(
    select: string,
    ranges: BucketRange[],
    dim: number,
    groupBy: string,
    orderBy: string,
  ): Promise<Record<string, unknown>[]> {
    const params: number[] = [];
    const arms = ranges.map((r) => {
      params.push(r.granularity, dim, r.from, r.to);
      const n = params.length;
      return `SELECT ${select} FROM ${this.s}.cost_rollups WHERE granularity = $${n - 3} AND dim = $${n - 2} AND bucket >= $${n - 1} AND bucket < $${n}`;
    });
    const sums = TOTAL_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ');
    const res = await this.pool.query(
      `SELECT ${groupBy}, ${sums} FROM (${arms.join(' UNION ALL ')}) u GROUP BY ${groupBy} ORDER BY ${orderBy}`,
      params,
    );
    return res.rows as Record<string, unknown>[];
  }

  async groups(dimension: RollupDimension, sinceMs: number, untilMs: number): Promise<RollupGroup[]> {
    const ranges = bucketRanges(sinceMs, untilMs, FINEST_BUCKET_MS[dimension], await this.folded());
    if (ranges.length === 0) return [];
    const rows = await this.ranges(
      `k, ${TOTAL_COLUMNS.join(', ')}`,
      ranges,
      ROLLUP_DIMENSIONS.indexOf(dimension),
      'k',
      'cost_micro_usd DESC, k ASC',
    );
    return rows.map((row) => ({ key: row.k as string, ...totalsOf(row) }));
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

  async sessions(sinceMs: number, untilMs: number): Promise<SessionGrowth[]> {
    if (!(untilMs > sinceMs)) return [];
    const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
    // Primary-key order (hour, session_id): segments come back in hour order, as joining needs.
    // Rows as arrays: a day holds tens of thousands of segments, and building node-postgres's
    // row objects cost more than the query.
    const res = await this.pool.query<unknown[]>({
      text: `SELECT session_id, first_ts_ms, last_ts_ms, ${SESSION_NUMBERS.join(', ')}
       FROM ${this.s}.session_rollups WHERE hour >= $1 AND hour < $2 ORDER BY hour, session_id`,
      values: [from, to],
      rowMode: 'array',
    });
    const merged = new Map<string, SegmentRow>();
    for (const raw of res.rows) {
      const row = {
        session_id: raw[0] as string,
        first_ts_ms: int8(raw[1]),
        last_ts_ms: int8(raw[2]),
      } as SegmentRow;
      SESSION_NUMBERS.forEach((c, i) => (row[c] = int8(raw[3 + i])));
      const prev = merged.get(row.session_id);
      merged.set(row.session_id, prev ? joinSegments(prev, row) : row);
    }
    return [...merged.values()];
  }
}

/** bigint sums arrive as strings (node-postgres keeps int8 and numeric exact); they fit a double. */
function totalsOf(row: Record<string, unknown>): Omit<RollupGroup, 'key'> {
  const out = {} as Omit<RollupGroup, 'key'>;
  for (const c of TOTAL_COLUMNS) out[c] = int8(row[c]);
  return out;
}
