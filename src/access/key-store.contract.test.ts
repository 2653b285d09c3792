import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { SqliteKeyStore } from '../store/sqlite/sqlite-keys.js';
import { keyStoreContract } from './key-store.contract.js';
import { MemoryKeyStore } from './memory-key-store.js';

// One contract, every KeyStore implementation (STYLE.md rule 8); PostgreSQL runs it in test/contract.
const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

keyStoreContract('MemoryKeyStore', () => new MemoryKeyStore());
keyStoreContract('SqliteKeyStore', () => {
  const db = new Database(':memory:');
  open.push(db);
  return new SqliteKeyStore(db);
});
