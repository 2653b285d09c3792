/**
 * Worker threads that check chain segments in parallel (verify-segment.ts): each opens its own
 * connection to the store (a read-only SQLite connection, or a PostgreSQL connection: the store's
 * ReaderSource), so reading, decoding and hashing all leave the main thread, which only folds the
 * leaf hashes into the Merkle tree (verify-fast.ts).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { closeModuleWorker, spawnModuleWorker } from '../core/module-worker.js';
import type { EventStore, ReaderSource } from '../store/event-store.js';
import type { VerifyOptions } from './verify-report.js';
import {
  checkSegment,
  segmentRows,
  type SegmentResult,
  type SegmentRows,
  type SegmentTask,
} from './verify-segment.js';

/** Checks segments in worker threads; each promise resolves with its own segment's result. */
export interface SegmentChecker {
  check(task: SegmentTask): Promise<SegmentResult>;
  /** How many segments to keep in flight for full use. */
  readonly parallelism: number;
  close(): Promise<void>;
}

/**
 * Worker threads to use by default: one per core the process may use; over PostgreSQL two per core
 * (at most 8), because each worker waits while its own backend produces the next segment, and the
 * backend while the worker checks the last one (bench/verify.bench.ts --postgres, same run on 2
 * vCPUs: 4 workers 61,114 events/s, 2 workers 49,841; docs/benchmarks.md).
 */
export function defaultVerifyWorkers(source: ReaderSource | null): number {
  const cores = Math.max(1, Math.min(availableParallelism(), 8));
  return source?.kind === 'postgres' ? Math.min(2 * cores, 8) : cores;
}

interface Pending {
  resolve: (r: SegmentResult) => void;
  reject: (e: Error) => void;
}

/** How long a closing worker may take to close its connection before it is terminated. */
const CLOSE_GRACE_MS = 2000;

/**
 * `workers` threads over the store at `source`. Each worker takes the next task as soon as it is
 * free; several tasks are queued per worker so none waits for the main thread.
 */
export function workerSegmentChecker(source: ReaderSource, workers: number): SegmentChecker {
  const threads: { worker: Worker; busy: number }[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failure: Error | null = null;
  for (let i = 0; i < workers; i++) {
    const worker = spawnVerifyWorker(source);
    const slot = { worker, busy: 0 };
    worker.on('message', (m: { id: number; result?: SegmentResult; error?: string }) => {
      slot.busy--;
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (!p) return;
      if (m.result) {
        // The leaves arrive as a plain Uint8Array over the transferred buffer.
        p.resolve(m.result);
      } else p.reject(new Error(m.error ?? 'verify worker failed'));
    });
    worker.on('error', (err) => {
      failure = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    threads.push(slot);
  }
  return {
    parallelism: workers * 2,
    check(task) {
      if (failure) return Promise.reject(failure);
      const slot = threads.reduce((a, b) => (b.busy < a.busy ? b : a));
      const id = nextId++;
      slot.busy++;
      return new Promise<SegmentResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, ...task });
      });
    },
    async close() {
      // Asked first, so a worker ends its PostgreSQL session cleanly (a terminated thread drops
      // its socket: the server logs an unexpected EOF); terminated if it does not go in time.
      await Promise.all(threads.map((t) => closeModuleWorker(t.worker, CLOSE_GRACE_MS)));
    },
  };
}

function spawnVerifyWorker(source: ReaderSource): Worker {
  // The source may carry a PostgreSQL password in its URL: workerData only, never a log line.
  return spawnModuleWorker(import.meta.url, 'verify-worker', { source });
}

/**
 * Segments read through the store's `readChainColumns` and checked on the calling thread (a store
 * workers cannot reach: SQLite in memory, PostgreSQL on a caller's pool; `workers: 0`; a pool that
 * could not start; or a run too short to start workers).
 * Two segments in flight: the next one is read while this one is hashed.
 */
export function inlineSegmentChecker(store: EventStore): SegmentChecker | null {
  if (!store.readChainColumns) return null;
  const readers = new Map<string, SegmentRows>();
  return {
    parallelism: 2,
    async check(task) {
      const read = await store.readChainColumns!(task.chainId, task.first, task.last);
      let reader = readers.get(read.codec);
      if (!reader) readers.set(read.codec, (reader = segmentRows(read.codec, (v) => read.decode(v))));
      return checkSegment(task, read.rows, reader);
    },
    async close() {},
  };
}

/**
 * The segment checkers of one verify run: the worker pool over the store's ReaderSource (started
 * when a chain needs it), else the inline checker over the store's column reads.
 */
export class SegmentCheckers {
  private pool: SegmentChecker | null = null;
  private poolFailed = false;
  private inline: SegmentChecker | null | undefined;
  private inlineFailed = false;
  /** Events the worker pool confirmed. */
  inWorkers = 0;

  constructor(
    private readonly store: EventStore,
    private readonly options: VerifyOptions,
  ) {}

  /** The checker for a run of `events` events, or null: walk them sequentially. */
  for(events: number): SegmentChecker | null {
    const source = this.store.readerSource?.() ?? null;
    const workers = this.options.workers ?? defaultVerifyWorkers(source);
    if (
      workers > 0 &&
      source !== null &&
      !this.poolFailed &&
      events >= (this.options.workerMinEvents ?? 50_000)
    ) {
      this.pool ??= workerSegmentChecker(source, workers);
      return this.pool;
    }
    if (this.inlineFailed) return null;
    if (this.inline === undefined) this.inline = inlineSegmentChecker(this.store);
    return this.inline;
  }

  /** Whether the events `checker` confirmed were hashed in worker threads. */
  inPool(checker: SegmentChecker): boolean {
    return checker === this.pool;
  }

  /** A worker could not start or failed (the rest of the run reads inline); a read failed. */
  failed(checker: SegmentChecker): void {
    if (checker === this.pool) this.poolFailed = true;
    else if (checker === this.inline) this.inlineFailed = true;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
