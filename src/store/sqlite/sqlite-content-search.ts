/**
 * Full-text search over a SQLite store with FTS5. The index (`events_fts`, contentless: it keeps
 * tokens, not a second copy of the content) is brought up to date at each search from a mark
 * (`events_fts_mark`, the last rowid indexed) instead of by a trigger, so the write path pays
 * nothing: a search after N new events indexes those N first (the first search of a large store
 * indexes all of it, once). Rows pruned later simply stop matching (results join `events`).
 */
import type { AuditEvent } from '../../core/audit-event.js';
import { searchTerms, type ContentSearch, type SearchQuery } from '../content-search.js';
import type { SqliteDatabase } from './open-sqlite.js';
import { fromRow, migrate } from './sqlite-event-store.js';
import { FTS_COLUMNS, ftsDocument } from './sqlite-fts-rows.js';

const MIGRATIONS = [
  `CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(content, fields, content='', tokenize='unicode61');
   CREATE TABLE IF NOT EXISTS events_fts_mark (id INTEGER PRIMARY KEY CHECK (id = 1), last_rowid INTEGER NOT NULL);
   INSERT OR IGNORE INTO events_fts_mark (id, last_rowid) VALUES (1, 0);`,
];

/** Rows indexed per transaction while catching up (keeps the writer's waits short). */
const CATCH_UP_BATCH = 5000;

/** FTS5 search of one SQLite events database. */
export class SqliteContentSearch implements ContentSearch {
  constructor(private readonly db: SqliteDatabase) {
    migrate(db, 'content_search', MIGRATIONS);
  }

  /** Indexes the events written since the last search; returns how many rows were read. */
  catchUp(): number {
    const mark = this.db.prepare('SELECT last_rowid FROM events_fts_mark WHERE id = 1');
    const rows = this.db.prepare(
      `SELECT ${FTS_COLUMNS} FROM events WHERE rowid_ > ? ORDER BY rowid_ LIMIT ${CATCH_UP_BATCH}`,
    );
    const insert = this.db.prepare('INSERT INTO events_fts (rowid, content, fields) VALUES (?, ?, ?)');
    const setMark = this.db.prepare('UPDATE events_fts_mark SET last_rowid = ? WHERE id = 1');
    let read = 0;
    for (;;) {
      // IMMEDIATE: it reads, then writes, while the append thread commits on another connection; a
      // deferred transaction would fail with SQLITE_BUSY instead of waiting (WAL snapshot upgrade).
      const n = this.db
        .transaction(() => {
          const from = (mark.get() as { last_rowid: number }).last_rowid;
          const batch = rows.all(from) as Array<Record<string, string | number | null>>;
          for (const r of batch) {
            const [content, fields] = ftsDocument(r);
            insert.run(r.rowid_, content, fields);
          }
          if (batch.length > 0) setMark.run(batch[batch.length - 1]!.rowid_);
          return batch.length;
        })
        .immediate();
      read += n;
      if (n < CATCH_UP_BATCH) return read;
    }
  }

  async search(q: SearchQuery): Promise<AuditEvent[]> {
    const terms = searchTerms(q.text);
    if (terms.length === 0) return [];
    this.catchUp();
    // Every term a quoted FTS5 string (a phrase of its tokens): no user text is read as syntax.
    const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
    const where = ['events_fts MATCH ?'];
    const params: unknown[] = [match];
    if (q.sinceMs !== undefined) {
      where.push('e.ts_ms >= ?');
      params.push(q.sinceMs);
    }
    if (q.untilMs !== undefined) {
      where.push('e.ts_ms < ?');
      params.push(q.untilMs);
    }
    const limit = Math.max(1, Math.min(500, Math.floor(q.limit)));
    const rows = this.db
      .prepare(
        `SELECT e.* FROM events_fts JOIN events e ON e.rowid_ = events_fts.rowid
         WHERE ${where.join(' AND ')} ORDER BY e.ts_ms DESC, e.rowid_ DESC LIMIT ${limit}`,
      )
      .all(...params) as Record<string, unknown>[];
    return rows.map(fromRow);
  }
}
