import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { testEvent } from '../../../test/support/test-event.js';
import { openSqlite } from './open-sqlite.js';
import { SqliteAppendThread } from './sqlite-append-thread.js';
import type { AppendDone, AppendJob } from './sqlite-append-worker.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { attachSqliteWriteHooks } from './sqlite-write-hooks.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store file as the gateway opens it (events, rollups), and an append thread over the same file. */
function opened(): {
  store: SqliteEventStore;
  thread: SqliteAppendThread;
  db: ReturnType<typeof openSqlite>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-append-thread-'));
  dirs.push(dir);
  const db = openSqlite(join(dir, 'tollgate.db'));
  const store = new SqliteEventStore(db);
  attachSqliteWriteHooks(store, db);
  return { store, db, thread: new SqliteAppendThread(join(dir, 'tollgate.db'), () => store.probeWrite()) };
}

const chained = (i: number) =>
  testEvent(
    { chain_id: 'gw', seq: i, user_id: `u${i % 3}`, model_requested: 'gpt-4.1', cost_micro_usd: 100 * i },
    i,
  );

/** A stand-in for the worker: the test answers its jobs and makes it fail when it wants. */
class StandInWorker extends EventEmitter {
  readonly jobs: AppendJob[] = [];
  referenced = false;
  postMessage(m: AppendJob | 'close'): void {
    if (m !== 'close') this.jobs.push(m);
  }
  ref(): void {
    this.referenced = true;
  }
  unref(): void {
    this.referenced = false;
  }
  terminated = false;
  /** As a real worker's: 'exit' comes later, not within the call. */
  terminate(): Promise<number> {
    this.terminated = true;
    setImmediate(() => this.emit('exit', 1));
    return Promise.resolve(1);
  }
  answer(job: number): void {
    this.emit('message', { id: this.jobs[job]!.id } satisfies AppendDone);
  }
}

function standIns(): { thread: SqliteAppendThread; workers: StandInWorker[] } {
  const workers: StandInWorker[] = [];
  const thread = new SqliteAppendThread('unused.db', undefined, () => {
    const w = new StandInWorker();
    workers.push(w);
    return w as unknown as Worker;
  });
  return { thread, workers };
}

