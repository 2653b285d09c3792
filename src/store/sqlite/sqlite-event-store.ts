import type { AuditEvent, AuditEventField } from '../../core/audit-event.js';
import {
  AUDIT_EVENT_FIELDS,
  FIRST_RELEASE_FIELDS,
  BILLING_DETAIL_FIELDS,
  QUOTA_READING_FIELDS,
  BOOLEAN_FIELDS as BOOL_FIELDS,
  INTEGER_FIELDS,
  REAL_FIELDS,
} from '../../core/audit-event.js';
import { TollgateError } from '../../core/errors.js';
import {
  formatPageCursor,
  pageCursorArg,
  pageSize,
  type ChainHead,
  type ChainColumns,
  type ReaderSource,
  type ChainHeadPosition,
  type ChainLink,
  type ContentUpdate,
  type EventFilter,
  type EventPage,
  type EventStore,
} from '../event-store.js';
import { forgetIndexedRows, reindexRows } from './sqlite-fts-rows.js';
import { ADMIN_METHOD } from '../../core/admin-action-event.js';
import type { SqliteDatabase } from './open-sqlite.js';
import { probeSqliteWrite } from './sqlite-write-probe.js';
import { EVENT_COLUMNS, fromColumns, fromRow, toRow } from './sqlite-event-rows.js';
import { lockSqliteRetention } from './sqlite-retention-lock.js';
import {
  createLookupMerge,
  EVENT_LOOKUPS_MIGRATION,
  EVENT_LOOKUPS_MORE_MIGRATION,
  forgetLookups,
} from './sqlite-event-lookups.js';
import { eventsSql } from './sqlite-event-filter.js';

