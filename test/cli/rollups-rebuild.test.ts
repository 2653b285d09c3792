import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/store/rollups.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups, sqliteRollupReader } from '../../src/store/sqlite/sqlite-rollups.js';
import {
  appendInBatches,
  expectSecurityOf,
  expectSessionsOf,
  randomWindows,
  securityEvents,
} from '../contract/rollup-store.contract.js';
import { cli } from '../support/run-cli.js';

describe('tollgate rollups rebuild', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-rollups-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('recomputes damaged session summaries and security rollups from the store', async () => {
    const path = join(dir, 'r.db');
    const events = securityEvents(500, 61);
    let db = openSqlite(path);
    const store = new SqliteEventStore(db);
    const rollups = createSqliteRollups(db);
    store.addInTransactionHook((batch) => rollups.applyRollups(batch));
    await appendInBatches(store, events, 5);
    // Damage both: summaries claimed exact with wrong sums, security rows lost.
    db.exec('UPDATE session_totals SET cost_micro_usd = 0, exact = 1; DELETE FROM security_rollups');
    await store.close();

    const res = await cli(['rollups', 'rebuild', '--db', path, '--json']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const sessions = new Set(
      events.filter((e) => e.session_id && e.http_method !== 'ADMIN').map((e) => e.session_id),
    );
    expect(JSON.parse(res.out)).toMatchObject({ sessions: sessions.size });

    db = openSqlite(path);
    const reader = sqliteRollupReader(createSqliteRollups(db));
    const windows = randomWindows(
      Date.parse(events[0]!.timestamp) - HOUR_MS,
      Date.parse(events[events.length - 1]!.timestamp) + HOUR_MS,
      6,
      67,
    );
    await expectSessionsOf(reader, events, windows);
    await expectSecurityOf(reader, events, windows);
    db.close();
  });
});
