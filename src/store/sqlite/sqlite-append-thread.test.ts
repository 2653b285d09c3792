import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testEvent } from '../../../test/support/test-event.js';
import { openSqlite } from './open-sqlite.js';
import { SqliteAppendThread } from './sqlite-append-thread.js';
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
});