export { EVENT_COLUMNS, fromColumns, fromRow } from './sqlite-event-rows.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS events (
    rowid_ INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    ${FIRST_RELEASE_FIELDS.map((f) => `${f} ${columnType(f)}`).join(',\n    ')}
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events(id);
  CREATE UNIQUE INDEX IF NOT EXISTS events_chain_seq ON events(chain_id, seq);
  CREATE INDEX IF NOT EXISTS events_ts ON events(ts_ms);
  CREATE INDEX IF NOT EXISTS events_user ON events(user_id, ts_ms);
  CREATE INDEX IF NOT EXISTS events_session ON events(session_id, ts_ms);
  CREATE INDEX IF NOT EXISTS events_feature ON events(feature_name, ts_ms);
  CREATE INDEX IF NOT EXISTS events_vkey ON events(virtual_key_id, ts_ms);
  CREATE INDEX IF NOT EXISTS events_status ON events(status, ts_ms);`,
  // Every index costs each insert; (api_key_id, ts_ms) served no query. The key filter is
  // `api_key_id = ? OR api_key_prefix = ? OR virtual_key_id = ?` (prefix unindexed, so SQLite
  // scans either way) and budget seeds match COALESCE(virtual_key_id, api_key_id). Its random
  // inserts (one leaf page per key touched per batch) cost about 4 µs per event.
  'DROP INDEX IF EXISTS events_key;',
  // 3: the provider's quota as the answer reported it (issue 20); null in the events stored before.
  QUOTA_READING_FIELDS.map((f) => `ALTER TABLE events ADD COLUMN ${f} ${columnType(f)};`).join('\n'),
  // 4: the fingerprint of the provider key those readings belong to (issue 20).
  `ALTER TABLE events ADD COLUMN provider_key_id ${columnType('provider_key_id')};`,
  // 5: the input tokens written to the prompt cache (issue 18); null in the events stored before.
  `ALTER TABLE events ADD COLUMN cache_write_tokens ${columnType('cache_write_tokens')};`,
  // 6: audio and image input tokens, the billed unit and quantity, and why a cost is null (issue 18).
  BILLING_DETAIL_FIELDS.map((f) => `ALTER TABLE events ADD COLUMN ${f} ${columnType(f)};`).join('\n'),
  // 7: events by user and by session as tables merged behind the append, not indexes (issue 22).
  EVENT_LOOKUPS_MIGRATION,
  // 8: by virtual key, feature and status the same way.
  EVENT_LOOKUPS_MORE_MIGRATION,
];

function columnType(field: AuditEventField): string {
  if (field === 'id') return 'TEXT NOT NULL';
  if (BOOL_FIELDS.has(field)) return 'INTEGER';
  if (INTEGER_FIELDS.has(field)) return 'INTEGER';
  if (REAL_FIELDS.has(field)) return 'REAL';
  return 'TEXT';
}

/** Runs the versioned migrations of one component; each component keeps its own version row. */
export function migrate(db: SqliteDatabase, component: string, migrations: readonly string[]): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)',
  );
  const row = db.prepare('SELECT version FROM schema_migrations WHERE component = ?').get(component) as
    { version: number } | undefined;
  const current = row?.version ?? 0;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.prepare(
        'INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version',
      ).run(component, v + 1);
    })();
  }
}

/**
 * Work that must commit in the same transaction as the events (rollups, for instance), given the
 * events the transaction inserted: a replayed duplicate of a stored event is left out.
 */
export type InTransactionHook = (events: readonly AuditEvent[]) => void;

/** The default event store: one SQLite file in WAL mode. */
export class SqliteEventStore implements EventStore {
  private readonly insert: import('better-sqlite3').Statement;
  private readonly appendTx: (events: readonly AuditEvent[]) => void;
  private readonly hooks: InTransactionHook[] = [];
  private readonly committedListeners: Array<() => void> = [];
  private chainColumns: import('better-sqlite3').Statement | null = null;
  /** The lookups (user, session, virtual key, feature, status), merged behind the append (sqlite-event-lookups.ts). */
  readonly lookups: ReturnType<typeof createLookupMerge>;

  /** `lookupMergeEvery`: events appended between merges of the lookups (tests, benches). */
  constructor(
    readonly db: SqliteDatabase,
    options: { lookupMergeEvery?: number } = {},
  ) {
    migrate(db, 'events', MIGRATIONS);
    const cols = ['ts_ms', ...AUDIT_EVENT_FIELDS];
    this.insert = db.prepare(
      // Idempotent on the event id only: a different event claiming a stored (chain_id, seq) is a
      // forked chain and must fail loudly, not vanish (OR IGNORE would drop it silently).
      `INSERT INTO events (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT(id) DO NOTHING`,
    );
    this.lookups = createLookupMerge(db, options.lookupMergeEvery);
    this.appendTx = db.transaction((events: readonly AuditEvent[]) => {
      // Parameters spread as arguments, not passed as one array: better-sqlite3 reads an array's
      // elements one by one through the V8 API, about 5 µs more per 70-column event (bench/ingest.bench.ts).
      let newest = 0;
      const inserted = events.filter((e) => {
        const r = this.insert.run(...toRow(e));
        if (r.changes === 0) return false;
        newest = Number(r.lastInsertRowid);
        return true;
      });
      if (newest > 0) this.lookups.afterAppend(newest);
      for (const hook of this.hooks) hook(inserted);
    });
  }

  /** Registers work to run inside every append transaction. */
  addInTransactionHook(hook: InTransactionHook): void {
    this.hooks.push(hook);
  }

  /** Told after each append transaction commits (the checkpoint thread); must not throw. */
  onCommitted(listener: () => void): void {
    this.committedListeners.push(listener);
  }

  /** Synchronous append, for the writer's batch flush (SQLite is synchronous anyway). */
  appendSync(events: readonly AuditEvent[]): void {
    try {
      this.appendTx(events);
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'sqlite', batch: events.length },
        { cause: err },
      );
    }
    for (const listener of this.committedListeners) listener();
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    this.appendSync(events);
  }

  /** See EventStore.probeWrite: a one-row upsert on this connection, in its own transaction. */
  async probeWrite(): Promise<void> {
    try {
      probeSqliteWrite(this.db);
    } catch (err) {
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'sqlite', probe: true }, { cause: err });
    }
  }

  async query(filter: EventFilter): Promise<AuditEvent[]> {
    const order = filter.order === 'asc' ? 'ASC' : 'DESC';
    const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
    const { sql, params } = eventsSql('*', filter, (col) => ` ORDER BY ${col('rowid_')} ${order}${limit}`);
    const rows = this.db.prepare(sql).all(...params) as Record<string, unknown>[];
    return rows.map(fromRow);
  }

  async get(id: string): Promise<AuditEvent | null> {
    const row = this.db.prepare('SELECT * FROM events WHERE id = ?').get(id) as
      Record<string, unknown> | undefined;
    return row ? fromRow(row) : null;
  }

  async *iterateChain(chainId: string, fromSeq = 1, pageSize = 5000): AsyncIterable<AuditEvent> {
    const stmt = this.db.prepare(
      'SELECT * FROM events WHERE chain_id = ? AND seq >= ? ORDER BY seq ASC LIMIT ?',
    );
    let next = fromSeq;
    for (;;) {
      const rows = stmt.all(chainId, next, pageSize) as Record<string, unknown>[];
      for (const row of rows) yield fromRow(row);
      if (rows.length < pageSize) return;
      next = (rows[rows.length - 1]!.seq as number) + 1;
    }
  }

  async *iterateChainLinks(chainId: string, fromSeq = 1): AsyncIterable<ChainLink> {
    // Rows as arrays, three short columns and a flag: no content read, no row object per event.
    const page = this.db
      .prepare(
        `SELECT seq, hash, prev_hash, http_method = '${ADMIN_METHOD}' FROM events
         WHERE chain_id = ? AND seq >= ? ORDER BY seq ASC LIMIT ?`,
      )
      .raw();
    const whole = this.db.prepare('SELECT * FROM events WHERE chain_id = ? AND seq = ?');
    const size = 20_000;
    let next = fromSeq;
    for (;;) {
      const rows = page.all(chainId, next, size) as [number, string | null, string | null, number | null][];
      for (const [seq, hash, prev_hash, admin] of rows)
        yield {
          seq,
          hash,
          prev_hash,
          admin: admin === 1 ? fromRow(whole.get(chainId, seq) as Record<string, unknown>) : null,
        };
      if (rows.length < size) return;
      next = rows[rows.length - 1]![0] + 1;
    }
  }

  async readChainColumns(chainId: string, firstSeq: number, lastSeq: number): Promise<ChainColumns> {
    this.chainColumns ??= this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq ASC`,
      )
      .raw();
    const rows = this.chainColumns.all(chainId, firstSeq, lastSeq) as unknown[][];
    return { rows, codec: 'sqlite', decode: fromColumns };
  }

  sqliteFile(): string | null {
    return this.db.memory ? null : this.db.name;
  }

  readerSource(): ReaderSource | null {
    const file = this.sqliteFile();
    return file === null ? null : { kind: 'sqlite', file };
  }

  async chains(): Promise<ChainHead[]> {
    const rows = this.db
      .prepare(
        `SELECT e.chain_id AS chain_id, e.seq AS seq, e.hash AS hash, c.n AS count
         FROM (SELECT chain_id, MAX(seq) AS max_seq, COUNT(*) AS n FROM events WHERE chain_id IS NOT NULL GROUP BY chain_id) c
         JOIN events e ON e.chain_id = c.chain_id AND e.seq = c.max_seq ORDER BY e.chain_id`,
      )
      .all() as ChainHead[];
    return rows;
  }

  /**
   * Chain heads without counting rows: the chain ids by a skip-scan of the (chain_id, seq) index
   * (one seek per chain), then each head by one seek.
   */
  async chainHeads(): Promise<ChainHeadPosition[]> {
    const ids = this.db
      .prepare(
        `WITH RECURSIVE c(id) AS (
           SELECT MIN(chain_id) FROM events WHERE chain_id IS NOT NULL
           UNION ALL
           SELECT (SELECT MIN(chain_id) FROM events WHERE chain_id > c.id) FROM c WHERE c.id IS NOT NULL
         ) SELECT id FROM c WHERE id IS NOT NULL`,
      )
      .all() as { id: string }[];
    const head = this.db.prepare('SELECT seq, hash FROM events WHERE chain_id = ? ORDER BY seq DESC LIMIT 1');
    return ids.map(({ id }) => {
      const h = head.get(id) as { seq: number; hash: string | null };
      return { chain_id: id, seq: h.seq, hash: h.hash ?? '' };
    });
  }

  /**
   * Pages in (ts_ms, rowid) order, newest first: the order of every `(column, ts_ms)` index, whose
   * entries end with the rowid, so a page of 50 reads about 50 index entries whatever the filter.
   */
  async page(filter: EventFilter, cursor: string | null): Promise<EventPage> {
    const after = pageCursorArg(cursor);
    const size = pageSize(filter);
    const { sql, params } = eventsSql(
      '*',
      // ts_ms holds milliseconds: the cursor's microseconds rounded down are the row's ts_ms.
      after ? { ...filter, before: { tsMs: Math.floor(after.tsUs / 1000), rowid: after.position } } : filter,
      (col) => ` ORDER BY ${col('ts_ms')} DESC, ${col('rowid_')} DESC LIMIT ${size + 1}`,
    );
    const rows = this.db.prepare(sql).all(...params) as Record<string, unknown>[];
    const shown = rows.slice(0, size);
    const last = shown[shown.length - 1];
    return {
      events: shown.map(fromRow),
      next:
        rows.length > size && last
          ? formatPageCursor({ tsUs: (last.ts_ms as number) * 1000, position: last.rowid_ as number })
          : null,
    };
  }

  async count(filter: EventFilter = {}): Promise<number> {
    const { sql, params } = eventsSql(['rowid_'], filter);
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM (${sql})`).get(...params) as { n: number };
    return row.n;
  }

  async cursor(): Promise<number> {
    const row = this.db.prepare('SELECT MAX(rowid_) AS c FROM events').get() as { c: number | null };
    return row.c ?? 0;
  }

  /** See EventStore.lockRetention: a row in `retention_lock`, taken over from a dead process. */
  async lockRetention(holder: string) {
    return lockSqliteRetention(this.db, holder, Date.now());
  }

  /** See EventStore.deleteChainRange: the runs between kept seqs, their search-index rows first. */
  async deleteChainRange(
    chainId: string,
    firstSeq: number,
    lastSeq: number,
    keepSeqs: readonly number[],
  ): Promise<number> {
    const del = this.db.prepare('DELETE FROM events WHERE chain_id = ? AND seq >= ? AND seq <= ?');
    const keep = [...new Set(keepSeqs)].filter((k) => k >= firstSeq && k <= lastSeq).sort((a, b) => a - b);
    // IMMEDIATE, like every transaction here that reads before it writes: the append thread writes
    // on another connection, and a deferred one would then fail (SQLITE_BUSY) instead of waiting.
    return this.db
      .transaction(() => {
        let n = 0;
        let from = firstSeq;
        for (const k of [...keep, lastSeq + 1]) {
          if (k > from) {
            const range = [chainId, from, k - 1];
            forgetIndexedRows(this.db, 'WHERE chain_id = ? AND seq >= ? AND seq <= ?', range);
            forgetLookups(this.db, 'WHERE chain_id = ? AND seq >= ? AND seq <= ?', range);
            n += del.run(chainId, from, k - 1).changes;
          }
          from = k + 1;
        }
        return n;
      })
      .immediate();
  }

  /** See EventStore.replaceContent. */
  async replaceContent(updates: readonly ContentUpdate[]): Promise<number> {
    const set = this.db.prepare('UPDATE events SET prompt = ?, response = ? WHERE id = ?');
    return this.db
      .transaction(() => {
        let n = 0;
        for (const u of updates) {
          forgetIndexedRows(this.db, 'WHERE id = ?', [u.id]);
          n += set.run(u.prompt, u.response, u.id).changes;
          reindexRows(this.db, 'WHERE id = ?', [u.id]);
        }
        return n;
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
