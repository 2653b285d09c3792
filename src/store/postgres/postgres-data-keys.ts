/**
 * Per-person data keys (encrypted content mode) in PostgreSQL, shared by every replica.
 *
 * The redact stage encrypts on the event path and cannot wait for a round trip, so each replica
 * answers `getBySubject`/`putIfAbsent` from a bounded in-memory mirror (least recently used
 * people first out, `mirrorCap`): loaded at open, then kept in step by polling the rows changed
 * since the last poll (every `refreshMs`, default 1 s) and, at once, when an erasure anywhere
 * sends its notification (LISTEN/NOTIFY). A person not in the mirror gets a new key (one more
 * row; every key of a person is kept and erasure destroys them all). `findById` (decryption) reads
 * the table, so it is never wrong about a destroyed or evicted key. A new key is used at once and
 * inserted in the background (retried until it lands); the wrapped key is useless without the
 * master key, so the mirror holds nothing a memory dump of the process would not already reveal.
 *
 * Erasure and keys made concurrently (docs/privacy.md, "Erasure on PostgreSQL"):
 * - each erasure writes a tombstone (`data_key_erasures`: subject, `seq` from one sequence) and
 *   destroys the subject's live keys, in one transaction that excludes key inserts (table lock);
 *   every replica knows the highest erasure `seq` it has seen (from its polls, or its own
 *   erasures). A key carries that number; its insert is refused (stored destroyed) when the
 *   subject has a tombstone with a higher `seq`: the replica made the key before it could know of
 *   that erasure, so the key may hold content from before it. So a key made before an erasure
 *   never survives it, whenever it reaches the table; a key made after the replica has seen the
 *   erasure is a new period for the person (as on SQLite, where a returning person is re-keyed);
 * - the erasing replica drops the destroyed keys from its mirror before `destroy` returns, and a
 *   poll read before the erasure committed cannot bring them back; other replicas drop them when
 *   the notification arrives (a few ms) or, if it is lost, at their next poll (≤ `refreshMs`).
 *   What they encrypt in between is under a destroyed or refused key: unreadable, never exposed;
 * - a key not yet inserted when the process dies is lost with the content encrypted under it
 *   (unreadable, not exposed).
 */
import pg from 'pg';
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
  // Erasure tombstones: one row per erased subject, its latest erasure. seq is taken under the
  // erasure's table lock, so seq order is commit order. destroyed_seq: the erasure that destroyed
  // (or refused) a key, which is how polls find every destroyed key they have not applied.
  // Subjects erased before this migration get a tombstone (their history, nothing pending).
  `CREATE TABLE {schema}.data_key_erasures (
     subject text PRIMARY KEY,
     seq bigserial NOT NULL,
     erased_at_ms bigint NOT NULL,
     erased_at timestamptz NOT NULL DEFAULT clock_timestamp()
   );
   CREATE INDEX data_key_erasures_seq ON {schema}.data_key_erasures (seq);
   ALTER TABLE {schema}.data_keys ADD COLUMN destroyed_seq bigint;
   CREATE INDEX data_keys_destroyed_seq ON {schema}.data_keys (destroyed_seq) WHERE destroyed_seq IS NOT NULL;
   INSERT INTO {schema}.data_key_erasures (subject, erased_at_ms)
     SELECT subject, MAX(destroyed_at_ms) FROM {schema}.data_keys WHERE destroyed_at_ms IS NOT NULL GROUP BY subject ORDER BY subject;`,
];

/** Default poll interval: the bound within which an erasure elsewhere reaches this replica if its notification is lost. */
export const DEFAULT_DATA_KEY_REFRESH_MS = 1_000;
/**
 * Default number of people whose key a replica keeps in memory: 300-375 B each measured (heap,
 * 30-character user ids), so about 7.5 MB at the cap. Past it, the least recently seen person is
 * dropped, and gets one more key (one more row) if seen again.
 */
