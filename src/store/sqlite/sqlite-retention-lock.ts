import { hostname } from 'node:os';
import type { RetentionLock, RetentionLockHolder } from '../retention-lock.js';
import type { SqliteDatabase } from './open-sqlite.js';

/** A lock row older than this is taken over even when its process cannot be checked (another host). */
const STALE_MS = 3_600_000;

/**
 * The retention lock of a SQLite store: one row in `retention_lock`, written in an immediate
 * transaction, so every process on the file sees it. A row left by a process that died (same host,
 * pid gone) or older than an hour is taken over.
 */
export function lockSqliteRetention(
  db: SqliteDatabase,
  holder: string,
  nowMs: number,
): { lock: RetentionLock } | { heldBy: RetentionLockHolder } {
  db.exec(`CREATE TABLE IF NOT EXISTS retention_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at INTEGER NOT NULL
  ) STRICT`);
  const host = hostname();
  const take = db.transaction((): RetentionLockHolder | null => {
    const row = db.prepare('SELECT holder, pid, host, acquired_at FROM retention_lock WHERE id = 1').get() as
      { holder: string; pid: number; host: string; acquired_at: number } | undefined;
    if (row !== undefined && !isStale(row, host, nowMs))
      return {
        holder: row.holder,
        pid: row.pid,
        host: row.host,
        since: new Date(row.acquired_at).toISOString(),
      };
    db.prepare(
      'INSERT OR REPLACE INTO retention_lock (id, holder, pid, host, acquired_at) VALUES (1, ?, ?, ?, ?)',
    ).run(holder, process.pid, host, nowMs);
    return null;
  });
  const heldBy = take.immediate();
  if (heldBy !== null) return { heldBy };
  let released = false;
  return {
    lock: {
      async release() {
        if (released || !db.open) return;
        released = true;
        db.prepare(
          'DELETE FROM retention_lock WHERE id = 1 AND pid = ? AND host = ? AND acquired_at = ?',
        ).run(process.pid, host, nowMs);
      },
    },
  };
}

function isStale(
  row: { pid: number; host: string; acquired_at: number },
  host: string,
  nowMs: number,
): boolean {
  if (nowMs - row.acquired_at > STALE_MS) return true;
  if (row.host !== host) return false;
  try {
    process.kill(row.pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but is another user's: alive.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
