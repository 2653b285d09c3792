/**
 * Per-person data keys (encrypted content mode) in PostgreSQL, shared by every replica.
 *
 * The redact stage encrypts on the event path and cannot wait for a round trip, so each replica
 * answers `getBySubject`/`getById`/`putIfAbsent` from an in-memory mirror of the live keys:
 * loaded at open, then kept in step by polling the rows changed since the last poll (every
 * `refreshMs`, default 1 s). A new subject's key is used at once and inserted in the background
 * (retried until it lands); the wrapped key is useless without the master key, so the mirror
 * holds nothing a memory dump of the process would not already reveal.
 *
 * Several replicas may each make a key for a new subject before seeing each other's: rows are
 * keyed by key id, not subject, so every such key is kept (each encrypted value names its key),
 * and erasure destroys all of a subject's live keys in one UPDATE.
 *
 * Bounds, documented in docs/deployment.md:
 * - an erasure made elsewhere (`tollgate erase`, another replica) reaches this replica's mirror
 *   within one poll; content it encrypts in that window is under a destroyed key, so it is
 *   unreadable (the erasure wins, never the content);
 * - a key not yet inserted when the process dies is lost with the content encrypted under it
 *   (unreadable, not exposed).
 */
import type pg from 'pg';
import { TollgateError } from '../../core/errors.js';
import type { DataKeyStore, WrappedDataKey } from '../../privacy/data-key-store.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';

const MIGRATIONS: readonly string[] = [
  // changed_at is the server's clock at the write: the poll reads rows changed since its last
  // look (minus an overlap), whatever the replicas' clocks say.
  `CREATE TABLE {schema}.data_keys (
     key_id text PRIMARY KEY,
     subject text NOT NULL,
     wrapped_key bytea,
     created_at_ms bigint NOT NULL,
     destroyed_at_ms bigint,
     changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
   );
   CREATE INDEX data_keys_subject ON {schema}.data_keys (subject) WHERE destroyed_at_ms IS NULL;
   CREATE INDEX data_keys_changed ON {schema}.data_keys (changed_at);`,
];

/** Default poll interval: the bound within which an erasure elsewhere reaches this replica. */
export const DEFAULT_DATA_KEY_REFRESH_MS = 1_000;
/**
 * Each poll re-reads this much before its previous one: a row's changed_at is taken when its
 * statement runs, and a slow commit could otherwise land behind a poll that already passed it.
 */
const POLL_OVERLAP_SECONDS = 10;

interface Row {
  key_id: string;
  subject: string;
  wrapped_key: Buffer | null;
  created_at_ms: string;
  destroyed_at_ms: string | null;
}

export interface PostgresDataKeyStoreOptions {
  schema?: string;
  /** Poll interval; 0 turns polling off (a one-shot tool such as `tollgate erase`). */
  refreshMs?: number;
  /** Background write or poll failures (the store retries them); never thrown. */
  onError?: (err: unknown) => void;
}