export const DEFAULT_DATA_KEY_MIRROR_CAP = 20_000;
/** Erasures notify replicas on this channel; the payload is the schema name (no person, no key). */
const CHANNEL = 'tollgate_data_keys';
/**
 * Each poll re-reads this much before its previous one: a row's changed_at is taken when its
 * statement runs, and a slow commit could otherwise land behind a poll that already passed it.
 */
const POLL_OVERLAP_SECONDS = 10;

interface Row {
  key_id: string | null;
  subject: string | null;
  wrapped_key: Buffer | null;
  created_at_ms: string | null;
  destroyed_at_ms: string | null;
}

/** A key made here and not yet stored, with the highest erasure seq this replica had seen when it made it. */
interface PendingKey {
  key: WrappedDataKey;
  seenSeq: number;
}

export interface PostgresDataKeyStoreOptions {
  schema?: string;
  /** Poll interval; 0 turns polling and listening off (a one-shot tool such as `tollgate erase`). */
  refreshMs?: number;
  /** Listen for erasure notifications (default: when polling). */
  listen?: boolean;
  /** Most people whose key is kept in memory (default DEFAULT_DATA_KEY_MIRROR_CAP). */
  mirrorCap?: number;
  /** Background write, poll or listen failures (the store retries them); never thrown. */
  onError?: (err: unknown) => void;
}