describe('SqliteAppendThread', () => {
  it('commits each batch with its rollups from the worker; the gateway connection reads it once append resolves', async () => {
    const { store, db, thread } = opened();
    try {
      await thread.append([1, 2, 3].map(chained));
      await thread.append([4, 5].map(chained));
      expect(await store.count()).toBe(5);
      expect((await store.get(chained(4).id))?.user_id).toBe('u1');
      // The rollups committed in the same transactions (the worker registered the same hooks).
      // One granularity (hours), one dimension: every event counted once.
      const spent = db
        .prepare(
          'SELECT SUM(cost_micro_usd) FROM cost_rollups WHERE dim = ? AND granularity = (SELECT MIN(granularity) FROM cost_rollups)',
        )
        .pluck();
      const dims = db.prepare('SELECT DISTINCT dim FROM cost_rollups').pluck().all() as string[];
      expect(dims.length).toBeGreaterThan(0);
      expect(spent.get(dims[0])).toBe(1500);
      // Idempotent on the event id, as the store is (a spool replay after a lost answer).
      await thread.append([chained(5)]);
      expect(await store.count()).toBe(5);
    } finally {
      await thread.close();
      await store.close();
    }
  });

  it('a batch the store refuses rejects with TG_ERR_STORE_WRITE and the SQLite code, and nothing of it is kept', async () => {
    const { store, thread } = opened();
    try {
      await thread.append([chained(1)]);
      // Another event claiming seq 1 of the same chain: a fork, refused by the (chain_id, seq) index.
      const fork = { ...chained(1), id: chained(9).id };
      await expect(thread.append([chained(2), fork])).rejects.toMatchObject({
        code: 'TG_ERR_STORE_WRITE',
        detail: { store: 'sqlite', batch: 2, sqlite: 'SQLITE_CONSTRAINT_UNIQUE' },
      });
      expect(await store.count()).toBe(1);
      // The worker goes on: the next batch commits.
      await thread.append([chained(2)]);
      expect(await store.count()).toBe(2);
    } finally {
      await thread.close();
      await store.close();
    }
  });

  it('close stops the worker; a later append starts a new one', async () => {
    const { store, thread } = opened();
    try {
      await thread.append([chained(1)]);
      await thread.close();
      await thread.append([chained(2)]);
      expect(await store.count()).toBe(2);
    } finally {
      await thread.close();
      await store.close();
    }
  });

  it('a worker that cannot open the store is stopped: once the cause is gone, the next append starts a new one and commits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-append-thread-'));
    dirs.push(dir);
    // The store's folder is blocked by a file (as a transient EMFILE, ENOSPC or lock would be).
    const data = join(dir, 'data');
    writeFileSync(data, 'not a folder');
    const file = join(data, 'tollgate.db');
    const thread = new SqliteAppendThread(file);
    const refused = { code: 'TG_ERR_STORE_WRITE', detail: { store: 'sqlite', batch: 1 } };
    try {
      await expect(thread.append([chained(1)])).rejects.toMatchObject(refused);
      // Two batches out at once to a worker that cannot open: both fail (one answered, one on its stop).
      const both = await Promise.allSettled([thread.append([chained(1)]), thread.append([chained(2)])]);
      expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      rmSync(data);
      // The obstacle is gone: the next append starts a fresh worker, which opens the store.
      await thread.append([chained(1)]);
      await thread.append([chained(2)]);
      await thread.append([chained(3)]);
    } finally {
      await thread.close();
    }
    const db = openSqlite(file);
    const store = new SqliteEventStore(db);
    try {
      expect(await store.count()).toBe(3);
    } finally {
      await store.close();
    }
  });

  it("a dying worker fails only its own batches: its exit after a new worker started does not fail the new worker's batch", async () => {
    const { thread, workers } = standIns();
    const a1 = thread.append([chained(1)]);
    // Worker A fails ('error' comes before its 'exit')...
    workers[0]!.emit('error', new Error('worker crashed'));
    await expect(a1).rejects.toMatchObject({
      code: 'TG_ERR_STORE_WRITE',
      detail: { batch: 1, thread: true },
    });
    // ...an append starts worker B before A's 'exit'...
    const b1 = thread.append([chained(2), chained(3)]);
    expect(workers).toHaveLength(2);
    expect(workers[1]!.referenced).toBe(true);
    workers[0]!.emit('exit', 1);
    // ...and B's batch stands: committed, it resolves, and B is no longer referenced once idle.
    workers[1]!.answer(0);
    await expect(b1).resolves.toBeUndefined();
    expect(workers[1]!.referenced).toBe(false);
    // B's own death fails B's batch out, and the next append starts worker C.
    const b2 = thread.append([chained(4)]);
    workers[1]!.emit('exit', 1);
    await expect(b2).rejects.toMatchObject({
      code: 'TG_ERR_STORE_WRITE',
      detail: { batch: 1, thread: true },
    });
    const c1 = thread.append([chained(5)]);
    expect(workers).toHaveLength(3);
    workers[2]!.answer(0);
    await expect(c1).resolves.toBeUndefined();
  });

  it('an answer carrying the open error stops that worker; its other batches fail, the next append gets a new worker', async () => {
    const { thread, workers } = standIns();
    const first = thread.append([chained(1)]);
    const second = thread.append([chained(2)]);
    const settled = Promise.allSettled([first, second]);
    const a = workers[0]!;
    a.emit('message', {
      id: a.jobs[0]!.id,
      error: { code: 'TG_ERR_STORE_OPEN', sqlite: 'EMFILE', open: true },
    } satisfies AppendDone);
    expect(a.terminated).toBe(true);
    const [one, two] = await settled;
    expect(one).toMatchObject({
      status: 'rejected',
      reason: { code: 'TG_ERR_STORE_WRITE', detail: { sqlite: 'EMFILE' } },
    });
    expect(two).toMatchObject({
      status: 'rejected',
      reason: { code: 'TG_ERR_STORE_WRITE', detail: { thread: true } },
    });
    const next = thread.append([chained(3)]);
    expect(workers).toHaveLength(2);
    workers[1]!.answer(0);
    await expect(next).resolves.toBeUndefined();
  });
});
