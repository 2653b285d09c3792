import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/store/rollups.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups, sqliteRollupReader } from '../../src/store/sqlite/sqlite-rollups.js';
import {
  appendInBatches,
  expectProviderQuotaOf,
  expectSecurityOf,
  expectSecurityReportOf,
  expectSessionsOf,
  mixedEvents,
  randomWindows,
  rollupStoreContract,
  securityEvents,
} from './rollup-store.contract.js';

describe('SQLite rollups', () => {
  rollupStoreContract('SQLite', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const rollups = createSqliteRollups(db);
    store.addInTransactionHook((events) => rollups.applyRollups(events));
    return {
      append: (events) => store.append(events),
      rollups: sqliteRollupReader(rollups),
      rebuildSessionTotals: async () => {
        rollups.rebuildSessionTotals();
      },
      rebuildSecurity: async () => rollups.rebuildSecurity(),
      close: () => store.close(),
    };
  });

  // Sessions that need segments read by range scans of day summaries and edge hours, never by id;
  // session pages ranked by the window's range scan; growing sessions through the rank index walk.
  rollupStoreContract('SQLite, sessions by range scans', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const rollups = createSqliteRollups(db, { sessionsByIdUpTo: 0, growingSortUpTo: 0 });
    store.addInTransactionHook((events) => rollups.applyRollups(events));
    return {
      append: (events) => store.append(events),
      rollups: sqliteRollupReader(rollups),
      rebuildSessionTotals: async () => {
        rollups.rebuildSessionTotals();
      },
      rebuildSecurity: async () => rollups.rebuildSecurity(),
      close: () => store.close(),
    };
  });

  it('builds the security rollups of a store written before them from its events, once', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const events = securityEvents(600, 53);
    const first = createSqliteRollups(db);
    store.addInTransactionHook((batch) => first.applyRollups(batch));
    await appendInBatches(store, events, 3);
    db.exec(`DROP TABLE security_rollups; DELETE FROM rollup_state WHERE name LIKE 'security_rollups%'`);
    const reopened = createSqliteRollups(db);
    const windows = randomWindows(
      Date.parse(events[0]!.timestamp) - HOUR_MS,
      Date.parse(events[events.length - 1]!.timestamp) + HOUR_MS,
      8,
      59,
    );
    await expectSecurityOf(sqliteRollupReader(reopened), events, windows);
    // Opened again: built once, not added a second time.
    await expectSecurityOf(sqliteRollupReader(createSqliteRollups(db)), events, windows);
    expect(db.prepare('SELECT COUNT(*) FROM security_rollups').pluck().get()).toBeGreaterThan(0);
    await store.close();
  });

  it('builds the provider quota summary of a store written before it from its events, once', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const events = securityEvents(600, 97);
    const first = createSqliteRollups(db);
    store.addInTransactionHook((batch) => first.applyRollups(batch));
    await appendInBatches(store, events, 3);
    db.exec(`DROP TABLE provider_quota_rollups; DELETE FROM rollup_state WHERE name = 'provider_quota_v1'`);
    const windows = randomWindows(
      Date.parse(events[0]!.timestamp) - HOUR_MS,
      Date.parse(events[events.length - 1]!.timestamp) + HOUR_MS,
      8,
      101,
    );
    await expectProviderQuotaOf(sqliteRollupReader(createSqliteRollups(db)), events, windows);
    // Opened again: built once, not added a second time.
    await expectProviderQuotaOf(sqliteRollupReader(createSqliteRollups(db)), events, windows);
    expect(db.prepare('SELECT COUNT(*) FROM provider_quota_rollups').pluck().get()).toBeGreaterThan(0);
    await store.close();
  });

  it('adds the report kinds (events, error rates, anomalous sessions) to a store written before them, once', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const events = securityEvents(600, 71);
    const first = createSqliteRollups(db);
    store.addInTransactionHook((batch) => first.applyRollups(batch));
    await appendInBatches(store, events, 5);
    db.exec(
      `DELETE FROM security_rollups WHERE kind >= 2; DELETE FROM rollup_state WHERE name = 'security_rollups_report_v1'`,
    );
    const windows = randomWindows(
      Date.parse(events[0]!.timestamp) - HOUR_MS,
      Date.parse(events[events.length - 1]!.timestamp) + HOUR_MS,
      8,
      73,
    );
    await expectSecurityReportOf(sqliteRollupReader(createSqliteRollups(db)), events, windows);
    await expectSecurityReportOf(sqliteRollupReader(createSqliteRollups(db)), events, windows);
    await store.close();
  });

  it('gives a store written before the day summaries inexact ones from its segments (exact answers), exact after a rebuild', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const start = Date.UTC(2026, 0, 5, 22, 17, 31);
    const events = mixedEvents(500, 83).map((e) => {
      e.timestamp = new Date(start + (Date.parse(e.timestamp) - start) * 8).toISOString();
      return e;
    });
    const first = createSqliteRollups(db);
    store.addInTransactionHook((batch) => first.applyRollups(batch));
    await appendInBatches(store, events, 7);
    db.exec(`DROP TABLE session_days; DELETE FROM rollup_state WHERE name = 'session_days_v1'`);
    const reopened = createSqliteRollups(db, { sessionsByIdUpTo: 0 });
    expect(db.prepare('SELECT COUNT(*) FROM session_days WHERE exact = 0').pluck().get()).toBeGreaterThan(0);
    const windows = randomWindows(start - HOUR_MS, Date.parse(events[events.length - 1]!.timestamp), 15, 89);
    await expectSessionsOf(sqliteRollupReader(reopened), events, windows);
    reopened.rebuildSessionTotals();
    expect(db.prepare('SELECT COUNT(*) FROM session_days WHERE exact = 0').pluck().get()).toBe(0);
    await expectSessionsOf(sqliteRollupReader(reopened), events, windows);
    await store.close();
  });
});
