/**
 * The segments of a SQLite store as a verify worker thread reads them (verify-worker.ts): its own
 * read-only connection, the canonical JSON written by SQLite (canonical-sql.ts), checked by
 * verify-segment.ts.
 */
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/open-sqlite.js';
import { EVENT_COLUMNS, fromColumns } from '../store/sqlite/sqlite-event-store.js';
import { CanonicalColumns } from './canonical-columns.js';
import {
  CANONICAL_SQL_COLUMNS,
  SQL_CHAIN_ID,
  SQL_HASH,
  SQL_HTTP_METHOD,
  SQL_PREV_HASH,
  SQL_SEQ,
  SqliteCanonicalRows,
} from './canonical-sql.js';
import {
  checkLinks,
  checkSegment,
  segmentRows,
  type SegmentReader,
  type SegmentRows,
  type SegmentTask,
} from './verify-segment.js';

/** Opens `file` read-only for one worker's segments. */
export function sqliteSegmentReader(file: string): SegmentReader {
  const db: SqliteDatabase = openSqlite(file, { readonly: true });
  const RANGE = 'FROM events WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq ASC';
  // Rows as arrays, never decoded into an event: SQLite writes the canonical JSON (canonical-sql.ts),
  // a few columns come back as values. Iterated: no array of a whole segment's rows.
  const selectJson = db.prepare(`SELECT ${CANONICAL_SQL_COLUMNS} ${RANGE}`).raw();
  const selectRow = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE chain_id = ? AND seq = ?`).raw();
  const json = new SqliteCanonicalRows();
  const sqlRows: SegmentRows = {
    seq: (r) => r[SQL_SEQ],
    chainId: (r) => r[SQL_CHAIN_ID],
    hash: (r) => r[SQL_HASH],
    prevHash: (r) => r[SQL_PREV_HASH],
    isAdmin: (r) => r[SQL_HTTP_METHOD] === ADMIN_METHOD,
    fast: (r) => json.json(r),
    // The slow way, one row at a time (after the segment's statement is done).
    columns: (_r, chainId, seq) => (selectRow.get(chainId, seq) as unknown[] | undefined) ?? null,
    canonical: new CanonicalColumns('sqlite'),
    decode: fromColumns,
  };
  // A segment whose JSON SQLite cannot write (a BLOB in some column): its columns, as values.
  const selectColumns = db.prepare(`SELECT ${EVENT_COLUMNS} ${RANGE}`).raw();
  const columnRows = segmentRows('sqlite', fromColumns);
  const selectLinks = db.prepare(`SELECT seq, hash, prev_hash ${RANGE}`).raw();

  return {
    check(task: SegmentTask) {
      if (task.links)
        return checkLinks(task, selectLinks.all(task.chainId, task.first, task.last) as unknown[][]);
      try {
        return checkSegment(
          task,
          selectJson.iterate(task.chainId, task.first, task.last) as Iterable<unknown[]>,
          sqlRows,
        );
      } catch {
        return checkSegment(
          task,
          selectColumns.iterate(task.chainId, task.first, task.last) as Iterable<unknown[]>,
          columnRows,
        );
      }
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
