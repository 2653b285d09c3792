import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createContentCipher } from '../../src/privacy/content-cipher.js';
import { dataKeyStoreContract } from '../../src/privacy/data-key-store.contract.js';
import { eraseSubject } from '../../src/privacy/erase-subject.js';
import { PostgresDataKeyStore } from '../../src/store/postgres/postgres-data-keys.js';
import { postgresService, uniqueName } from '../support/services.js';
import { until } from '../support/until.js';

const service = await postgresService();

describe.skipIf(!service.available)('PostgreSQL data-key store', () => {
  const pool = new pg.Pool({ connectionString: service.url, max: 6 });
  const schemas: string[] = [];
  const stores: PostgresDataKeyStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  });
  const freshSchema = (): string => {
    const schema = uniqueName('tg_dk');
    schemas.push(schema);
    return schema;
  };
  /** A replica's store; polling is driven by the test (refresh()) rather than a timer. */
  const replica = async (schema: string): Promise<PostgresDataKeyStore> => {
    const s = await PostgresDataKeyStore.open(pool, { schema, refreshMs: 60_000 });
    stores.push(s);
    return s;
  };
  const key = (subject: string, keyId: string) => ({
    keyId,
    subject,
    wrapped: Buffer.alloc(60, keyId.length),
    createdAtMs: 1000,
  });

  dataKeyStoreContract('PostgreSQL', () => replica(freshSchema()));

  it('a key made on one replica is used by another once it has polled; a restarted replica loads it', async () => {
    const schema = freshSchema();
    const a = await replica(schema);
    const b = await replica(schema);
    a.putIfAbsent(key('user:a', 'ka'));
    await a.flush();
    expect(b.getBySubject('user:a')).toBeNull();
    await b.refresh();
    expect(b.getBySubject('user:a')?.keyId).toBe('ka');
    expect(b.putIfAbsent(key('user:a', 'kb')).keyId).toBe('ka');
    expect((await replica(schema)).getBySubject('user:a')?.keyId).toBe('ka');
  });

  it('erasure destroys the keys every replica made for the person, and every replica drops them on its next poll', async () => {
    const schema = freshSchema();
    const a = await replica(schema);
    const b = await replica(schema);
    const clock = new ManualClock();
    const master = randomBytes(32);
    const cipherA = createContentCipher({ masterKey: master, store: a, clock });
    const cipherB = createContentCipher({ masterKey: master, store: b, clock });
    // Both replicas see alice before either has polled: two keys.
    const onA = cipherA.encryptFor('alice', 'from a');
    const onB = cipherB.encryptFor('alice', 'from b');
    const bobs = cipherA.encryptFor('bob', 'bob text');
    await Promise.all([a.flush(), b.flush()]);
    await b.refresh();
    expect(await cipherB.decryptContent(onA)).toBe('from a');

    const made = [a.getBySubject('user:alice')!.keyId, b.getBySubject('user:alice')!.keyId].sort();
    const cli = await PostgresDataKeyStore.open(pool, { schema, refreshMs: 0 }); // `tollgate erase`
    const erased = await eraseSubject(cli, 'alice', clock);
    expect(erased.keysDestroyed).toBe(2);
    expect(erased.keyIds).toEqual(made);
    expect((await eraseSubject(cli, 'alice', clock)).keysDestroyed).toBe(0);

    await Promise.all([a.refresh(), b.refresh()]);
    for (const c of [cipherA, cipherB]) {
      expect(await c.decryptContent(onA)).toBeNull();
      expect(await c.decryptContent(onB)).toBeNull();
      expect(await c.decryptContent(bobs)).toBe('bob text');
    }
    // Alice coming back gets a new key, stored for everyone.
    const later = cipherA.encryptFor('alice', 'again');
    await a.flush();
    await b.refresh();
    expect(await cipherB.decryptContent(later)).toBe('again');
    const rows = await pool.query(
      `SELECT COUNT(*)::int AS n FROM "${schema}".data_keys WHERE subject = 'user:alice' AND wrapped_key IS NOT NULL`,
    );
    expect(rows.rows[0]).toEqual({ n: 1 });
  });

  it('a replica polling on its timer drops an erased key within its refresh interval (no notification)', async () => {
    const schema = freshSchema();
    const polling = await PostgresDataKeyStore.open(pool, { schema, refreshMs: 100, listen: false });
    stores.push(polling);
    polling.putIfAbsent(key('user:t', 'kt'));
    await polling.flush();
    const cli = await PostgresDataKeyStore.open(pool, { schema, refreshMs: 0 });
    expect(await cli.destroy('user:t', 7)).toEqual(['kt']);
    const erasedAt = Date.now();
    await until(
      'the polling store forgets the destroyed key',
      () => polling.getBySubject('user:t') === null,
      5_000,
      10,
    );
    expect(polling.getBySubject('user:t')).toBeNull();
    expect(Date.now() - erasedAt).toBeLessThan(100 + 1_000); // the interval, plus a loaded machine's delay
  });

  it('upgrading a version-1 table: subjects erased before get a tombstone, live keys stay, new keys are accepted', async () => {
    const schema = freshSchema();
    const s = `"${schema}"`;
    // The table as version 1 left it: one erased person, one live.
    await pool.query(`CREATE SCHEMA ${s};
      CREATE TABLE ${s}.schema_migrations (component text PRIMARY KEY, version integer NOT NULL);
      INSERT INTO ${s}.schema_migrations VALUES ('data_keys', 1);
      CREATE TABLE ${s}.data_keys (key_id text PRIMARY KEY, subject text NOT NULL, wrapped_key bytea, created_at_ms bigint NOT NULL,
        destroyed_at_ms bigint, changed_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE INDEX data_keys_subject ON ${s}.data_keys (subject) WHERE destroyed_at_ms IS NULL;
      CREATE INDEX data_keys_changed ON ${s}.data_keys (changed_at);
      INSERT INTO ${s}.data_keys VALUES ('old-erased', 'user:gone', NULL, 1, 5, now()), ('old-live', 'user:here', '\\x00', 1, NULL, now());`);
    const r = await replica(schema);
    expect(
      (await pool.query(`SELECT subject, erased_at_ms::int AS at FROM ${s}.data_key_erasures`)).rows,
    ).toEqual([{ subject: 'user:gone', at: 5 }]);
    expect(r.getBySubject('user:here')?.keyId).toBe('old-live');
    // The person erased before the upgrade comes back: this replica has seen that erasure, so the key is a new period.
    r.putIfAbsent(key('user:gone', 'new-gone'));
    await r.flush();
    expect((await r.findById('new-gone'))?.subject).toBe('user:gone');
  });

  it('erasing on the replica that made a key still in flight destroys it too', async () => {
    const a = await replica(freshSchema());
    a.putIfAbsent(key('user:c', 'kc')); // not awaited: the insert is in flight
    expect(await a.destroy('user:c', 5)).toEqual(['kc']);
    expect(a.getBySubject('user:c')).toBeNull();
  });
});
