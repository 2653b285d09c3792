/**
 * Events by user, session, virtual key, feature and status, merged behind the append (issue 22:
 * pages per commit).
 *
 * An index on (user_id, ts_ms) costs every append transaction one page per distinct user in it:
 * each user's newest entries sit on their own leaf, and a commit rewrites every leaf it touched
 * into the WAL (16 KiB each). On the gateway's c=1 flush of ~15 events that was half the pages
 * written, and sessions cost as much again; the virtual key, feature and status indexes cost one
 * to two pages each. So these lookups are tables, not indexes, filled from the events in rowid
 * batches of MERGE_EVERY, sorted, inside an append transaction: a merge touches each key's leaf
 * once per batch instead of once per commit. The events table keeps the indexes its chain and
 * time order need (id, chain and seq, ts_ms), each appended at its end.
 *
 * Events past the mark (`event_lookups_mark.through_rowid`) are not in the tables yet; readers take
 * them from the events table's rowid range past the mark (at most about MERGE_EVERY rows), in the
 * same statement, so a read sees every event (sqlite-event-filter.ts). Rowids never go back
 * (AUTOINCREMENT), so "past the mark" is exactly "not merged".
 */
import type { SqliteDatabase } from './open-sqlite.js';

/** Events appended between merges: the most a reader scans past the mark. */
export const MERGE_EVERY = 2048;

/**
 * The lookup tables and the filter field each serves, in the order a filter prefers them (the
 * first one it names drives the read). `virtualKey` is no EventFilter field: the virtual key's
 * budget seed reads through it (store-tables.ts).
 */
export const LOOKUPS = [
  { field: 'user', column: 'user_id', table: 'events_by_user' },
  { field: 'session', column: 'session_id', table: 'events_by_session' },
  { field: 'virtualKey', column: 'virtual_key_id', table: 'events_by_vkey' },
  { field: 'feature', column: 'feature_name', table: 'events_by_feature' },
  { field: 'status', column: 'status', table: 'events_by_status' },
] as const;

export type Lookup = (typeof LOOKUPS)[number];

const MARK_SELECT = 'SELECT through_rowid FROM event_lookups_mark WHERE id = 1';
/** The mark as an SQL expression: the newest rowid whose event is in the lookup tables. */
export const MARK_SQL = `(${MARK_SELECT})`;

const fill = (l: Lookup, range: string): string =>
  `INSERT OR IGNORE INTO ${l.table} (${l.column}, ts_ms, rowid_)
   SELECT ${l.column}, ts_ms, rowid_ FROM events WHERE ${range} AND ${l.column} IS NOT NULL
   ORDER BY ${l.column}, ts_ms, rowid_`;

const createTable = (l: Lookup): string => `CREATE TABLE IF NOT EXISTS ${l.table} (
    ${l.column} TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    rowid_ INTEGER NOT NULL,
    PRIMARY KEY (${l.column}, ts_ms, rowid_)
  ) WITHOUT ROWID;`;

const lookupsNamed = (...tables: string[]): Lookup[] => LOOKUPS.filter((l) => tables.includes(l.table));

/**
 * Migration 7 of the events: the (user_id, ts_ms) and (session_id, ts_ms) indexes become lookup
 * tables, filled from the indexes in their order (a store of 10 M events takes seconds, once), the
 * mark at the newest event, and the indexes dropped.
 */
export const EVENT_LOOKUPS_MIGRATION = `${lookupsNamed('events_by_user', 'events_by_session')
  .map((l) => `${createTable(l)}\n  ${fill(l, '1')};`)
  .join('\n')}
  CREATE TABLE IF NOT EXISTS event_lookups_mark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through_rowid INTEGER NOT NULL
  );
  INSERT OR REPLACE INTO event_lookups_mark (id, through_rowid) VALUES (1, COALESCE((SELECT MAX(rowid_) FROM events), 0));
  DROP INDEX IF EXISTS events_user;
  DROP INDEX IF EXISTS events_session;`;

/**
 * Migration 8: the virtual key, feature and status indexes become lookup tables the same way. The
 * user and session tables first take the events past the mark, so the one mark can move to the
 * newest event for all five.
 */
export const EVENT_LOOKUPS_MORE_MIGRATION = `${lookupsNamed('events_by_user', 'events_by_session')
  .map((l) => `${fill(l, `rowid_ > ${MARK_SQL}`)};`)
  .join('\n')}
  ${lookupsNamed('events_by_vkey', 'events_by_feature', 'events_by_status')
    .map((l) => `${createTable(l)}\n  ${fill(l, '1')};`)
    .join('\n')}
  UPDATE event_lookups_mark SET through_rowid = COALESCE((SELECT MAX(rowid_) FROM events), 0) WHERE id = 1;
  DROP INDEX IF EXISTS events_vkey;
  DROP INDEX IF EXISTS events_feature;
  DROP INDEX IF EXISTS events_status;`;

/**
 * The merge an append transaction runs: `afterAppend(newestRowid)` merges every event past the
 * mark into the lookup tables once MERGE_EVERY have gathered (on the connection and in the
 * transaction of the append that passed it). `mergeAll()` merges what is there now, in its own
 * transaction (tests, and a store about to be read at length).
 */
export function createLookupMerge(
  db: SqliteDatabase,
  every = MERGE_EVERY,
): {
  afterAppend(newestRowid: number): void;
  mergeAll(): number;
} {
  const mark = db.prepare(MARK_SELECT).pluck();
  const fills = LOOKUPS.map((l) => db.prepare(fill(l, 'rowid_ > ? AND rowid_ <= ?')));
  const setMark = db.prepare('UPDATE event_lookups_mark SET through_rowid = ? WHERE id = 1');
  const merge = (from: number, through: number): void => {
    for (const f of fills) f.run(from, through);
    setMark.run(through);
  };
  const newest = db.prepare('SELECT MAX(rowid_) FROM events').pluck();
  return {
    afterAppend(newestRowid) {
      const from = mark.get() as number;
      if (newestRowid - from >= every) merge(from, newestRowid);
    },
    mergeAll() {
      return db
        .transaction(() => {
          const from = mark.get() as number;
          const through = (newest.get() as number | null) ?? 0;
          if (through > from) merge(from, through);
          return Math.max(0, through - from);
        })
        .immediate();
    },
  };
}

/**
 * Removes the lookup rows of events about to be deleted (`where` selects them from `events`), in
 * the caller's transaction. Events past the mark have none. Rows are removed one by one by their
 * key, as the dropped indexes' entries were.
 */
export function forgetLookups(db: SqliteDatabase, where: string, params: readonly unknown[]): void {
  const through = db.prepare(MARK_SELECT).pluck().get() as number;
  const rows = db
    .prepare(
      `SELECT ${LOOKUPS.map((l) => l.column).join(', ')}, ts_ms, rowid_ FROM events ${where} AND rowid_ <= ?`,
    )
    .raw()
    .all(...params, through) as (string | number | null)[][];
  const dels = LOOKUPS.map((l) =>
    db.prepare(`DELETE FROM ${l.table} WHERE ${l.column} = ? AND ts_ms = ? AND rowid_ = ?`),
  );
  const ts = LOOKUPS.length;
  for (const row of rows)
    for (let i = 0; i < LOOKUPS.length; i++) if (row[i] !== null) dels[i]!.run(row[i], row[ts], row[ts + 1]);
}