export class PostgresDataKeyStore implements DataKeyStore {
  private readonly s: string;
  private readonly schemaName: string;
  private readonly cap: number;
  /** subject → the key in use here; Map order is recency (least recently used first). */
  private readonly mirror = new Map<string, WrappedDataKey>();
  /** Keys made here and not yet stored, by key id. */
  private readonly pending = new Map<string, PendingKey>();
  /** Erasures made here that no completed poll has read yet: subject → seq (a poll older than it must not restore the keys). */
  private readonly localErasures = new Map<string, number>();
  /** Highest erasure seq known to have committed before now (a key made now is after it). */
  private seenSeq = 0;
  /** Highest erasure seq whose destroyed keys a poll has applied to the mirror. */
  private appliedSeq = 0;
  private flushing: Promise<void> | null = null;
  private pollTail: Promise<void> = Promise.resolve();
  private pollQueued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private listener: pg.Client | null = null;
  private relisten: NodeJS.Timeout | null = null;
  /** Server time of the last successful poll (ISO); null before the first load. */
  private polledAt: string | null = null;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresDataKeyStoreOptions,
  ) {
    this.schemaName = options.schema ?? 'tollgate';
    this.s = schemaIdent(this.schemaName);
    this.cap = Math.max(1, options.mirrorCap ?? DEFAULT_DATA_KEY_MIRROR_CAP);
  }

  /** Runs the migrations and loads the live keys; then polls every `refreshMs` and listens until `close()`. */
  static async open(pool: pg.Pool, options: PostgresDataKeyStoreOptions = {}): Promise<PostgresDataKeyStore> {
    const store = new PostgresDataKeyStore(pool, options);
    try {
      await migratePostgres(pool, store.schemaName, 'data_keys', MIGRATIONS);
      const refreshMs = options.refreshMs ?? DEFAULT_DATA_KEY_REFRESH_MS;
      if (refreshMs > 0) {
        await store.refresh();
        store.timer = setInterval(() => void store.tick(), refreshMs);
        store.timer.unref();
        if (options.listen ?? true) await store.listen(false);
      } else {
        const res = await pool.query<{ seq: string }>(
          `SELECT COALESCE(MAX(seq), 0)::text AS seq FROM ${store.s}.data_key_erasures`,
        );
        store.seenSeq = Number(res.rows[0]!.seq);
      }
    } catch (err) {
      if (err instanceof TollgateError) throw err;
      throw new TollgateError('TG_ERR_STORE_OPEN', { store: 'postgres', table: 'data_keys' }, { cause: err });
    }
    return store;
  }

  getBySubject(subject: string): WrappedDataKey | null {
    const key = this.mirror.get(subject);
    if (!key) return null;
    // Most recently used last.
    this.mirror.delete(subject);
    this.mirror.set(subject, key);
    return key;
  }

  async findById(keyId: string): Promise<WrappedDataKey | null> {
    // A key made here is read once it is stored (or refused).
    if (this.pending.has(keyId)) await this.flush();
    try {
      const res = await this.pool.query<Row>(
        `SELECT key_id, subject, wrapped_key, created_at_ms FROM ${this.s}.data_keys
         WHERE key_id = $1 AND destroyed_at_ms IS NULL AND wrapped_key IS NOT NULL`,
        [keyId],
      );
      return toKey(res.rows[0]);
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_UNAVAILABLE',
        { store: 'postgres', table: 'data_keys', op: 'read' },
        { cause: err },
      );
    }
  }

  putIfAbsent(key: WrappedDataKey): WrappedDataKey {
    const live = this.getBySubject(key.subject);
    if (live) return live;
    const copy = { ...key, wrapped: Buffer.from(key.wrapped) };
    this.remember(copy);
    this.pending.set(copy.keyId, { key: copy, seenSeq: this.seenSeq });
    void this.flush().catch((err: unknown) => this.options.onError?.(err));
    return copy;
  }

  async destroy(subject: string, atMs: number): Promise<string[]> {
    // Keys made here go in first, so the erasure destroys (and names) them.
    await this.flush();
    const client = await this.connect('destroy');
    let seq: number;
    let keyIds: string[];
    try {
      await client.query('BEGIN');
      // SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE a key insert holds (and with
      // itself): an insert either commits before this erasure reads the table below, or reads the
      // tombstone after this erasure commits. Erasures are serialised, so seq order is commit order.
      await client.query(`LOCK TABLE ${this.s}.data_keys IN SHARE ROW EXCLUSIVE MODE`);
      const tomb = await client.query<{ seq: string }>(
        `INSERT INTO ${this.s}.data_key_erasures (subject, erased_at_ms) VALUES ($1, $2)
         ON CONFLICT (subject) DO UPDATE SET seq = excluded.seq, erased_at_ms = excluded.erased_at_ms, erased_at = clock_timestamp()
         RETURNING seq::text`,
        [subject, atMs],
      );
      seq = Number(tomb.rows[0]!.seq);
      const res = await client.query<{ key_id: string }>(
        `UPDATE ${this.s}.data_keys SET wrapped_key = NULL, destroyed_at_ms = $1, destroyed_seq = $3, changed_at = clock_timestamp()
         WHERE subject = $2 AND destroyed_at_ms IS NULL RETURNING key_id`,
        [atMs, subject, seq],
      );
      keyIds = res.rows.map((r) => r.key_id).sort();
      // Delivered to every listening replica when (and only if) this transaction commits.
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, this.schemaName]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', table: 'data_keys', op: 'destroy' },
        { cause: err },
      );
    } finally {
      client.release();
    }
    // Here at once: no key of the subject made before now is used again (one made meanwhile
    // carries an older seq and will be refused); the next one is after the erasure.
    for (const [id, p] of this.pending) if (p.key.subject === subject) this.forget(id, subject);
    const inUse = this.mirror.get(subject);
    if (inUse) this.forget(inUse.keyId, subject);
    this.localErasures.set(subject, seq);
    this.seenSeq = Math.max(this.seenSeq, seq);
    return keyIds;
  }

  /** Inserts the keys made here and not yet stored; throws (and keeps them) when the store fails. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.flushing = this.insert(batch);
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Reads the rows changed since the last poll (the most recent live keys, up to the cap, the first
   * time) into the mirror. Polls run one at a time; a call made while one runs gets the next one,
   * whose snapshot is taken after the call.
   */
  refresh(): Promise<void> {
    if (this.pollQueued) return this.pollQueued;
    const next = this.pollTail
      .catch(() => undefined)
      .then(() => {
        this.pollQueued = null;
        return this.poll();
      });
    this.pollQueued = next;
    this.pollTail = next;
    return next;
  }

  /** Number of people whose key is in memory (at most the cap). */
  mirrorSize(): number {
    return this.mirror.size;
  }

  /** Stops polling and listening and stores what is pending (best effort: a failure is reported, not thrown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.relisten) clearTimeout(this.relisten);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.flush().catch((err: unknown) => this.options.onError?.(err));
  }

  private async insert(batch: PendingKey[]): Promise<void> {
    const client = await this.connect('insert');
    let refused: { key_id: string; subject: string }[];
    try {
      await client.query('BEGIN');
      // Taken before the INSERT reads the tombstones, so its snapshot is after any erasure that
      // holds the table (see destroy); the INSERT would take this lock anyway.
      await client.query(`LOCK TABLE ${this.s}.data_keys IN ROW EXCLUSIVE MODE`);
      // A key made before its replica saw the subject's latest erasure is stored destroyed.
      await client.query(
        `INSERT INTO ${this.s}.data_keys (key_id, subject, wrapped_key, created_at_ms, destroyed_at_ms, destroyed_seq)
         SELECT k.key_id, k.subject,
                CASE WHEN e.seq > k.seen THEN NULL ELSE k.wrapped END,
                k.created_at_ms,
                CASE WHEN e.seq > k.seen THEN e.erased_at_ms END,
                CASE WHEN e.seq > k.seen THEN e.seq END
         FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bigint[], $5::bigint[]) AS k(key_id, subject, wrapped, created_at_ms, seen)
         LEFT JOIN ${this.s}.data_key_erasures e ON e.subject = k.subject
         ON CONFLICT (key_id) DO NOTHING`,
        [
          batch.map((p) => p.key.keyId),
          batch.map((p) => p.key.subject),
          // Copies: forget() zeroes a key's bytes, possibly before this query is sent.
          batch.map((p) => Buffer.from(p.key.wrapped)),
          batch.map((p) => p.key.createdAtMs),
          batch.map((p) => p.seenSeq),
        ],
      );
      // Refused now, or (a retried batch) stored earlier and destroyed since.
      refused = (
        await client.query<{ key_id: string; subject: string }>(
          `SELECT key_id, subject FROM ${this.s}.data_keys WHERE key_id = ANY($1::text[]) AND wrapped_key IS NULL`,
          [batch.map((p) => p.key.keyId)],
        )
      ).rows;
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', table: 'data_keys', op: 'insert' },
        { cause: err },
      );
    } finally {
      client.release();
    }
    for (const p of batch) if (this.pending.get(p.key.keyId) === p) this.pending.delete(p.key.keyId);
    for (const r of refused) this.forget(r.key_id, r.subject);
  }

  private async poll(): Promise<void> {
    const since = this.polledAt;
    // One statement, so one snapshot: the server's clock (replicas with skewed clocks still read
    // what they have not seen), the highest erasure seq, and the changed rows: recently changed
    // ones, and every key destroyed by an erasure this replica has not applied yet.
    const head = `SELECT clock_timestamp()::text AS polled_at, (SELECT COALESCE(MAX(seq), 0) FROM ${this.s}.data_key_erasures)::text AS seq`;
    const cols = 'k.key_id, k.subject, k.wrapped_key, k.created_at_ms, k.destroyed_at_ms';
    const res =
      since === null
        ? await this.pool.query<Row & { polled_at: string; seq: string }>(
            `SELECT h.polled_at, h.seq, ${cols} FROM (${head}) h LEFT JOIN LATERAL (
               SELECT * FROM ${this.s}.data_keys WHERE destroyed_at_ms IS NULL ORDER BY changed_at DESC LIMIT $1) k ON true`,
            [this.cap],
          )
        : await this.pool.query<Row & { polled_at: string; seq: string }>(
            `SELECT h.polled_at, h.seq, ${cols} FROM (${head}) h LEFT JOIN ${this.s}.data_keys k
               ON k.changed_at > $1::timestamptz - interval '${POLL_OVERLAP_SECONDS} seconds' OR k.destroyed_seq > $2`,
            [since, this.appliedSeq],
          );
    const snapshotSeq = Number(res.rows[0]!.seq);
    const live: WrappedDataKey[] = [];
    // Destroyed rows first, so a person's new key is not passed over for one about to go.
    for (const row of res.rows) {
      if (row.key_id === null || row.subject === null) continue; // no changes
      const key = toKey(row);
      if (key === null || row.destroyed_at_ms !== null) this.forget(row.key_id, row.subject);
      else live.push(key);
    }
    // The first load is newest first: add oldest first, so the newest are the most recent.
    if (since === null) live.reverse();
    for (const key of live) {
      // Read before an erasure made here committed: that key is destroyed.
      if ((this.localErasures.get(key.subject) ?? 0) > snapshotSeq) continue;
      // Converge on one key per subject where possible (the first one seen stays in use); keys
      // made elsewhere only fill free room, never push out a person seen here.
      if (this.mirror.has(key.subject) || this.mirror.size >= this.cap) continue;
      this.mirror.set(key.subject, key);
    }
    for (const [subject, seq] of this.localErasures)
      if (seq <= snapshotSeq) this.localErasures.delete(subject);
    this.appliedSeq = Math.max(this.appliedSeq, snapshotSeq);
    this.seenSeq = Math.max(this.seenSeq, snapshotSeq);
    this.polledAt = res.rows[0]!.polled_at;
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

  /** A dedicated connection that LISTENs for erasures; re-opened within 1 s when lost (polls cover the gap). */
  private async listen(reconnected: boolean): Promise<void> {
    if (this.closed) return;
    // TCP keepalive, so a silently dead link is noticed and re-opened (polls cover it meanwhile);
    // named, so an operator can tell this connection in pg_stat_activity (63 bytes at most there).
    const client = new pg.Client({
      ...this.pool.options,
      keepAlive: true,
      application_name: `tollgate data keys ${this.schemaName}`.slice(0, 63),
    });
    let lost = false;
    const onLost = (err: unknown): void => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = null;
      client.end().catch(() => undefined);
      if (this.closed) return;
      if (err !== null) this.options.onError?.(err);
      const refreshMs = this.options.refreshMs ?? DEFAULT_DATA_KEY_REFRESH_MS;
      this.relisten = setTimeout(
        () => void this.listen(true),
        Math.min(refreshMs, DEFAULT_DATA_KEY_REFRESH_MS),
      );
      this.relisten.unref();
    };
    client.on('error', onLost);
    client.on('end', () => onLost(null));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || n.payload !== this.schemaName) return;
      this.refresh().catch((err: unknown) => this.options.onError?.(err));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      onLost(
        new TollgateError(
          'TG_ERR_STORE_UNAVAILABLE',
          { store: 'postgres', table: 'data_keys', op: 'listen' },
          { cause: err },
        ),
      );
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    // Notifications sent while not listening are lost: catch up now.
    if (reconnected) this.refresh().catch((err: unknown) => this.options.onError?.(err));
  }

  private async connect(op: string): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', table: 'data_keys', op },
        { cause: err },
      );
    }
  }

  private remember(key: WrappedDataKey): void {
    this.mirror.set(key.subject, key);
    // Least recently used out; a pending key stays in `pending` until it is stored.
    for (const subject of this.mirror.keys()) {
      if (this.mirror.size <= this.cap) break;
      this.mirror.delete(subject);
    }
  }

  private forget(keyId: string, subject: string): void {
    const pending = this.pending.get(keyId);
    this.pending.delete(keyId);
    const inUse = this.mirror.get(subject);
    if (inUse?.keyId === keyId) this.mirror.delete(subject);
    pending?.key.wrapped.fill(0);
    if (inUse?.keyId === keyId) inUse.wrapped.fill(0);
  }
}

function toKey(row: Row | undefined): WrappedDataKey | null {
  if (
    !row ||
    row.key_id === null ||
    row.subject === null ||
    row.wrapped_key === null ||
    row.created_at_ms === null
  )
    return null;
  return {
    keyId: row.key_id,
    subject: row.subject,
    wrapped: row.wrapped_key,
    createdAtMs: Number(row.created_at_ms),
  };
}
