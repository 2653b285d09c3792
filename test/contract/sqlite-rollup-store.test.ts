import { describe } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups } from '../../src/store/sqlite/sqlite-rollups.js';
import { rollupStoreContract } from './rollup-store.contract.js';

describe('SQLite rollups', () => {
  rollupStoreContract('SQLite', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const rollups = createSqliteRollups(db);
    store.addInTransactionHook((events) => rollups.applyRollups(events));
    return {
      append: (events) => store.append(events),
      // `async` wraps the synchronous reads into the RollupReader shape.
      rollups: {
        groups: async (dimension, sinceMs, untilMs) => rollups.groups(dimension, sinceMs, untilMs),
        days: async (sinceMs, untilMs) => rollups.days(sinceMs, untilMs),
        sessions: async (sinceMs, untilMs) => rollups.sessions(sinceMs, untilMs),
      },
      rebuildSessionTotals: async () => {
        rollups.rebuildSessionTotals();
      },
      close: () => store.close(),
    };
  });
});
