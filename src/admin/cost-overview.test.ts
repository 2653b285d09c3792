import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import { SqliteKeyStore } from '../store/sqlite/sqlite-keys.js';
import { createSqliteRollups, DAY_MS, HOUR_MS, sqliteRollupReader } from '../store/sqlite/sqlite-rollups.js';
import { costOverview } from './cost-overview.js';

const NOW = Date.UTC(2026, 5, 30, 12);

function request(i: number, ts: number, session: string, input: number): AuditEvent {
  const e = blankEvent({ id: `e${i}`, timestamp: new Date(ts).toISOString(), source: 'gateway' });
  e.status = 'SUCCESS';
  e.usage_source = 'reported';
  e.session_id = session;
  e.input_tokens = input;
  e.output_tokens = 10;
  e.cost_micro_usd = input;
  return e;
}

describe('costOverview', () => {
  it('lists growing sessions over the whole window, not its newest hours', async () => {
    const db = new Database(':memory:');
    const rollups = createSqliteRollups(db);
    // A leak 20 days ago (six requests, input doubling), a steady session yesterday.
    const events = [
      ...[1, 2, 4, 8, 16, 32].map((x, i) => request(i, NOW - 20 * DAY_MS + i * 60_000, 'old-leak', 1000 * x)),
      ...[0, 1, 2, 3, 4, 5].map((i) => request(10 + i, NOW - DAY_MS + i * HOUR_MS, 'steady', 900)),
    ];
    db.transaction(() => rollups.applyRollups(events))();
    const view = await costOverview(
      { rollups: sqliteRollupReader(rollups), keys: new SqliteKeyStore(db) },
      { by: 'user', sinceMs: NOW - 30 * DAY_MS, untilMs: NOW, nowMs: NOW },
    );
    expect(view.growth_since).toBe(new Date(NOW - 30 * DAY_MS).toISOString());
    expect(view.growing_sessions.map((r) => [r.key, r.growth?.leaking])).toEqual([['old-leak', true]]);
  });
});
