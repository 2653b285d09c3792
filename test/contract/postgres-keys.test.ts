import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { keyStoreContract } from '../../src/access/key-store.contract.js';
import { createKey, hashVirtualKey } from '../../src/access/virtual-keys.js';
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_KEY_CACHE_MS, PostgresKeyStore } from '../../src/store/postgres/postgres-keys.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();

describe.skipIf(!service.available)('PostgreSQL key store', () => {
  const pool = new pg.Pool({ connectionString: service.url, max: 6 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  });
  const freshSchema = (): string => {
    const schema = uniqueName('tg_keys');
    schemas.push(schema);
    return schema;
  };

  keyStoreContract('PostgresKeyStore', () => new PostgresKeyStore(pool, { schema: freshSchema() }));
  keyStoreContract(
    'PostgresKeyStore (no cache)',
    () => new PostgresKeyStore(pool, { schema: freshSchema(), cacheMs: 0 }),
  );

  it('a key created by one replica is accepted by another on its first lookup', async () => {
    const schema = freshSchema();
    const clock = new ManualClock();
    const a = new PostgresKeyStore(pool, { schema, clock });
    const b = new PostgresKeyStore(pool, { schema, clock });
    expect(await b.findByHash(hashVirtualKey('tg_not_yet'))).toBeNull();
    const { key, record } = await createKey(a, clock, { name: 'shared' });
    expect(await b.findByHash(hashVirtualKey(key))).toEqual(record);
  });

  it('a revoke through one replica is seen by another within the cache bound, and at once by itself', async () => {
    const schema = freshSchema();
    const clock = new ManualClock();
    const a = new PostgresKeyStore(pool, { schema, clock });
    const b = new PostgresKeyStore(pool, { schema, clock });
    const { key, record } = await createKey(a, clock, { name: 'x' });
    const hash = hashVirtualKey(key);
    expect((await b.findByHash(hash))?.revokedAt).toBeNull(); // b caches it now
    expect(await a.revoke(record.id, clock.now())).toBe(true);
    expect((await a.findByHash(hash))?.revokedAt).toBe(clock.now());
    // b may still answer from memory inside the bound…
    clock.advance(DEFAULT_KEY_CACHE_MS - 1);
    expect((await b.findByHash(hash))?.revokedAt).toBeNull();
    // …and never after it.
    clock.advance(1);
    expect((await b.findByHash(hash))?.revokedAt).not.toBeNull();
  });

  it('a failed last-use write does not fail the request it records', async () => {
    const lonely = new pg.Pool({ connectionString: service.url, max: 1 });
    const store = new PostgresKeyStore(lonely, { schema: freshSchema() });
    const { record } = await createKey(store, new ManualClock(), { name: 'x' });
    await lonely.end();
    await expect(store.touch(record.id, Date.now())).resolves.toBeUndefined();
    await expect(store.findById(record.id)).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE' });
  });
});
