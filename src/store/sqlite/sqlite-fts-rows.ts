/**
 * The FTS5 index rows of events (sqlite-content-search.ts) as the index computes them, so that
 * retention can remove a row's tokens before the row is deleted or its content replaced.
 */
import { SEARCHABLE_CONTENT_MODES } from '../content-search.js';
import type { SqliteDatabase } from './open-sqlite.js';

/** Columns the index is built from. */
export const FTS_COLUMNS = `rowid_, content_mode, prompt, response, user_id, session_id, feature_name, model_requested,
              model_used, api_key_prefix, virtual_key_id, request_id, ip_address, error_code, error_message`;

/** The two indexed columns of a row: its searchable content and its text fields. */
export function ftsDocument(r: Record<string, string | number | null>): [string, string] {
  const searchable = (SEARCHABLE_CONTENT_MODES as readonly unknown[]).includes(r.content_mode);
  const content = searchable ? [r.prompt, r.response].filter((v) => v !== null).join('\n') : '';
  const fields = [
    r.user_id,
    r.session_id,
    r.feature_name,
    r.model_requested,
    r.model_used,
    r.api_key_prefix,
    r.virtual_key_id,
    r.request_id,
    r.ip_address,
    r.error_code,
    r.error_message,
  ]
    .filter((v) => v !== null)
    .join(' ');
  return [content, fields];
}

/**
 * Removes rows from the index before they are deleted or their content replaced (retention), so
 * the tokens of pruned content do not stay searchable. A contentless FTS5 index forgets a row only
 * when given the values it indexed, recomputed here from the row as stored. No-op without an index.
 */
export function forgetIndexedRows(db: SqliteDatabase, where: string, params: readonly unknown[]): void {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events_fts_mark'").get();
  if (!has) return;
  const mark = (
    db.prepare('SELECT last_rowid FROM events_fts_mark WHERE id = 1').get() as { last_rowid: number }
  ).last_rowid;
  const rows = db
    .prepare(`SELECT ${FTS_COLUMNS} FROM events ${where} AND rowid_ <= ?`)
    .all(...params, mark) as Record<string, string | number | null>[];
  const del = db.prepare(
    "INSERT INTO events_fts (events_fts, rowid, content, fields) VALUES ('delete', ?, ?, ?)",
  );
  for (const r of rows) {
    const [content, fields] = ftsDocument(r);
    del.run(r.rowid_, content, fields);
  }
}

/** Indexes rows again (after their content was replaced), when the index already covered them. */
export function reindexRows(db: SqliteDatabase, where: string, params: readonly unknown[]): void {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events_fts_mark'").get();
  if (!has) return;
  const mark = (
    db.prepare('SELECT last_rowid FROM events_fts_mark WHERE id = 1').get() as { last_rowid: number }
  ).last_rowid;
  const rows = db
    .prepare(`SELECT ${FTS_COLUMNS} FROM events ${where} AND rowid_ <= ?`)
    .all(...params, mark) as Record<string, string | number | null>[];
  const ins = db.prepare('INSERT INTO events_fts (rowid, content, fields) VALUES (?, ?, ?)');
  for (const r of rows) {
    const [content, fields] = ftsDocument(r);
    ins.run(r.rowid_, content, fields);
  }
}
