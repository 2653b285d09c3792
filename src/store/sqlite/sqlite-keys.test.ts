import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { authenticateRequest } from '../../access/authenticate.js';
import { KeyFingerprinter } from '../../access/key-fingerprint.js';
import { createKey, hashVirtualKey } from '../../access/virtual-keys.js';
import { ManualClock } from '../../core/clock.js';
import { SqliteKeyStore } from './sqlite-keys.js';

// The shared contract runs in src/access/key-store.contract.test.ts; these are SQLite specifics.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-keys-'));
  dirs.push(dir);
  return join(dir, 'tollgate.db');
}

describe('SqliteKeyStore', () => {
  it('keeps keys across reopen', async () => {
    const path = tempDb();
    const db1 = new Database(path);
    const { key, record } = await createKey(new SqliteKeyStore(db1), new ManualClock(), {
      name: 'x',
      rpm: 5,
    });
    db1.close();
    const db2 = new Database(path);
    expect(await new SqliteKeyStore(db2).findByHash(hashVirtualKey(key))).toEqual(record);
    db2.close();
  });

  it('a revoke through one handle refuses the next request served through another', async () => {
    const path = tempDb();
    const clock = new ManualClock();
    const gatewayDb = new Database(path);
    gatewayDb.pragma('journal_mode = WAL');
    const gateway = new SqliteKeyStore(gatewayDb);
    const { key, record } = await createKey(gateway, clock, { name: 'x' });
    const headers = { authorization: `Bearer ${key}` };
    // Twice: the first touch writes (and moves total_changes); the second is served from the
    // cache, so only data_version can reveal the revoke below.
    expect((await authenticateRequest(headers, gateway, clock, 'm', new KeyFingerprinter('s'))).ok).toBe(
      true,
    );
    expect((await authenticateRequest(headers, gateway, clock, 'm', new KeyFingerprinter('s'))).ok).toBe(
      true,
    );

    const cliDb = new Database(path); // `tollgate keys revoke` runs in another process
    expect(await new SqliteKeyStore(cliDb).revoke(record.id, clock.now())).toBe(true);
    cliDb.close();

    const after = await authenticateRequest(headers, gateway, clock, 'm', new KeyFingerprinter('s'));
    expect(after.ok).toBe(false);
    expect(after.fields.auth_result).toBe('REVOKED');
    gatewayDb.close();
  });

  it('its read cache never outlives a change made through the same connection', async () => {
    const db = new Database(':memory:');
    const store = new SqliteKeyStore(db);
    const { key, record } = await createKey(store, new ManualClock(), { name: 'x', allowedModels: ['a'] });
    expect((await store.findByHash(hashVirtualKey(key)))?.allowedModels).toEqual(['a']); // cached now
    db.prepare('UPDATE virtual_keys SET allowed_models = \'["b"]\', revoked_at = 7 WHERE id = ?').run(
      record.id,
    );
    const after = await store.findByHash(hashVirtualKey(key));
    expect(after?.allowedModels).toEqual(['b']);
    expect(after?.revokedAt).toBe(7);
    db.close();
  });

  it('coalesces last-use writes to one a minute', async () => {
    const db = new Database(':memory:');
    const store = new SqliteKeyStore(db);
    const clock = new ManualClock();
    const { record } = await createKey(store, clock, { name: 'x' });
    const t0 = clock.now();
    await store.touch(record.id, t0);
    await store.touch(record.id, t0 + 30_000);
    expect((await store.findById(record.id))?.lastUsedAt).toBe(t0);
    await store.touch(record.id, t0 + 61_000);
    expect((await store.findById(record.id))?.lastUsedAt).toBe(t0 + 61_000);
    db.close();
  });
});
