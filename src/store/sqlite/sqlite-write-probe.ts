import type { SqliteDatabase } from './open-sqlite.js';

/**
 * The writer's store probe on SQLite (`EventStore.probeWrite`): upserts the one row of a tiny
 * table in its own transaction, so it needs what an append needs (a writable file, a WAL frame,
 * the write lock) and fails with SQLITE_READONLY, SQLITE_FULL or SQLITE_IOERR when the store cannot
 * take writes. Creating the table on first use keeps a read-only opening of an older store from
 * needing a migration.
 */
export function probeSqliteWrite(db: SqliteDatabase): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS writer_probe (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)',
  );
  db.prepare('INSERT INTO writer_probe (id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1').run();
}