export class PostgresDataKeyStore implements DataKeyStore {
  private readonly s: string;
  private readonly bySubject = new Map<string, WrappedDataKey>();
  private readonly byId = new Map<string, WrappedDataKey>();
  /** Keys made here and not yet stored, by key id. */
  private readonly pending = new Map<string, WrappedDataKey>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Server time of the last successful poll (ISO); null before the first load. */
  private polledAt: string | null = null;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresDataKeyStoreOptions,
  ) {
    this.s = schemaIdent(options.schema ?? 'tollgate');
  }

  /** Runs the migration and loads the live keys; then polls every `refreshMs` until `close()`. */
  static async open(pool: pg.Pool, options: PostgresDataKeyStoreOptions = {}): Promise<PostgresDataKeyStore> {
    const store = new PostgresDataKeyStore(pool, options);
    try {
      await migratePostgres(pool, options.schema ?? 'tollgate', 'data_keys', MIGRATIONS);
      const refreshMs = options.refreshMs ?? DEFAULT_DATA_KEY_REFRESH_MS;
      if (refreshMs > 0) {
        await store.refresh();
        store.timer = setInterval(() => void store.tick(), refreshMs);
        store.timer.unref();
      }
    } catch (err) {
      if (err instanceof TollgateError) throw err;
      throw new TollgateError('TG_ERR_STORE_OPEN', { store: 'postgres', table: 'data_keys' }, { cause: err });
    }
    return store;
  }

  getBySubject(subject: string): WrappedDataKey | null {
    return this.bySubject.get(subject) ?? null;
  }

  getById(keyId: string): WrappedDataKey | null {
    return this.byId.get(keyId) ?? null;
  }

  putIfAbsent(key: WrappedDataKey): WrappedDataKey {
    const live = this.bySubject.get(key.subject);
    if (live) return live;
    const copy = { ...key, wrapped: Buffer.from(key.wrapped) };
    this.bySubject.set(copy.subject, copy);
    this.byId.set(copy.keyId, copy);
    this.pending.set(copy.keyId, copy);
    void this.flush().catch((err: unknown) => this.options.onError?.(err));
    return copy;
  }

  async destroy(subject: string, atMs: number): Promise<string[]> {
    // Keys made here must be in the table first, or the UPDATE would miss them.
    await this.flush();
    let rows: { key_id: string }[];
    try {
      rows = (
        await this.pool.query<{ key_id: string }>(
          `UPDATE ${this.s}.data_keys SET wrapped_key = NULL, destroyed_at_ms = $1, changed_at = clock_timestamp()
           WHERE subject = $2 AND destroyed_at_ms IS NULL RETURNING key_id`,
          [atMs, subject],
        )
      ).rows;
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', table: 'data_keys', op: 'destroy' },
        { cause: err },
      );
    }
    for (const { key_id } of rows) this.forget(key_id, subject);
    return rows.map((r) => r.key_id).sort();
  }

  /** Inserts the keys made here and not yet stored; throws (and keeps them) when the store fails. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.flushing = (async () => {
      try {
        await this.pool.query(
          `INSERT INTO ${this.s}.data_keys (key_id, subject, wrapped_key, created_at_ms)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bigint[]) ON CONFLICT (key_id) DO NOTHING`,
          [
            batch.map((k) => k.keyId),
            batch.map((k) => k.subject),
            batch.map((k) => k.wrapped),
            batch.map((k) => k.createdAtMs),
          ],
        );
        for (const k of batch) this.pending.delete(k.keyId);
      } catch (err) {
        throw new TollgateError(
          'TG_ERR_STORE_WRITE',
          { store: 'postgres', table: 'data_keys', op: 'insert' },
          { cause: err },
        );
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  /** Reads the rows changed since the last poll (all live keys the first time) into the mirror. */
  async refresh(): Promise<void> {
    const since = this.polledAt;
    // One statement, one row at least: the server's clock (so replicas with skewed clocks still
    // read what they have not seen) and the changed rows, if any.
    const changed =
      since === null ? 'k.destroyed_at_ms IS NULL' : `k.changed_at > $1::timestamptz - interval '${POLL_OVERLAP_SECONDS} seconds'`;
    const res = await this.pool.query<Partial<Row> & { polled_at: string }>(
      `SELECT now_.t::text AS polled_at, k.key_id, k.subject, k.wrapped_key, k.created_at_ms, k.destroyed_at_ms
       FROM (SELECT clock_timestamp() AS t) now_ LEFT JOIN ${this.s}.data_keys k ON ${changed}`,
      since === null ? [] : [since],
    );
    for (const row of res.rows) {
      if (row.key_id === undefined || row.key_id === null || row.subject === undefined) continue; // no changes
      if (row.destroyed_at_ms !== null || !row.wrapped_key) {
        this.forget(row.key_id, row.subject);
        continue;
      }
      if (this.byId.has(row.key_id)) continue;
      const key: WrappedDataKey = { keyId: row.key_id, subject: row.subject, wrapped: row.wrapped_key, createdAtMs: Number(row.created_at_ms) };
      this.byId.set(key.keyId, key);
      // Converge on one key per subject where possible: the first one seen stays in use.
      if (!this.bySubject.has(key.subject)) this.bySubject.set(key.subject, key);
    }
    this.polledAt = res.rows[0]!.polled_at;
  }

  /** Stops polling and stores what is pending (best effort: a failure is reported, not thrown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush().catch((err: unknown) => this.options.onError?.(err));
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
      await this.refresh();
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  private forget(keyId: string, subject: string): void {
    const key = this.byId.get(keyId);
    this.byId.delete(keyId);
    this.pending.delete(keyId);
    if (this.bySubject.get(subject)?.keyId === keyId) this.bySubject.delete(subject);
    key?.wrapped.fill(0);
  }
}
