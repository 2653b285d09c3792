import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TollgateError } from '../../core/errors.js';

export type SqliteDatabase = Database.Database;

/**
 * Page size of a store this creates. An event row with its redacted content is ~5 KB: with 4 KB
 * pages every row spills into overflow pages, and each page is one WAL frame and one write.
 * Measured with bench/ingest.bench.ts on a store of 1,000,000 events, batches of 512: 16 KB pages
 * wrote 5,872–6,820 events/s against 4,293–4,828 with 4 KB (docs/cost.md). A store created
 * earlier keeps its page size (changing it means rewriting the file).
 */
export const SQLITE_PAGE_SIZE = 16_384;

/**
 * Opens (creating if needed) the SQLite file with the settings an append-heavy audit log wants:
 * WAL so readers (CLI, dashboard) never block the writer, NORMAL sync (durable at checkpoint,
 * safe against corruption in WAL mode), a busy timeout for concurrent CLI readers, and
 * SQLITE_PAGE_SIZE for a new file.
 */
export function openSqlite(path: string, options: { readonly?: boolean } = {}): SqliteDatabase {
  try {
    if (path !== ':memory:' && !options.readonly) {
      // A new data folder is the owner's only (0700) and a new store file 0600: SQLite creates the
      // -wal and -shm files with the database file's permissions, so they follow (issue 17).
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
    }
    const db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      // Only takes effect on a database with nothing in it yet, and must come before WAL mode.
      db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    return db;
  } catch (err) {
    throw new TollgateError('TG_ERR_STORE_OPEN', { store: 'sqlite' }, { cause: err });
  }
}
