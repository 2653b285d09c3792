/**
 * Worker thread of the SQLite checkpoint thread (sqlite-checkpoint-thread.ts): owns its own
 * connection to the store's file and runs the WAL checkpoints the gateway's connection no longer
 * runs itself, so their page copies and fsyncs leave the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './open-sqlite.js';

/** What the worker is given: the store's file. */
export interface CheckpointWorkerData {
  file: string;
}

/** The answer to a 'checkpoint' message: WAL frames, and how many are in the database file now. */
export interface CheckpointDone {
  log?: number;
  checkpointed?: number;
  /** The checkpoint failed: its SQLite code (never content). */
  error?: { code: string | null };
}

const port = parentPort;
if (!port) throw new Error('sqlite-checkpoint-worker runs as a worker thread');
const { file } = workerData as CheckpointWorkerData;
const db = openSqlite(file);
// This connection commits nothing, but must never checkpoint on a commit of its own either.
db.pragma('wal_autocheckpoint = 0');
// PASSIVE: copies what it can without waiting for the writer or readers, so it never holds up a
// commit of the gateway's connection (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html).
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

port.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    const r = checkpoint.get() as { busy: number; log: number; checkpointed: number };
    port.postMessage({ log: r.log, checkpointed: r.checkpointed } satisfies CheckpointDone);
  } catch (err) {
    const code = err !== null && typeof err === 'object' && 'code' in err ? String(err.code) : null;
    port.postMessage({ error: { code } } satisfies CheckpointDone);
  }
});
