/**
 * The segments of a PostgreSQL store as a verify worker thread reads them (verify-worker.ts): its
 * own connection and the same keyset range as PostgresEventStore.readChainColumns, each row's
 * canonical JSON written by the server (canonical-pg.ts) and finished here (SqliteCanonicalRows).
 * A segment that is not confirmed that way (an admin event, a row whose server text is not the
 * reference's, damage) is read again as columns and checked as the calling thread checks it
 * (segmentRows('postgres')), so the result is the same as the columns would give.
 */
import pg from 'pg';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import { chainRangeSql, fromTextColumns } from '../store/postgres/postgres-event-store.js';
import { CanonicalColumns } from './canonical-columns.js';
import { CANONICAL_PG_COLUMNS } from './canonical-pg.js';
import {
  SQL_CHAIN_ID,
  SQL_HASH,
  SQL_HTTP_METHOD,
  SQL_PREV_HASH,
  SQL_SEQ,
  SqliteCanonicalRows,
} from './canonical-sql.js';
import {
  checkLinks,
  checkSegment,
  segmentRows,
  type SegmentReader,
  type SegmentRows,
  type SegmentTask,
} from './verify-segment.js';

/**
 * The reader's session settings. Shortest round-trip doubles (canonical-pg.ts): a lower setting
 * would round them. No parallel plan: the pool is the parallelism, and the planner, costing the
 * text expression high, gathers a segment from parallel workers and sorts it again (EXPLAIN of
 * a 16,384-seq range on the bench store: Gather Merge over a Sort of a Parallel Index Scan; the
 * bench's pool: 19.8 µs of server CPU per event with it, 15.1 without).
 */
export const READER_SESSION = 'SET extra_float_digits = 1; SET max_parallel_workers_per_gather = 0';

/**
 * Connects to `url` for one worker's segments of the events in `schema`. Rejects when the
 * connection fails (the pool then falls back to reading on the calling thread).
 */
export async function postgresSegmentReader(url: string, schema: string): Promise<SegmentReader> {
  // As the store's pool: a server that does not answer fails the start instead of stalling verify.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A connection lost between queries fails the next query; without a listener pg would throw it
  // out of the worker instead.
  client.on('error', () => undefined);
  await client.connect();
  // As the store's own connections (postgres-event-store.ts): short indexed reads, no JIT.
  await client.query('SET jit = off').catch(() => undefined);
  await client.query(READER_SESSION);
  const json = { name: 'tg_verify_chain_json', text: chainRangeSql(schema, CANONICAL_PG_COLUMNS) };
  const columns = { name: 'tg_verify_chain_columns', text: chainRangeSql(schema) };
  const links = { name: 'tg_verify_chain_links', text: chainRangeSql(schema, 'seq, hash, prev_hash') };
  const finish = new SqliteCanonicalRows();
  const jsonRows: SegmentRows = {
    // bigint text, as the store decodes seq.
    seq: (r) => (r[SQL_SEQ] === null || r[SQL_SEQ] === undefined ? null : Number(r[SQL_SEQ])),
    chainId: (r) => r[SQL_CHAIN_ID],
    hash: (r) => r[SQL_HASH],
    prevHash: (r) => r[SQL_PREV_HASH],
    isAdmin: (r) => r[SQL_HTTP_METHOD] === ADMIN_METHOD,
    fast: (r) => finish.json(r),
    // The slow way needs the row's columns: the whole segment is then read as columns (below).
    columns: () => null,
    canonical: new CanonicalColumns('postgres'),
    decode: fromTextColumns,
  };
  const columnRows = segmentRows('postgres', fromTextColumns);
  return {
    async check(task: SegmentTask) {
      const values = [task.chainId, task.first, task.last];
      if (task.links) {
        const res = await client.query<unknown[]>({ ...links, values, rowMode: 'array' });
        // seq is a bigint: text from the driver, a number for checkLinks.
        return checkLinks(
          task,
          res.rows.map(([seq, hash, prevHash]) => [Number(seq), hash, prevHash]),
        );
      }
      const fast = checkSegment(
        task,
        (await client.query<unknown[]>({ ...json, values, rowMode: 'array' })).rows,
        jsonRows,
      );
      if (fast.regular) return fast;
      const res = await client.query<unknown[]>({ ...columns, values, rowMode: 'array' });
      return checkSegment(task, res.rows, columnRows);
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}
