import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('SQLite (file, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-contract-'));
  return {
    store: new SqliteEventStore(openSqlite(join(dir, 'tollgate.db'))),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
