import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { dataKeyStoreContract } from './data-key-store.contract.js';
import { InMemoryDataKeyStore, subjectOf } from './data-key-store.js';
import { SqliteDataKeyStore } from '../store/sqlite/sqlite-data-key-store.js';

dataKeyStoreContract('in-memory', () => new InMemoryDataKeyStore());
dataKeyStoreContract('sqlite', () => new SqliteDataKeyStore(new Database(':memory:')));

describe('SqliteDataKeyStore', () => {
  it('keeps the erased subject row with destroyed_at and no key bytes', async () => {
    const db = new Database(':memory:');
    const s = new SqliteDataKeyStore(db);
    s.putIfAbsent({ keyId: 'k1', subject: 'user:a', wrapped: Buffer.alloc(60, 1), createdAtMs: 5 });
    await s.destroy('user:a', 9);
    expect(
      db.prepare('SELECT subject, key_id, wrapped_key, created_at, destroyed_at FROM data_keys').all(),
    ).toEqual([{ subject: 'user:a', key_id: 'k1', wrapped_key: null, created_at: 5, destroyed_at: 9 }]);
  });
});

describe('subjectOf', () => {
  it('namespaces users so "anonymous" the user is not the shared anonymous subject', () => {
    expect(subjectOf(null)).toBe('anonymous');
    expect(subjectOf('anonymous')).toBe('user:anonymous');
  });
});
