import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../core/audit-event.js';
import type { EventFilter } from '../event-store.js';
import { openStoreTables } from '../store-tables.js';
import { testEvent } from '../../../test/support/test-event.js';
import { eventsSql } from './sqlite-event-filter.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const T0 = Date.UTC(2026, 0, 1);
const USERS = ['ann', 'bob', 'cy'];
const SESSIONS = ['s1', 's2', 's3', 's4'];

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/**
 * Events in append order (rowid i + 1) with users, sessions (some null) and timestamps that do not
 * follow the append order (late events), so the reads' (ts_ms, rowid) order is exercised.
 */
function events(n: number, seed = 7): AuditEvent[] {
  const r = random(seed);
  return Array.from({ length: n }, (_, i) =>
    testEvent(
      {
        timestamp: new Date(T0 + Math.floor(r() * 50) * 1000).toISOString(),
        user_id: r() < 0.15 ? null : USERS[Math.floor(r() * USERS.length)]!,
        session_id: r() < 0.3 ? null : SESSIONS[Math.floor(r() * SESSIONS.length)]!,
        status: r() < 0.2 ? 'SERVER_ERROR' : 'SUCCESS',
        cost_micro_usd: i + 1,
        chain_id: 'c',
        seq: i + 1,
      },
      i + 1,
    ),
  );
}

/** What a filter matches, in the page order (ts desc, append order desc), by the reference. */
function expected(all: readonly AuditEvent[], f: EventFilter): string[] {
  return all
    .map((e, i) => ({ e, rowid: i + 1, ts: Date.parse(e.timestamp) }))
    .filter(
      ({ e, ts }) =>
        (f.user === undefined || e.user_id === f.user) &&
        (f.session === undefined || e.session_id === f.session) &&
        (f.status === undefined || e.status === f.status) &&
        (f.sinceMs === undefined || ts >= f.sinceMs) &&
        (f.untilMs === undefined || ts < f.untilMs),
    )
    .sort((a, b) => b.ts - a.ts || b.rowid - a.rowid)
    .map(({ e }) => e.id);
}

const FILTERS: EventFilter[] = [
  ...USERS.map((user) => ({ user })),
  ...SESSIONS.map((session) => ({ session })),
  { user: 'ann', session: 's2' },
  { user: 'bob', status: 'SERVER_ERROR' },
  { session: 's3', sinceMs: T0 + 10_000, untilMs: T0 + 40_000 },
  { user: 'nobody' },
];

async function allPages(store: SqliteEventStore, f: EventFilter): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.page({ ...f, limit: 7 }, cursor);
    ids.push(...page.events.map((e) => e.id));
    cursor = page.next;
  } while (cursor !== null);
  return ids;
}

async function expectReadsMatch(store: SqliteEventStore, all: readonly AuditEvent[]): Promise<void> {
  for (const f of FILTERS) {
    const want = expected(all, f);
    expect(await allPages(store, f), JSON.stringify(f)).toEqual(want);
    expect(await store.count(f), JSON.stringify(f)).toBe(want.length);
    const byRowid = [...want].sort();
    // query() is in append order; test ids sort as their numbers, which are the append order.
    expect((await store.query({ ...f, order: 'asc' })).map((e) => e.id)).toEqual(byRowid);
    expect((await store.query({ ...f, limit: 3 })).map((e) => e.id)).toEqual(byRowid.reverse().slice(0, 3));
  }
}

const mark = (db: Database.Database): number =>
  db.prepare('SELECT through_rowid FROM event_lookups_mark').pluck().get() as number;

