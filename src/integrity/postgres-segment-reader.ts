/**
 * The segments of a PostgreSQL store as a verify worker thread reads them (verify-worker.ts): its
 * own connection, the same keyset query as PostgresEventStore.readChainColumns, the rows checked
 * by verify-segment.ts as the calling thread checks them (segmentRows('postgres')).
 */
import pg from 'pg';
import {
  chainColumnsSql,
  fromTextColumns,
  chainLinksRangeSql,
} from '../store/postgres/postgres-event-store.js';
import {
  checkLinks,
  checkSegment,
  segmentRows,
  type SegmentReader,
  type SegmentTask,
} from './verify-segment.js';

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
  const columns = { name: 'tg_verify_chain_columns', text: chainColumnsSql(schema) };
  const links = { name: 'tg_verify_chain_links', text: chainLinksRangeSql(schema) };
  const rows = segmentRows('postgres', fromTextColumns);
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
      const res = await client.query<unknown[]>({ ...columns, values, rowMode: 'array' });
      return checkSegment(task, res.rows, rows);
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}
