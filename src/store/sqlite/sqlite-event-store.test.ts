import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATER_NULLABLE_FIELDS } from '../../core/audit-event.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const indexes = (db: Database.Database): string[] =>
  (
    db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name`,
      )
      .all() as { name: string }[]
  ).map((r) => r.name);

describe('SqliteEventStore migrations', () => {
  it('drops the unused (api_key_id, ts_ms) index, and the lookup indexes for their tables', () => {
    const db = new Database(':memory:');
    new SqliteEventStore(db);
    expect(indexes(db)).not.toContain('events_key');
    // A store from before the second migration: version 1, the index present, no quota columns.
    db.exec('CREATE INDEX events_key ON events(api_key_id, ts_ms)');
    for (const f of LATER_NULLABLE_FIELDS) db.exec(`ALTER TABLE events DROP COLUMN ${f}`);
    db.prepare(`UPDATE schema_migrations SET version = 1 WHERE component = 'events'`).run();
    new SqliteEventStore(db);
    expect(indexes(db)).toEqual(['events_chain_seq', 'events_id', 'events_ts']);
    expect(db.prepare(`SELECT version FROM schema_migrations WHERE component = 'events'`).pluck().get()).toBe(
      8,
    );
  });
});