describe('user and session lookups merged behind the append', () => {
  it('reads every event whether merged or not: pages, counts and lists match the reference', async () => {
    const db = new Database(':memory:');
    const store = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    const all = events(150);
    // Uneven batches: merges land inside and between them, and the last events stay unmerged.
    for (let i = 0, size = 1; i < all.length; i += size, size = (size % 9) + 1)
      store.appendSync(all.slice(i, i + size));
    expect(mark(db)).toBeGreaterThan(100);
    expect(mark(db)).toBeLessThan(150);
    await expectReadsMatch(store, all);
    // Every event merged: the unmerged arm is empty.
    expect(store.lookups.mergeAll()).toBeGreaterThan(0);
    expect(mark(db)).toBe(150);
    await expectReadsMatch(store, all);
  });

  it('merges once MERGE_EVERY events gathered, in the append transaction, each event once', () => {
    const db = new Database(':memory:');
    const store = new SqliteEventStore(db, { lookupMergeEvery: 10 });
    const all = events(25);
    store.appendSync(all.slice(0, 9));
    expect(mark(db)).toBe(0);
    store.appendSync(all.slice(9, 12));
    expect(mark(db)).toBe(12);
    store.appendSync(all.slice(12, 25));
    expect(mark(db)).toBe(25);
    const rows = (table: string): number =>
      db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
    expect(rows('events_by_user')).toBe(all.filter((e) => e.user_id !== null).length);
    expect(rows('events_by_session')).toBe(all.filter((e) => e.session_id !== null).length);
    // A replayed duplicate inserts nothing and moves nothing.
    store.appendSync(all.slice(0, 12));
    expect(rows('events_by_user')).toBe(all.filter((e) => e.user_id !== null).length);
  });

  it('deleting a chain range removes its lookup rows, merged or not, and reads stay right', async () => {
    const db = new Database(':memory:');
    const store = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    const all = events(52, 11);
    store.appendSync(all.slice(0, 40));
    store.appendSync(all.slice(40));
    expect(mark(db)).toBe(40);
    // Seqs 31–50 straddle the mark; 35 is kept.
    expect(await store.deleteChainRange('c', 31, 50, [35])).toBe(19);
    const left = all.filter((e) => e.seq! < 31 || e.seq! > 50 || e.seq === 35);
    await expectReadsMatch(store, left);
    const orphans = db
      .prepare(
        `SELECT COUNT(*) FROM events_by_user l LEFT JOIN events e ON e.rowid_ = l.rowid_ WHERE e.rowid_ IS NULL`,
      )
      .pluck()
      .get();
    expect(orphans).toBe(0);
  });

  it('a user budget seed sums the merged and unmerged events of the window', async () => {
    const db = new Database(':memory:');
    const store = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    const all = events(70, 3);
    store.appendSync(all);
    const tables = await openStoreTables({ kind: 'sqlite', db, store } as never);
    const since = T0 + 20_000;
    const want = all
      .filter((e) => e.user_id === 'bob' && Date.parse(e.timestamp) >= since)
      .reduce((s, e) => s + e.cost_micro_usd!, 0);
    expect(want).toBeGreaterThan(0);
    expect(await tables.scopeSpentSince('user', 'bob', since)).toBe(want);
  });

  it('a store written before the lookups is migrated: its users and sessions are found, the indexes gone', async () => {
    const db = new Database(':memory:');
    const all = events(40, 5);
    new SqliteEventStore(db);
    // Back to version 6: the two indexes, no lookup tables, the events written with them.
    db.exec(`DROP TABLE events_by_user; DROP TABLE events_by_session; DROP TABLE event_lookups_mark;
      CREATE INDEX events_user ON events(user_id, ts_ms); CREATE INDEX events_session ON events(session_id, ts_ms);
      UPDATE schema_migrations SET version = 6 WHERE component = 'events';`);
    const stmt = db.prepare(
      `INSERT INTO events (id, ts_ms, timestamp, user_id, session_id, status, cost_micro_usd, chain_id, seq, source, schema_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'gateway', 1)`,
    );
    for (const e of all)
      stmt.run(
        e.id,
        Date.parse(e.timestamp),
        e.timestamp,
        e.user_id,
        e.session_id,
        e.status,
        e.cost_micro_usd,
        'c',
        e.seq,
      );
    const after = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    expect(mark(db)).toBe(40);
    const names = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`)
      .pluck()
      .all();
    expect(names).not.toContain('events_user');
    expect(names).not.toContain('events_session');
    await expectReadsMatch(after, all);
  });

  it('a user-filtered page reads the lookup table in key order and the events past the mark by rowid', () => {
    const db = new Database(':memory:');
    new SqliteEventStore(db);
    const { sql, params } = eventsSql(
      '*',
      { user: 'ann', before: { tsMs: T0, rowid: 9 } },
      (col) => ` ORDER BY ${col('ts_ms')} DESC, ${col('rowid_')} DESC LIMIT 51`,
    );
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
      (p) => p.detail,
    );
    // The merged arm walks the user's lookup rows newest first from the page position: no sort.
    expect(plan).toContainEqual(
      expect.stringMatching(/^SEARCH l USING PRIMARY KEY \(user_id=\? AND ts_ms<\?\)$/),
    );
    expect(plan).toContainEqual(expect.stringMatching(/^SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)$/));
    expect(plan).toContainEqual(
      expect.stringMatching(/^SEARCH events USING INTEGER PRIMARY KEY \(rowid>\?\)$/),
    );
    expect(plan.filter((d) => /SCAN (events|l)\b/.test(d))).toEqual([]);
  });
});
