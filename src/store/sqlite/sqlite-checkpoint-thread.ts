import { closeSync, openSync, readSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { closeModuleWorker, spawnModuleWorker } from '../../core/module-worker.js';
import type { SqliteDatabase } from './open-sqlite.js';
import {
  STATE_BUSY,
  STATE_DONE,
  type CheckpointFailed,
  type CheckpointWorkerData,
} from './sqlite-checkpoint-state.js';
import { walPosition, type WalPosition } from './wal-position.js';

/** SQLite's default `wal_autocheckpoint`: the backlog at which a commit checkpoints. */
export const AUTOCHECKPOINT_FRAMES = 1000;

/**
 * A WAL this many times the threshold long (frames since it last restarted) is checkpointed by the
 * connection itself: commits back to back (a spool replay, a drain) leave the worker no moment
 * between two commits to finish in, and the WAL would grow with them.
 */
const RESTART_LIMIT = 4;

/** Starts the worker (tests inject a stand-in). */
export type SpawnCheckpointWorker = (data: CheckpointWorkerData) => Worker;

const spawnCheckpointWorker: SpawnCheckpointWorker = (data) =>
  spawnModuleWorker(import.meta.url, 'sqlite-checkpoint-worker', data);

/** Reads the WAL's position (wal-position.ts); null when unknown. */
export type ReadWalPosition = () => WalPosition | null;

export interface CheckpointThreadOptions {
  /** Checkpoint once this many WAL frames wait (default: SQLite's autocheckpoint, 1,000). */
  frames?: number;
  /** Told when a checkpoint failed or the worker stopped (operational log; never throws). */
  onError?: (err: unknown) => void;
  spawn?: SpawnCheckpointWorker;
  /** Default: the wal-index header in the `-shm` file beside the database. */
  position?: ReadWalPosition;
}

/**
 * WAL checkpoints from a worker thread instead of the gateway's own commits (issue 22: c=1 p99).
 * With SQLite's default, the commit that brings the WAL past 1,000 frames copies them back into
 * the database file and fsyncs both, on the event loop: 5–30 ms every ~60 flushes at one
 * connection (bench/flush-cost.ts). Here the connection stops checkpointing
 * (`wal_autocheckpoint = 0`); after each commit, `committed()` reads the WAL's position (one
 * 136-byte read of the wal-index) and, past the same 1,000 frames, asks a worker with its own
 * connection for a PASSIVE checkpoint, which never holds up a commit. What a power loss can take
 * (synchronous = NORMAL: the WAL since the last checkpoint) is unchanged; a SIGKILL takes nothing
 * committed, as before.
 *
 * The WAL file is rewritten from its start only by a commit that finds every frame copied back; a
 * commit during the checkpoint leaves a few frames behind, so after a checkpoint every commit asks
 * for another (a small one) until a commit is seen to restart the WAL; and when commits come back to
 * back (a replay), a WAL 4× the threshold long is checkpointed by the connection itself. The file
 * does not grow without end. The worker starts with the first checkpoint (a short-lived process never starts
 * one); a worker that fails or exits gives the checkpoints back to the connection for good.
 */
export class SqliteCheckpointThread {
  private worker: Worker | null = null;
  /** The worker failed or exited: the connection checkpoints itself again. */
  private gaveBack = false;
  private closed = false;
  private readonly frames: number;
  private readonly readPosition: ReadWalPosition;
  private readonly spawn: SpawnCheckpointWorker;
  private readonly onError: (err: unknown) => void;
  private shm: number | null = null;
  private readonly header = Buffer.alloc(136);
  /** Shared with the worker: [STATE_BUSY] a checkpoint is asked for, [STATE_DONE] how many ran. */
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private seenDone = 0;
  /** A checkpoint ran since the WAL last restarted: checkpoint the rest after each commit. */
  private restartDue = false;
  private lastMxFrame = 0;
  /** The connection's own setting, given back when the worker stops. */
  private readonly ownSetting: number;

  constructor(
    private readonly db: SqliteDatabase,
    options: CheckpointThreadOptions = {},
  ) {
    this.frames = options.frames ?? AUTOCHECKPOINT_FRAMES;
    this.readPosition = options.position ?? this.shmPosition;
    this.spawn = options.spawn ?? spawnCheckpointWorker;
    this.onError = options.onError ?? (() => undefined);
    this.ownSetting = db.pragma('wal_autocheckpoint', { simple: true }) as number;
    db.pragma('wal_autocheckpoint = 0');
  }

  /** True until a worker failed or exited and the connection checkpoints itself again. */
  get running(): boolean {
    return !this.gaveBack && !this.closed;
  }

  /** Called after each commit on the connection: asks for a checkpoint when one is due. Never throws. */
  committed(): void {
    if (this.gaveBack || this.closed) return;
    const done = Atomics.load(this.state, STATE_DONE);
    if (done !== this.seenDone) {
      this.seenDone = done;
      this.restartDue = true;
    }
    const at = this.readPosition();
    if (at !== null) {
      // A commit rewrote the WAL from its start: every frame before it had been copied back.
      if (at.mxFrame < this.lastMxFrame) this.restartDue = false;
      this.lastMxFrame = at.mxFrame;
    }
    if (Atomics.load(this.state, STATE_BUSY) === 1) return;
    if (at !== null && at.mxFrame >= RESTART_LIMIT * this.frames) {
      // Mostly copied back by the worker already: a short checkpoint here, and the next commit
      // restarts the WAL. Its failure is told, not thrown: the commit before it stands.
      try {
        this.db.pragma('wal_checkpoint(PASSIVE)');
      } catch (err) {
        this.onError(err);
      }
      return;
    }
    // Unknown (a wal-index of another format): checkpoint after every commit rather than never.
    const backlog = at === null ? Infinity : at.mxFrame - at.nBackfill;
    if (backlog < (this.restartDue ? 1 : this.frames)) return;
    Atomics.store(this.state, STATE_BUSY, 1);
    try {
      this.thread().postMessage('checkpoint');
    } catch (err) {
      // No worker could be started: the connection checkpoints itself again.
      Atomics.store(this.state, STATE_BUSY, 0);
      this.worker = null;
      this.gaveBack = true;
      this.restore();
      this.onError(err);
    }
  }

  /** Stops the worker and gives the checkpoints back to the connection (before it closes). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.shm !== null) closeSync(this.shm);
    this.shm = null;
    const worker = this.worker;
    this.worker = null;
    if (worker) await closeModuleWorker(worker);
    this.restore();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = this.spawn({ file: this.db.name, state: this.state.buffer });
    this.worker = worker;
    const giveBack = (err: unknown): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.gaveBack = true;
      this.restore();
      this.onError(err);
    };
    worker.on('message', (m: CheckpointFailed) =>
      this.onError(new Error(`WAL checkpoint failed (${m.error.code ?? 'unknown'})`)),
    );
    worker.on('error', giveBack);
    worker.on('exit', (code) => giveBack(new Error(`WAL checkpoint thread exited (${code})`)));
    // The worker alone does not keep the process alive.
    worker.unref();
    return worker;
  }

  private restore(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.ownSetting}`);
  }

  private readonly shmPosition: ReadWalPosition = () => {
    try {
      this.shm ??= openSync(`${this.db.name}-shm`, 'r');
      const n = readSync(this.shm, this.header, 0, this.header.length, 0);
      return walPosition(this.header.subarray(0, n));
    } catch {
      return null;
    }
  };
}
