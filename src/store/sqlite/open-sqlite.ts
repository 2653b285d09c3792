import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TollgateError } from '../../core/errors.js';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) the SQLite file with the settings an append-heavy audit log wants:
 * WAL so readers (CLI, dashboard) never block the writer, NORMAL sync (durable at checkpoint,
 * safe against corruption in WAL mode), and a busy timeout for concurrent CLI readers.
 */
export function openSqlite(path: string, options: { readonly?: boolean } = {}): SqliteDatabase {
  try {
    if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    return db;
  } catch (err) {
    throw new TollgateError('TG_ERR_STORE_OPEN', { store: 'sqlite' }, { cause: err });
  }
}
