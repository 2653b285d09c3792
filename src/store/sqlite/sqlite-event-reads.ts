/**
 * Reads the admin views need that the EventStore interface answers slowly on a large SQLite
 * store: `query` orders by rowid, so a filtered page makes SQLite collect and sort every match;
 * `chains` counts every row. Here pages are ordered by (ts_ms, rowid) — the order of every
 * `(column, ts_ms)` index, whose entries end with the rowid — so a page of 50 reads about 50
 * index entries, and the cursor is exact (keyset pagination, no OFFSET, no repeats or gaps).
 */
import type { AuditEvent } from '../../core/audit-event.js';
import type { ChainHead, EventFilter } from '../event-store.js';
import type { SqliteDatabase } from './open-sqlite.js';
import { fromRow, whereClause } from './sqlite-event-store.js';

/** A page position: strictly older than (ts_ms, rowid). */
export interface RowCursor {
  tsMs: number;
  rowid: number;
}

/** Newest-first page of events matching `filter` (limit from the filter), each with its row cursor. */
export function sqlitePage(
  db: SqliteDatabase,
  filter: EventFilter,
  before: RowCursor | null,
): { event: AuditEvent; cursor: RowCursor }[] {
  const base = whereClause(filter);
  let where = base.where;
  const params = base.params;
  if (before) {
    // Keyset cursor in (ts_ms, rowid) order: the next page starts strictly after the last row shown.
    where = `${where ? `${where} AND` : 'WHERE'} (ts_ms < ? OR (ts_ms = ? AND rowid_ < ?))`;
    params.push(before.tsMs, before.tsMs, before.rowid);
  }
  const limit = Math.max(1, Math.floor(filter.limit ?? 50));
  const rows = db
    .prepare(`SELECT * FROM events ${where} ORDER BY ts_ms DESC, rowid_ DESC LIMIT ${limit}`)
    .all(...params) as Record<string, unknown>[];
  return rows.map((r) => ({
    event: fromRow(r),
    cursor: { tsMs: r.ts_ms as number, rowid: r.rowid_ as number },
  }));
}

/**
 * Chain heads without counting rows: the chain ids by a skip-scan of the (chain_id, seq) index
 * (one seek per chain), then each head by one seek. `count` is the head's seq: the chain's
 * positions from seq 1, which equals the events stored unless the writer lost some (accounted
 * gaps, which `tollgate verify` counts); an exact COUNT would scan the chain.
 */
export function sqliteChainHeads(db: SqliteDatabase): ChainHead[] {
  const ids = db
    .prepare(
      `WITH RECURSIVE c(id) AS (
         SELECT MIN(chain_id) FROM events WHERE chain_id IS NOT NULL
         UNION ALL
         SELECT (SELECT MIN(chain_id) FROM events WHERE chain_id > c.id) FROM c WHERE c.id IS NOT NULL
       ) SELECT id FROM c WHERE id IS NOT NULL`,
    )
    .all() as { id: string }[];
  const head = db.prepare('SELECT seq, hash FROM events WHERE chain_id = ? ORDER BY seq DESC LIMIT 1');
  return ids.map(({ id }) => {
    const h = head.get(id) as { seq: number; hash: string };
    return { chain_id: id, seq: h.seq, hash: h.hash, count: h.seq };
  });
}
