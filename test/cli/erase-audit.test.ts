/**
 * `tollgate erase --user ID` records one admin event that names every data key it destroyed
 * (`virtual_key_id`: the ids, comma-separated), on SQLite (one key per person) and on PostgreSQL
 * (where two replicas that met the person before either polled each made a key).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDataKeyStore } from '../../src/store/sqlite/sqlite-data-key-store.js';
import type { WrappedDataKey } from '../../src/privacy/data-key-store.js';
import { PostgresDataKeyStore } from '../../src/store/postgres/postgres-data-keys.js';
import { cli } from '../support/run-cli.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();

const wrappedKey = (subject: string, keyId: string): WrappedDataKey => ({
  keyId,
  subject,
  wrapped: Buffer.alloc(60, 7),
  createdAtMs: 1000,
});

interface AdminEvent {
  endpoint: string;
  user_id: string | null;
  virtual_key_id: string | null;
}

async function eraseEvents(db: string, env: Record<string, string>): Promise<AdminEvent[]> {
  const r = await cli(['events', '--db', db, '--json', '--feature', 'admin'], env);
  expect(r.code).toBe(0);
  return r.out
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as AdminEvent)
    .filter((e) => e.endpoint === 'admin:erase');
}

describe('erase --user records every destroyed data key (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-erase-audit-'));
  const db = join(dir, 'tollgate.db');
  const env = { TOLLGATE_DATA_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the destroyed key; an erase that destroyed nothing names none', async () => {
    expect((await cli(['keys', 'create', '--db', db, '--name', 'setup'], env)).code).toBe(0); // creates the store
    const h = new Database(db);
    new SqliteDataKeyStore(h).putIfAbsent(wrappedKey('user:alice', 'dk-alice-1'));
    h.close();

    const erased = await cli(['erase', '--db', db, '--user', 'alice', '--json'], env);
    expect(erased.code, erased.err).toBe(0);
    expect(JSON.parse(erased.out).keyIds).toEqual(['dk-alice-1']);
    const again = await cli(['erase', '--db', db, '--user', 'alice', '--json'], env);
    expect(JSON.parse(again.out).keysDestroyed).toBe(0);

    const events = await eraseEvents(db, env);
    // One event per run: the first names the key, the second (nothing destroyed) names none.
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.user_id)).toEqual(['alice', 'alice']);
    expect(events.map((e) => e.virtual_key_id ?? '').sort()).toEqual(['', 'dk-alice-1']);
  });
});

describe.skipIf(!service.available)('erase --user records every destroyed data key (PostgreSQL)', () => {
  const schema = uniqueName('tg_erase');
  const db = `${service.url}?schema=${schema}`;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-erase-audit-pg-'));
  const env = { TOLLGATE_DATA_DIR: dir };
  const pool = new pg.Pool({ connectionString: service.url, max: 4 });
  const stores: PostgresDataKeyStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names both keys two replicas made for the person, not only the first', async () => {
    expect((await cli(['events', '--db', db, '--json'], env)).code).toBe(0); // creates the schema
    // Two replicas meet alice before either has polled the other's key: two live keys.
    const replicas = [
      await PostgresDataKeyStore.open(pool, { schema, refreshMs: 60_000 }),
      await PostgresDataKeyStore.open(pool, { schema, refreshMs: 60_000 }),
    ];
    stores.push(...replicas);
    for (const [i, replica] of replicas.entries()) {
      replica.putIfAbsent(wrappedKey('user:alice', `dk-alice-${i}`));
      replica.putIfAbsent(wrappedKey('user:bob', `dk-bob-${i}`));
    }
    await Promise.all(replicas.map((r) => r.flush()));

    const erased = await cli(['erase', '--db', db, '--user', 'alice', '--json'], env);
    expect(erased.code, erased.err).toBe(0);
    expect(JSON.parse(erased.out).keysDestroyed).toBe(2);

    const events = await eraseEvents(db, env);
    expect(events).toHaveLength(1);
    expect(events[0]!.user_id).toBe('alice');
    expect(events[0]!.virtual_key_id?.split(',').sort()).toEqual(['dk-alice-0', 'dk-alice-1']);
    // Bob's keys are neither destroyed nor named.
    expect(events[0]!.virtual_key_id).not.toContain('bob');
  });
});
