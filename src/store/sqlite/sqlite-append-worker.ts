/**
 * Worker thread of the SQLite append thread (sqlite-append-thread.ts): owns a second connection
 * to the store's file and commits each batch it is sent, with the same in-transaction hooks as
 * the gateway's connection (the rollups), so the write and its commit leave the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditEvent } from '../../core/audit-event.js';
import { openSqlite } from './open-sqlite.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { attachSqliteWriteHooks } from './sqlite-write-hooks.js';

/** A batch: the events' JSON array as UTF-8, in a buffer transferred (not copied) from the main thread. */
export interface AppendJob {
  id: number;
  batch: Uint8Array;
}
/**
 * The answer to a job: committed, or why not (a code and the SQLite error's code; never content).
 * `open`: this worker could not open the store and answers every job with that error; the
 * thread stops it so the next append starts a fresh worker (a cause that went away, such as
 * EMFILE or a lock at boot, does not outlive it).
 */
export interface AppendDone {
  id: number;
  error?: { code: string | null; sqlite: string | null; open?: true };
}

const port = parentPort;
if (!port) throw new Error('sqlite-append-worker runs as a worker thread');
const { file } = workerData as { file: string };
const decoder = new TextDecoder();
let store: SqliteEventStore | null = null;
let openError: unknown = null;
try {
  const db = openSqlite(file);
  store = new SqliteEventStore(db);
  attachSqliteWriteHooks(store, db);
} catch (err) {
  openError = err;
}

port.on('message', (m: AppendJob | 'close') => {
  if (m === 'close') {
    void store?.close();
    port.close();
    return;
  }
  try {
    if (!store) {
      port.postMessage({ id: m.id, error: { ...describe(openError), open: true } } satisfies AppendDone);
      return;
    }
    store.appendSync(JSON.parse(decoder.decode(m.batch)) as AuditEvent[]);
    port.postMessage({ id: m.id } satisfies AppendDone);
  } catch (err) {
    port.postMessage({ id: m.id, error: describe(err) } satisfies AppendDone);
  }
});

function describe(err: unknown): NonNullable<AppendDone['error']> {
  const code = (e: unknown): string | null =>
    e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : null;
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  return { code: code(err), sqlite: code(cause) };
}
