/**
 * Worker thread of the SQLite checkpoint thread (sqlite-checkpoint-thread.ts): owns its own
 * connection to the store's file and runs the WAL checkpoints the gateway's connection no longer
 * runs itself, so their page copies and fsyncs leave the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './open-sqlite.js';
import {
  STATE_BUSY,
  STATE_DONE,
  type CheckpointFailed,
  type CheckpointWorkerData,
} from './sqlite-checkpoint-state.js';

const port = parentPort;
if (!port) throw new Error('sqlite-checkpoint-worker runs as a worker thread');
const { file, state: shared } = workerData as CheckpointWorkerData;
const state = new Int32Array(shared);
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
    checkpoint.get();
    Atomics.add(state, STATE_DONE, 1);
  } catch (err) {
    const code = err !== null && typeof err === 'object' && 'code' in err ? String(err.code) : null;
    port.postMessage({ error: { code } } satisfies CheckpointFailed);
  } finally {
    Atomics.store(state, STATE_BUSY, 0);
  }
});
