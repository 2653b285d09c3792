import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEvent } from '../../../test/support/test-event.js';
import { openSqlite, type SqliteDatabase } from './open-sqlite.js';
import { SqliteCheckpointThread } from './sqlite-checkpoint-thread.js';
import { STATE_BUSY, STATE_DONE, type CheckpointWorkerData } from './sqlite-checkpoint-state.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { attachSqliteWriteHooks } from './sqlite-write-hooks.js';
import { walPosition, type WalPosition } from './wal-position.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-checkpoint-thread-'));
  dirs.push(dir);
  return join(dir, 'tollgate.db');
}

const chained = (i: number) => testEvent({ chain_id: 'gw', seq: i, user_id: `u${i % 3}` }, i);
const autocheckpoint = (db: SqliteDatabase): number =>
  db.pragma('wal_autocheckpoint', { simple: true }) as number;

/** A stand-in for the worker: records the checkpoints asked for; the test finishes them. */
class StandInWorker extends EventEmitter {
  asked = 0;
  private readonly state: Int32Array;
  constructor(data: CheckpointWorkerData) {
    super();
    this.state = new Int32Array(data.state);
  }
  postMessage(m: 'checkpoint' | 'close'): void {
    if (m === 'checkpoint') this.asked++;
    else setImmediate(() => this.emit('exit', 0));
  }
  ref(): void {}
  unref(): void {}
  /** As the worker does, through the shared state only (no event-loop turn needed). */
  finish(): void {
    Atomics.add(this.state, STATE_DONE, 1);
    Atomics.store(this.state, STATE_BUSY, 0);
  }
  fail(code: string): void {
    Atomics.store(this.state, STATE_BUSY, 0);
    this.emit('message', { error: { code } });
  }
}

function standIn(frames = 100): {
  thread: SqliteCheckpointThread;
  workers: StandInWorker[];
  at: { position: WalPosition | null };
  errors: unknown[];
  db: SqliteDatabase;
} {
  const db = openSqlite(file());
  const workers: StandInWorker[] = [];
  const at: { position: WalPosition | null } = { position: { mxFrame: 0, nBackfill: 0 } };
  const errors: unknown[] = [];
  const thread = new SqliteCheckpointThread(db, {
    frames,
    position: () => at.position,
    onError: (err) => errors.push(err),
    spawn: (data) => {
      const w = new StandInWorker(data);
      workers.push(w);
      return w as unknown as Worker;
    },
  });
  return { thread, workers, at, errors, db };
}

