/**
 * SQLite data-key store on a better-sqlite3 handle (the same database file as the events, or
 * another). Owns one table, `data_keys`; destroying a key overwrites the wrapped bytes with
 * NULL and stamps `destroyed_at`, so the row records that the subject was erased.
 *
 * Note: SQLite may keep old page images in the WAL or free pages until a checkpoint and
 * VACUUM; the key is still unusable without the master key, and `eraseSubject` callers can
 * run `PRAGMA wal_checkpoint(TRUNCATE)` and `VACUUM` for a physical wipe.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DataKeyStore, WrappedDataKey } from '../../privacy/data-key-store.js';

interface Row {
  key_id: string;
  subject: string;
  wrapped_key: Buffer | null;
  created_at: number;
}

export class SqliteDataKeyStore implements DataKeyStore {
  private readonly selectBySubject: Statement<[string], Row>;
  private readonly selectById: Statement<[string], Row>;
  private readonly insert: Statement<[string, string, Buffer, number]>;
  private readonly rekey: Statement<[string, Buffer, number, string]>;
  private readonly shred: Statement<[number, string]>;

  constructor(private readonly db: Database) {
    // One row per subject; a destroyed row keeps its subject and destroyed_at, and is
    // re-keyed (new key_id) if the person comes back.
    db.exec(`CREATE TABLE IF NOT EXISTS data_keys (
      subject TEXT PRIMARY KEY,
      key_id TEXT NOT NULL UNIQUE,
      wrapped_key BLOB,
      created_at INTEGER NOT NULL,
      destroyed_at INTEGER
    )`);
    this.selectBySubject = db.prepare<[string], Row>(
      'SELECT key_id, subject, wrapped_key, created_at FROM data_keys WHERE subject = ? AND destroyed_at IS NULL',
    );
    this.selectById = db.prepare<[string], Row>(
      'SELECT key_id, subject, wrapped_key, created_at FROM data_keys WHERE key_id = ? AND destroyed_at IS NULL',
    );
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO data_keys (key_id, subject, wrapped_key, created_at) VALUES (?, ?, ?, ?)',
    );
    this.rekey = db.prepare(
      'UPDATE data_keys SET key_id = ?, wrapped_key = ?, created_at = ?, destroyed_at = NULL WHERE subject = ? AND destroyed_at IS NOT NULL',
    );
    this.shred = db.prepare(
      'UPDATE data_keys SET wrapped_key = NULL, destroyed_at = ? WHERE subject = ? AND destroyed_at IS NULL',
    );
  }

  getBySubject(subject: string): WrappedDataKey | null {
    return toKey(this.selectBySubject.get(subject));
  }

  async findById(keyId: string): Promise<WrappedDataKey | null> {
    return toKey(this.selectById.get(keyId));
  }

  putIfAbsent(key: WrappedDataKey): WrappedDataKey {
    const run = this.db.transaction((): WrappedDataKey => {
      const live = this.selectBySubject.get(key.subject);
      if (live) return toKey(live)!;
      const info = this.insert.run(key.keyId, key.subject, key.wrapped, key.createdAtMs);
      if (info.changes === 0) this.rekey.run(key.keyId, key.wrapped, key.createdAtMs, key.subject);
      return toKey(this.selectBySubject.get(key.subject))!;
    });
    return run.immediate();
  }

  async destroy(subject: string, atMs: number): Promise<string[]> {
    // secure_delete zeroes the space the wrapped key leaves in its page; the TRUNCATE checkpoint
    // then writes that page into the database and empties the WAL, whose older frames still
    // held the page with the key (issue 17: a copy in the -wal unwrapped with the master key
    // recovered the erased content). A reader of an older snapshot (a running gateway) can delay
    // the truncation; the checkpoint waits for it within the busy timeout.
    this.db.pragma('secure_delete = ON');
    const run = this.db.transaction((): string[] => {
      const live = this.selectBySubject.get(subject);
      if (!live) return [];
      this.shred.run(atMs, subject);
      return [live.key_id];
    });
    const destroyed = run.immediate();
    if (destroyed.length > 0 && this.db.name !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    return destroyed;
  }
}

function toKey(row: Row | undefined): WrappedDataKey | null {
  if (!row || row.wrapped_key === null) return null;
  return { keyId: row.key_id, subject: row.subject, wrapped: row.wrapped_key, createdAtMs: row.created_at };
}
