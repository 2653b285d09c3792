import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../core/audit-event.js';
import type { EventFilter } from '../event-store.js';
import { openStoreTables } from '../store-tables.js';
import { testEvent } from '../../../test/support/test-event.js';
import { eventsSql } from './sqlite-event-filter.js';
import { LOOKUPS } from './sqlite-event-lookups.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const T0 = Date.UTC(2026, 0, 1);
const USERS = ['ann', 'bob', 'cy'];
const SESSIONS = ['s1', 's2', 's3', 's4'];
const FEATURES = ['chat', 'search'];
const VKEYS = ['vk_a', 'vk_b'];

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
        feature_name: r() < 0.25 ? null : FEATURES[Math.floor(r() * FEATURES.length)]!,
        virtual_key_id: r() < 0.4 ? null : VKEYS[Math.floor(r() * VKEYS.length)]!,
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
        (f.feature === undefined || e.feature_name === f.feature) &&
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
  { status: 'SERVER_ERROR' },
  { status: 'SUCCESS', sinceMs: T0 + 25_000 },
  ...FEATURES.map((feature) => ({ feature })),
  { feature: 'search', status: 'SERVER_ERROR' },
  { session: 's1', feature: 'chat' },
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

describe('lookups (user, session, virtual key, feature, status) merged behind the append', () => {
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
    expect(rows('events_by_vkey')).toBe(all.filter((e) => e.virtual_key_id !== null).length);
    expect(rows('events_by_feature')).toBe(all.filter((e) => e.feature_name !== null).length);
    expect(rows('events_by_status')).toBe(all.length);
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
    for (const table of LOOKUPS.map((l) => l.table)) {
      const orphans = db
        .prepare(
          `SELECT COUNT(*) FROM ${table} l LEFT JOIN events e ON e.rowid_ = l.rowid_ WHERE e.rowid_ IS NULL`,
        )
        .pluck()
        .get();
      expect(orphans, table).toBe(0);
    }
  });

  it('user, feature and virtual key budget seeds sum the merged and unmerged events of the window', async () => {
    const db = new Database(':memory:');
    const store = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    const all = events(79, 3);
    store.appendSync(all.slice(0, 64));
    store.appendSync(all.slice(64));
    expect(mark(db)).toBe(64);
    const tables = await openStoreTables({ kind: 'sqlite', db, store } as never);
    const since = T0 + 20_000;
    const inWindow = (e: AuditEvent): boolean => Date.parse(e.timestamp) >= since;
    const sum = (match: (e: AuditEvent) => boolean): number =>
      all.filter((e) => match(e) && inWindow(e)).reduce((s, e) => s + e.cost_micro_usd!, 0);
    const byUser = (e: AuditEvent): boolean => e.user_id === 'bob';
    const byFeature = (e: AuditEvent): boolean => e.feature_name === 'search';
    const byVkey = (e: AuditEvent): boolean => e.virtual_key_id === 'vk_b';
    // Each sum takes events from both arms: the merged ones and the unmerged tail past the mark.
    for (const match of [byUser, byFeature, byVkey]) {
      expect(all.slice(0, 64).some((e) => match(e) && inWindow(e))).toBe(true);
      expect(all.slice(64).some((e) => match(e) && inWindow(e))).toBe(true);
    }
    expect(await tables.scopeSpentSince('user', 'bob', since)).toBe(sum(byUser));
    expect(await tables.scopeSpentSince('feature', 'search', since)).toBe(sum(byFeature));
    expect(await tables.keySpentSince('vk_b', since)).toBe(sum(byVkey));
  });

  const OLD_INDEXES = {
    events_user: 'user_id',
    events_session: 'session_id',
    events_vkey: 'virtual_key_id',
    events_feature: 'feature_name',
    events_status: 'status',
  };
  const eventIndexes = (db: Database.Database): string[] =>
    db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`)
      .pluck()
      .all() as string[];

  it('a store written before the lookups (version 6) is migrated: every lookup finds its events, the indexes gone', async () => {
    const db = new Database(':memory:');
    const all = events(40, 5);
    new SqliteEventStore(db);
    // Back to version 6: the five indexes, no lookup tables, the events written with them.
    db.exec(`${LOOKUPS.map((l) => `DROP TABLE ${l.table};`).join(' ')} DROP TABLE event_lookups_mark;
      ${Object.entries(OLD_INDEXES)
        .map(([name, column]) => `CREATE INDEX ${name} ON events(${column}, ts_ms);`)
        .join(' ')}
      UPDATE schema_migrations SET version = 6 WHERE component = 'events';`);
    const stmt = db.prepare(
      `INSERT INTO events (id, ts_ms, timestamp, user_id, session_id, status, feature_name, virtual_key_id, cost_micro_usd, chain_id, seq, source, schema_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'gateway', 1)`,
    );
    for (const e of all)
      stmt.run(
        e.id,
        Date.parse(e.timestamp),
        e.timestamp,
        e.user_id,
        e.session_id,
        e.status,
        e.feature_name,
        e.virtual_key_id,
        e.cost_micro_usd,
        'c',
        e.seq,
      );
    const after = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    expect(mark(db)).toBe(40);
    for (const name of Object.keys(OLD_INDEXES)) expect(eventIndexes(db)).not.toContain(name);
    await expectReadsMatch(after, all);
    expect(db.prepare('SELECT COUNT(*) FROM events_by_status').pluck().get()).toBe(40);
  });

  it('a version 7 store with unmerged events is migrated: the user and session tables catch up, the new ones fill', async () => {
    const db = new Database(':memory:');
    const all = events(45, 9);
    const store = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    store.appendSync(all.slice(0, 32));
    store.appendSync(all.slice(32));
    expect(mark(db)).toBe(32);
    // Back to version 7: user and session merged through 32, the other three still indexes.
    db.exec(`DROP TABLE events_by_vkey; DROP TABLE events_by_feature; DROP TABLE events_by_status;
      CREATE INDEX events_vkey ON events(virtual_key_id, ts_ms); CREATE INDEX events_feature ON events(feature_name, ts_ms);
      CREATE INDEX events_status ON events(status, ts_ms);
      UPDATE schema_migrations SET version = 7 WHERE component = 'events';`);
    const after = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    expect(mark(db)).toBe(45);
    expect(db.prepare('SELECT COUNT(*) FROM events_by_user').pluck().get()).toBe(
      all.filter((e) => e.user_id !== null).length,
    );
    for (const name of ['events_vkey', 'events_feature', 'events_status'])
      expect(eventIndexes(db)).not.toContain(name);
    await expectReadsMatch(after, all);
  });

  it.each([
    ['user', { user: 'ann' }, 'user_id'],
    ['status', { status: 'SERVER_ERROR' as const }, 'status'],
    ['feature', { feature: 'chat' }, 'feature_name'],
    ['virtual key', { virtualKey: 'vk_a' }, 'virtual_key_id'],
  ])(
    'a %s-filtered page reads the lookup table in key order and the events past the mark by rowid',
    (_, filter, column) => {
      const db = new Database(':memory:');
      new SqliteEventStore(db);
      const { sql, params } = eventsSql(
        '*',
        { ...filter, before: { tsMs: T0, rowid: 9 } },
        (col) => ` ORDER BY ${col('ts_ms')} DESC, ${col('rowid_')} DESC LIMIT 51`,
      );
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
        (p) => p.detail,
      );
      // The merged arm walks the key's lookup rows newest first from the page position: no sort.
      expect(plan).toContainEqual(`SEARCH l USING PRIMARY KEY (${column}=? AND ts_ms<?)`);
      expect(plan).toContainEqual(expect.stringMatching(/^SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)$/));
      expect(plan).toContainEqual(
        expect.stringMatching(/^SEARCH events USING INTEGER PRIMARY KEY \(rowid>\?\)$/),
      );
      expect(plan.filter((d) => /SCAN (events|l)\b/.test(d))).toEqual([]);
    },
  );

  it('a --follow poll (afterCursor) reads the rowid range past its cursor, not a lookup', async () => {
    const db = new Database(':memory:');
    const store = new SqliteEventStore(db, { lookupMergeEvery: 16 });
    const all = events(60, 4);
    store.appendSync(all);
    const { sql, params } = eventsSql('*', { status: 'SUCCESS', user: 'ann', afterCursor: 50 });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
      (p) => p.detail,
    );
    expect(plan).toEqual([expect.stringMatching(/^SEARCH events USING INTEGER PRIMARY KEY \(rowid>\?\)$/)]);
    const want = all
      .map((e, i) => ({ e, rowid: i + 1 }))
      .filter(({ e, rowid }) => rowid > 50 && e.status === 'SUCCESS' && e.user_id === 'ann')
      .map(({ e }) => e.id);
    expect(want.length).toBeGreaterThan(0);
    const got = await store.query({ status: 'SUCCESS', user: 'ann', afterCursor: 50, order: 'asc' });
    expect(got.map((e) => e.id)).toEqual(want);
  });

  it('a newest-first list in append order (query) sorts the lookup rows alone, then reads only the events it keeps', () => {
    const db = new Database(':memory:');
    new SqliteEventStore(db);
    const { sql, params } = eventsSql(
      '*',
      { status: 'SUCCESS' },
      (col) => ` ORDER BY ${col('rowid_')} DESC LIMIT 20`,
    );
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as {
      id: number;
      parent: number;
      detail: string;
    }[];
    const k = plan.find((p) => p.detail === 'CO-ROUTINE k' || p.detail === 'MATERIALIZE k');
    expect(k, plan.map((p) => p.detail).join(' | ')).toBeDefined();
    // Inside k: the lookup's primary key and the sort, no event row.
    const inK = plan.filter((p) => p.parent === k!.id).map((p) => p.detail);
    expect(inK).toEqual(['SEARCH l USING PRIMARY KEY (status=?)', 'USE TEMP B-TREE FOR ORDER BY']);
    // The event rows are read by rowid for k's rows only.
    expect(plan.filter((p) => p.parent === k!.parent).map((p) => p.detail)).toContain(
      'SEARCH e USING INTEGER PRIMARY KEY (rowid=?)',
    );
  });

  it('a count reads the lookup alone', () => {
    const db = new Database(':memory:');
    new SqliteEventStore(db);
    const { sql, params } = eventsSql(['rowid_'], { feature: 'chat', sinceMs: T0 });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map(
      (p) => p.detail,
    );
    expect(plan).toContain('SEARCH l USING PRIMARY KEY (feature_name=? AND ts_ms>?)');
    expect(plan.filter((d) => /\be USING\b/.test(d))).toEqual([]);
  });
});
