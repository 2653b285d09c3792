/**
 * Worker thread of the verify pool (verify-pool.ts): checks chain segments of a SQLite store (or
 * only their links, for resuming checkpoints) through its own read-only connection and posts back each result, leaf hashes transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/open-sqlite.js';
import { EVENT_COLUMNS, fromColumns } from '../store/sqlite/sqlite-event-store.js';
import { checkLinks, checkSegment, segmentRows, type SegmentTask } from './verify-segment.js';

interface Job extends SegmentTask {
  id: number;
}

const port = parentPort;
if (!port) throw new Error('verify-worker runs as a worker thread');
const { file } = workerData as { file: string };
const db: SqliteDatabase = openSqlite(file, { readonly: true });
// Rows as arrays (about half the cost of row objects for a 62-column row), never decoded into an
// event: the canonical bytes are written from the columns (canonical-columns.ts).
const select = db
  .prepare(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq ASC`,
  )
  .raw();
const reader = segmentRows('sqlite', fromColumns);
const selectLinks = db
  .prepare(
    'SELECT seq, hash, prev_hash FROM events WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq ASC',
  )
  .raw();

port.on('message', (job: Job | 'close') => {
  if (job === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    // One read per segment (.all is several times cheaper per row than .iterate).
    const result = job.links
      ? checkLinks(job, selectLinks.all(job.chainId, job.first, job.last) as unknown[][])
      : checkSegment(job, select.all(job.chainId, job.first, job.last) as unknown[][], reader);
    port.postMessage({ id: job.id, result }, [result.leaves.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
