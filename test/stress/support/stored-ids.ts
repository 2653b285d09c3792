import Database from 'better-sqlite3';

/** Which of `ids` are stored in the SQLite file at `db` (opened read-only, after the gateway is gone). */
export function storedIds(db: string, ids: readonly string[]): Set<string> {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const found = new Set<string>();
    const stmt = conn.prepare('SELECT id FROM events WHERE id = ?').pluck();
    for (const id of ids) if (stmt.get(id) !== undefined) found.add(id);
    return found;
  } finally {
    conn.close();
  }
}

/** Number of stored events. */
export function storedCount(db: string): number {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  } finally {
    conn.close();
  }
}