describe('SqliteCheckpointThread', () => {
  it('takes the checkpoints off the connection: the worker copies the WAL back, the WAL restarts, every event stays', async () => {
    const path = file();
    const db = openSqlite(path);
    const store = new SqliteEventStore(db);
    attachSqliteWriteHooks(store, db);
    const errors: unknown[] = [];
    const thread = new SqliteCheckpointThread(db, { frames: 20, onError: (err) => errors.push(err) });
    store.onCommitted(() => thread.committed());
    expect(autocheckpoint(db)).toBe(0);
    const position = (): WalPosition => walPosition(readFileSync(`${path}-shm`).subarray(0, 136))!;
    try {
      let seq = 0;
      let highest = 0;
      // Commit until a commit is seen to rewrite the WAL from its start (its position falls).
      await vi.waitFor(
        () => {
          store.appendSync([1, 2, 3].map(() => chained(++seq)));
          const { mxFrame } = position();
          if (mxFrame >= highest) {
            highest = mxFrame;
            throw new Error('the WAL has not restarted yet');
          }
        },
        { timeout: 20_000, interval: 5 },
      );
      expect(await store.count()).toBe(seq);
      // The worker did it: it neither failed nor gave the checkpoints back to the connection.
      expect(errors).toEqual([]);
      expect(thread.running).toBe(true);
      expect(autocheckpoint(db)).toBe(0);
    } finally {
      await thread.close();
    }
    // Closed: the connection checkpoints itself again.
    expect(autocheckpoint(db)).toBe(1000);
    await store.close();
  });

  it('asks for a checkpoint once the backlog reaches the threshold, one at a time, then after each commit until the WAL restarts', () => {
    const { thread, workers, at } = standIn(100);
    at.position = { mxFrame: 99, nBackfill: 0 };
    thread.committed();
    // Below the threshold: no worker is even started.
    expect(workers).toHaveLength(0);
    at.position = { mxFrame: 100, nBackfill: 0 };
    thread.committed();
    expect(workers[0]!.asked).toBe(1);
    // One checkpoint at a time.
    at.position = { mxFrame: 130, nBackfill: 0 };
    thread.committed();
    expect(workers[0]!.asked).toBe(1);
    workers[0]!.finish();
    // A commit came during it: the frames it left behind are copied after the next commit.
    at.position = { mxFrame: 145, nBackfill: 100 };
    thread.committed();
    expect(workers[0]!.asked).toBe(2);
    workers[0]!.finish();
    // This commit rewrote the WAL from its start: back to the threshold.
    at.position = { mxFrame: 15, nBackfill: 0 };
    thread.committed();
    at.position = { mxFrame: 60, nBackfill: 0 };
    thread.committed();
    expect(workers[0]!.asked).toBe(2);
    expect(workers).toHaveLength(1);
  });

  it('an unreadable wal-index: a checkpoint after every commit (one at a time) rather than never', () => {
    const { thread, workers, at } = standIn(100);
    at.position = null;
    thread.committed();
    thread.committed();
    expect(workers[0]!.asked).toBe(1);
    workers[0]!.finish();
    thread.committed();
    expect(workers[0]!.asked).toBe(2);
  });

  it('commits back to back that leave the worker no moment to finish in: a WAL 4× the threshold long is checkpointed by the connection itself', () => {
    const { thread, workers, at, db, errors } = standIn(10);
    const own = vi.spyOn(db, 'pragma');
    at.position = { mxFrame: 10, nBackfill: 0 };
    thread.committed();
    workers[0]!.finish();
    at.position = { mxFrame: 39, nBackfill: 10 };
    thread.committed();
    workers[0]!.finish();
    expect(own).not.toHaveBeenCalledWith('wal_checkpoint(PASSIVE)');
    at.position = { mxFrame: 40, nBackfill: 39 };
    thread.committed();
    expect(own).toHaveBeenCalledWith('wal_checkpoint(PASSIVE)');
    expect(workers[0]!.asked).toBe(2);
    // Its failure is told, never thrown into the commit that called it.
    own.mockImplementationOnce(() => {
      throw new Error('SQLITE_IOERR');
    });
    expect(() => thread.committed()).not.toThrow();
    expect(String(errors[0])).toContain('SQLITE_IOERR');
    db.close();
  });

  it('a failed checkpoint is told and asked again; a worker that exits gives the checkpoints back to the connection for good', () => {
    const { thread, workers, at, errors, db } = standIn(100);
    at.position = { mxFrame: 100, nBackfill: 0 };
    thread.committed();
    workers[0]!.fail('SQLITE_IOERR');
    expect(String(errors[0])).toContain('SQLITE_IOERR');
    thread.committed();
    expect(workers[0]!.asked).toBe(2);
    workers[0]!.emit('exit', 1);
    expect(thread.running).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    expect(String(errors[1])).toContain('exited');
    thread.committed();
    expect(workers).toHaveLength(1);
    expect(workers[0]!.asked).toBe(2);
    db.close();
  });
});

describe('SqliteCheckpointThread without a worker', () => {
  it('a worker that cannot be started: told, the connection checkpoints itself again, nothing thrown into the commit', () => {
    const db = openSqlite(file());
    const errors: unknown[] = [];
    const thread = new SqliteCheckpointThread(db, {
      frames: 10,
      position: () => ({ mxFrame: 10, nBackfill: 0 }),
      onError: (err) => errors.push(err),
      spawn: () => {
        throw new Error('EMFILE');
      },
    });
    expect(() => thread.committed()).not.toThrow();
    expect(String(errors[0])).toContain('EMFILE');
    expect(thread.running).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    db.close();
  });
});

describe('walPosition', () => {
  it('reads the frames written and copied back from a real wal-index; a header being rewritten reads as unknown', () => {
    const path = file();
    const db = openSqlite(path);
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x)');
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO t VALUES (?)').run(i);
    const header = (): Buffer => Buffer.from(readFileSync(`${path}-shm`).subarray(0, 136));
    const before = walPosition(header())!;
    expect(before.mxFrame).toBeGreaterThanOrEqual(6);
    expect(before.nBackfill).toBe(0);
    db.pragma('wal_checkpoint(PASSIVE)');
    expect(walPosition(header())).toEqual({ mxFrame: before.mxFrame, nBackfill: before.mxFrame });
    // The two copies of the header differ while a writer updates them.
    const torn = header();
    torn.writeUInt32LE(before.mxFrame + 1, 16);
    expect(walPosition(torn)).toBeNull();
    expect(walPosition(header().subarray(0, 50))).toBeNull();
    db.close();
  });
});
