/**
 * Worker thread of the verify pool (verify-pool.ts): checks chain segments (or only their links,
 * for resuming checkpoints) through a connection of its own to the store, SQLite file or
 * PostgreSQL, and posts back each result, leaf hashes transferred. Tasks are taken in the order
 * they come; a PostgreSQL worker's connection runs their queries one after another.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ReaderSource } from '../store/event-store.js';
import type { SegmentReader, SegmentTask } from './verify-segment.js';

interface Job extends SegmentTask {
  id: number;
}

const port = parentPort;
if (!port) throw new Error('verify-worker runs as a worker thread');
const { source } = workerData as { source: ReaderSource };

/** Only the driver of this store is loaded (pg is an optional dependency). */
async function open(s: ReaderSource): Promise<SegmentReader> {
  if (s.kind === 'sqlite') return (await import('./sqlite-segment-reader.js')).sqliteSegmentReader(s.file);
  return (await import('./postgres-segment-reader.js')).postgresSegmentReader(s.url, s.schema);
}

// Thrown when the store cannot be opened: the worker's `error`, which fails the pool (verify reads
// on the calling thread instead).
const reader = await open(source);

port.on('message', (job: Job | 'close') => {
  if (job === 'close') {
    void reader.close().finally(() => port.close());
    return;
  }
  Promise.resolve()
    .then(() => reader.check(job))
    .then(
      (result) => port.postMessage({ id: job.id, result }, [result.leaves.buffer as ArrayBuffer]),
      (err: unknown) =>
        port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) }),
    );
});
