/**
 * The writer's store probe (EventStore.probeWrite) is a real write: it fails where an empty append
 * succeeds (a read-only or immutable SQLite file, a read-only PostgreSQL session), so a writer that
 * saw its store fail only calls it available again once it can take writes. Before, the probe was
 * `append([])`, which writes nothing, and fail-closed without a spool admitted a request a second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { EventWriter } from '../../src/writer/event-writer.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { immutableSupported, setImmutable, sqliteFiles } from '../stress/support/immutable-files.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A SQLite store file with one chained event in it, closed. */
async function storeFile(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-probe-'));
  dirs.push(dir);
  const path = join(dir, 'tollgate.db');
  const store = new SqliteEventStore(openSqlite(path));
  const e = sampleEvent(1);
  createChainer({ chainId: 'gw-1' }).link(e);
  await store.append([e]);
  await store.probeWrite();
  await store.close();
  return path;
}

describe('store write probe', () => {
  it('fails on a SQLite file opened read-only, where an empty append succeeds', async () => {
    const store = new SqliteEventStore(openSqlite(await storeFile(), { readonly: true }));
    try {
      await expect(store.append([])).resolves.toBeUndefined();
      await expect(store.probeWrite()).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE' });
    } finally {
      await store.close();
    }
  });

  it('keeps a fail-closed writer without a spool down while its store is read-only', async () => {
    const store = new SqliteEventStore(openSqlite(await storeFile(), { readonly: true }));
    const writer = new EventWriter({
      store,
      clock: new ManualClock(),
      policy: 'fail-closed',
      maxQueue: 100,
      batchSize: 10,
      retryIntervalMs: 3_600_000,
    });
    try {
      const e = sampleEvent(2);
      createChainer({ chainId: 'gw-2' }).link(e);
      await expect(writer.commit(e)).rejects.toThrow();
      expect(writer.canAccept()).toBe(false);
      for (let i = 0; i < 3; i++) {
        await writer.replaySpool(); // what the retry timer runs once a second
        expect(writer.stats().storeAvailable, `probe ${i + 1}`).toBe(false);
        expect(writer.canAccept()).toBe(false);
      }
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it.skipIf(!immutableSupported())(
    'fails on an open SQLite store whose files were made immutable, and passes again once they are not',
    async () => {
      const path = await storeFile();
      const store = new SqliteEventStore(openSqlite(path));
      try {
        await store.probeWrite();
        setImmutable(sqliteFiles(path), true);
        try {
          await expect(store.append([])).resolves.toBeUndefined();
          await expect(store.probeWrite()).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE' });
        } finally {
          setImmutable(sqliteFiles(path), false);
        }
        await store.probeWrite();
      } finally {
        await store.close();
      }
    },
  );

  it.skipIf(!service.available)(
    'fails on a read-only PostgreSQL session, where SELECT 1 answers',
    async () => {
      const schema = uniqueName('tg_probe');
      // One connection, so the session setting below applies to every query of the store.
      const pool = new pg.Pool({ connectionString: service.url, max: 1 });
      const store = await PostgresEventStore.open({ pool, schema });
      try {
        await store.probeWrite();
        await pool.query('SET default_transaction_read_only = on');
        await expect(store.append([])).resolves.toBeUndefined();
        await expect(store.probeWrite()).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE' });
        await pool.query('SET default_transaction_read_only = off');
        await store.probeWrite();
      } finally {
        await store.close();
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      }
    },
  );
});
