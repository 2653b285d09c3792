import type { SqliteDatabase } from './open-sqlite.js';
import type { SqliteEventStore } from './sqlite-event-store.js';
import { createSqliteRollups, type SqliteRollups } from './sqlite-rollups.js';

/**
 * Everything that commits in the events' own write transaction on SQLite (today the rollups),
 * registered on `store`. Each connection that appends events needs it: the gateway's own
 * (open-storage.ts) and the append thread's (sqlite-append-worker.ts), so both write the same.
 */
export function attachSqliteWriteHooks(store: SqliteEventStore, db: SqliteDatabase): SqliteRollups {
  const rollups = createSqliteRollups(db);
  store.addInTransactionHook((events) => rollups.applyRollups(events));
  return rollups;
}
