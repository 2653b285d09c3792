import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AuditEvent, AuditEventField } from '../../core/audit-event.js';
import {
  AUDIT_EVENT_FIELDS,
  FIRST_RELEASE_FIELDS,
  BILLING_DETAIL_FIELDS,
  QUOTA_READING_FIELDS,
  BOOLEAN_FIELDS,
  INTEGER_FIELDS,
  JSON_FIELDS,
  REAL_FIELDS,
} from '../../core/audit-event.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { TollgateError } from '../../core/errors.js';
import {
  chainHeadsOf,
  formatPageCursor,
  pageCursorArg,
  pageSize,
  type ChainColumns,
  type ChainHead,
  type ChainHeadPosition,
  type ChainLink,
  type EventFilter,
  type EventPage,
  type ContentUpdate,
  type EventStore,
  type ReaderSource,
} from '../event-store.js';
import { ADMIN_METHOD } from '../../core/admin-action-event.js';
import {
  partitionFor,
  partitionsBetween,
  partitionStartFromName,
  type PartitionGranularity,
  type PartitionRange,
} from './event-partitions.js';
import { eventsAsCopyText } from './event-copy-text.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';
import { lockPostgresRetention } from './postgres-retention-lock.js';

/** Columns stored as jsonb. */
const INT_FIELDS = INTEGER_FIELDS; // bigint columns: node-postgres returns int8 as a string, converted back on read
const FLOAT_FIELDS = REAL_FIELDS;
const BOOL_FIELDS = BOOLEAN_FIELDS;

function columnType(f: AuditEventField): string {
  if (f === 'id') return 'text NOT NULL';
  if (JSON_FIELDS.has(f)) return 'jsonb';
  if (BOOL_FIELDS.has(f)) return 'boolean';
  if (INT_FIELDS.has(f)) return 'bigint';
  if (FLOAT_FIELDS.has(f)) return 'double precision';
  return 'text';
}

/**
 * Migrations of the events component. `{schema}` is replaced by the quoted schema name.
 *
 * Idempotence on the event id: PostgreSQL requires every unique constraint of a partitioned table
 * to include the partition key (docs: "Partitioning — Limitations"), so the key is (id, ts). That
 * is the same as unique on id for the writer's purposes: an event's `timestamp` is fixed when it
 * is captured and hashed into the chain, so a replayed event carries the same (id, ts) and lands
 * in the same partition, where ON CONFLICT sees it. Two *different* events would need the same
 * UUIDv7 to collide, which does not happen.
 *
 * `cursor_` comes from a sequence (not an identity column: identity on partitioned tables needs
 * PostgreSQL 17). `chain_heads` is kept in the append transaction so `chains()` reads one small
 * table instead of aggregating every partition.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE SEQUENCE {schema}.events_cursor_seq;
   CREATE TABLE {schema}.events (
     cursor_ bigint NOT NULL DEFAULT nextval('{schema}.events_cursor_seq'),
     ts timestamptz NOT NULL,
     ${FIRST_RELEASE_FIELDS.map((f) => `${f} ${columnType(f)}`).join(',\n     ')},
     PRIMARY KEY (id, ts)
   ) PARTITION BY RANGE (ts);
   CREATE INDEX events_cursor ON {schema}.events (cursor_);
   CREATE INDEX events_chain_seq ON {schema}.events (chain_id, seq);
   CREATE INDEX events_ts ON {schema}.events (ts);
   CREATE INDEX events_user ON {schema}.events (user_id, cursor_);
   CREATE INDEX events_session ON {schema}.events (session_id, cursor_);
   CREATE INDEX events_feature ON {schema}.events (feature_name, cursor_);
   CREATE INDEX events_key ON {schema}.events (api_key_id, cursor_);
   CREATE INDEX events_vkey ON {schema}.events (virtual_key_id, cursor_);
   CREATE INDEX events_status ON {schema}.events (status, cursor_);
   CREATE TABLE {schema}.chain_heads (
     chain_id text PRIMARY KEY,
     seq bigint NOT NULL,
     hash text NOT NULL,
     count bigint NOT NULL
   );`,
  // 2: no query reads events_key. The key filter is an OR over api_key_id, api_key_prefix and
  // virtual_key_id (the prefix is unindexed, so no bitmap OR), and spend by key reads
  // virtual_key_id or the rollups. One index fewer to update per event (SQLite dropped its twin).
  `DROP INDEX IF EXISTS {schema}.events_key;`,
  // 3: the provider's quota as the answer reported it (issue 20); null in the events stored
  // before. Added to the partitioned table, so every partition (old and new) has the columns.
  QUOTA_READING_FIELDS.map(
    (f) => `ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS ${f} ${columnType(f)};`,
  ).join('\n'),
  // 4: the fingerprint of the provider key those readings belong to (issue 20).
  `ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS provider_key_id ${columnType('provider_key_id')};`,
  // 5: the input tokens written to the prompt cache (issue 18); null in the events stored before.
  `ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS cache_write_tokens ${columnType('cache_write_tokens')};`,
  // 6: audio and image input tokens, the billed unit and quantity, and why a cost is null (issue 18).
  BILLING_DETAIL_FIELDS.map(
    (f) => `ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS ${f} ${columnType(f)};`,
  ).join('\n'),
];

export interface PostgresEventStoreOptions {
  /** A pool to use (not closed by `close()`), or a connection URL (the store owns its pool). */
  pool?: pg.Pool;
  url?: string;
  /** Schema holding the tables (default `tollgate`); tests use a throwaway one. */
  schema?: string;
  /** Partition size (default `day`). */
  partitions?: PartitionGranularity;
  /** Partitions created ahead of now at open, so the first writes of a day do not wait on DDL. */
  aheadPartitions?: number;
  clock?: Clock;
  /** Idle-client errors of the pool (the server went away); without a listener pg would crash the process. */
  onPoolError?: (err: Error) => void;
}

/**
 * The PostgreSQL event store, for N gateway replicas sharing one database (DESIGN.md "Scale").
 * Events are partitioned by day (or month) on `ts`; retention drops whole partitions.
 */
export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  /** The URL the store connected with (null on a caller's pool): verify's worker threads connect with it. */
  private readonly url: string | null;
  readonly schema: string;
  private readonly s: string;
  private readonly granularity: PartitionGranularity;
  private readonly clock: Clock;
  /** Partitions known to exist (by name), so appends do DDL only on a new day. */
  private readonly knownPartitions = new Set<string>();
  /** `writer_probe` exists (probeWrite looks it up until it does). */
  private probeTableReady = false;
  private readonly stageSql: string;
  private readonly copySql: string;
  private readonly copyDirectSql: string;
  private readonly insertSql: string;
  private readonly headsSql: string;
  private readonly hooks: PostgresInTransactionHook[] = [];
  /**
   * Set when a batch met stored events (a replay after an outage): the next batches take the
   * staging path, which skips duplicates, until one of them inserts every row it carries.
   */
  private replaying = false;
  /** Pooled connections that already have this store's staging table (a per-session temp table). */
  private readonly staged = new WeakSet<pg.PoolClient>();

  private constructor(o: PostgresEventStoreOptions) {
    this.url = o.pool ? null : (o.url ?? null);
    if (o.pool) {
      this.pool = o.pool;
      this.ownsPool = false;
    } else {
      this.pool = new pg.Pool({
        connectionString: o.url,
        max: 10,
        connectionTimeoutMillis: 5000,
        // No JIT: every query here is a short indexed read or a batch write, and compiling the
        // plan costs more than running it (a 30-day cost report by user at 50 M events: 270 ms of
        // JIT in a 518 ms query). A SET on each new connection before the pool hands it out, not
        // a startup `options` parameter, which PgBouncer refuses unless configured to ignore it.
        // pg-pool awaits the hook's promise (3.14, `_promiseTry`); @types/pg declares it void.
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        onConnect: async (client: pg.ClientBase) => {
          await client.query('SET jit = off').catch(() => undefined);
        },
      });
      this.ownsPool = true;
      this.pool.on('error', (err) => o.onPoolError?.(err));
    }
    this.schema = o.schema ?? 'tollgate';
    this.s = schemaIdent(this.schema);
    this.granularity = o.partitions ?? 'day';
    this.clock = o.clock ?? systemClock;
    // Batches are COPYed into a per-session temp table, then moved with INSERT … SELECT … ON
    // CONFLICT DO NOTHING: COPY alone cannot skip duplicates, and a replayed batch must.
    const stage = `tg_stage_${this.schema}`;
    const cols = `ts, ${AUDIT_EVENT_FIELDS.join(', ')}`;
    this.stageSql = `CREATE TEMP TABLE IF NOT EXISTS ${stage} (ts timestamptz NOT NULL, ${AUDIT_EVENT_FIELDS.map((f) => `${f} ${columnType(f)}`).join(', ')}) ON COMMIT DELETE ROWS`;
    this.copySql = `COPY ${stage} (${cols}) FROM STDIN`;
    this.copyDirectSql = `COPY ${this.s}.events (${cols}) FROM STDIN`;
    const headsUpsert = `ON CONFLICT (chain_id) DO UPDATE SET
         count = h.count + excluded.count,
         hash = CASE WHEN excluded.seq > h.seq THEN excluded.hash ELSE h.hash END,
         seq = GREATEST(h.seq, excluded.seq)`;
    // Chain heads move in the same statement, from the rows actually inserted (a replayed
    // duplicate is not RETURNed, so it is not counted twice); the ids inserted come back for
    // the in-transaction hooks (rollups).
    this.insertSql = `WITH ins AS (
         INSERT INTO ${this.s}.events (${cols}) SELECT ${cols} FROM ${stage}
         ON CONFLICT (id, ts) DO NOTHING
         RETURNING id, chain_id, seq, hash
       ), heads AS (
         SELECT chain_id, MAX(seq) AS seq, (ARRAY_AGG(hash ORDER BY seq DESC))[1] AS hash, COUNT(*) AS count
         FROM ins WHERE chain_id IS NOT NULL AND seq IS NOT NULL GROUP BY chain_id
       ), up AS (
         INSERT INTO ${this.s}.chain_heads AS h (chain_id, seq, hash, count)
         SELECT chain_id, seq, COALESCE(hash, ''), count FROM heads
         ${headsUpsert}
       )
       SELECT id FROM ins`;
    // Heads of a batch COPYed straight into the events (every row inserted), folded by the client.
    this.headsSql = `INSERT INTO ${this.s}.chain_heads AS h (chain_id, seq, hash, count)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
       ${headsUpsert}`;
  }

  /** Connects, runs the migrations, and creates the partitions of today and the next days. */
  static async open(o: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const store = new PostgresEventStore(o);
    try {
      await store.refuseUnpartitioned();
      await migratePostgres(store.pool, store.schema, 'events', MIGRATIONS);
      const now = store.clock.now();
      const ahead = o.aheadPartitions ?? 2;
      let p = partitionFor(now, store.granularity);
      for (let i = 0; i <= ahead; i++, p = partitionFor(p.toMs, store.granularity))
        await store.ensurePartition(p);
    } catch (err) {
      if (store.ownsPool) await store.pool.end().catch(() => undefined);
      if (err instanceof TollgateError) throw err;
      throw new TollgateError('TG_ERR_STORE_OPEN', { store: 'postgres' }, { cause: err });
    }
    return store;
  }

  /**
   * Every Tollgate release has created `events` partitioned by time (migration 1). A plain table
   * of that name (made by hand or by another tool) would make migration 1 fail obscurely, or be
   * written to without partitions, retention by partition or pruning: refused by name instead,
   * before anything is changed.
   */
  private async refuseUnpartitioned(): Promise<void> {
    const res = await this.pool.query<{ relkind: string }>(
      `SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = 'events'`,
      [this.schema],
    );
    const kind = res.rows[0]?.relkind;
    if (kind !== undefined && kind !== 'p')
      throw new TollgateError('TG_ERR_STORE_OPEN', {
        store: 'postgres',
        table: `${this.schema}.events`,
        reason: 'not partitioned by time (docs/deployment.md "Partitions and retention")',
      });
  }

  /** The pool, for other PostgreSQL-backed components sharing the connection. */
  get connectionPool(): pg.Pool {
    return this.pool;
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    try {
      if (events.length === 0) {
        // The writer probes a store it saw fail with an empty append: it must touch the server.
        await this.pool.query('SELECT 1');
        return;
      }
      let minMs = Infinity;
      let maxMs = -Infinity;
      const ms = events.map((e) => {
        const t = Date.parse(e.timestamp);
        if (t < minMs) minMs = t;
        if (t > maxMs) maxMs = t;
        return t;
      });
      for (const p of partitionsBetween(minMs, maxMs, this.granularity)) {
        if (ms.some((t) => t >= p.fromMs && t < p.toMs)) await this.ensurePartition(p);
      }
      const client = await this.pool.connect();
      try {
        const inserted = (await this.copyDirect(client, events)) ?? (await this.copyStaged(client, events));
        for (const hook of this.hooks) await hook(client, inserted);
        await client.query('COMMIT');
        client.release();
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        // Discard the connection: after a failed COPY or a lost server it is not worth reusing.
        client.release(true);
        throw err;
      }
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', batch: events.length },
        { cause: err },
      );
    }
  }

  /**
   * Registers work to run inside every append transaction, after the events are inserted and
   * before COMMIT, with only the events this transaction inserted (a replayed duplicate is left
   * out), in batch order. A hook that throws rolls the batch back.
   */
  addInTransactionHook(hook: PostgresInTransactionHook): void {
    this.hooks.push(hook);
  }

  /**
   * The usual path: COPY straight into the partitioned table (rows routed to their day), heads
   * from the batch. A batch holding a stored event fails on the primary key (23505): rolled back,
   * and null tells the caller to take the staging path, which skips duplicates. Leaves the
   * transaction open on success.
   */
  private async copyDirect(
    client: pg.PoolClient,
    events: readonly AuditEvent[],
  ): Promise<readonly AuditEvent[] | null> {
    if (this.replaying) return null;
    await client.query('BEGIN');
    try {
      await pipeline(
        Readable.from(eventsAsCopyText(events, JSON_FIELDS)),
        client.query(copyFrom(this.copyDirectSql)),
      );
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      await client.query('ROLLBACK');
      this.replaying = true;
      return null;
    }
    const heads = chainHeadsOf(events);
    if (heads.length > 0) {
      await client.query(this.headsSql, [
        heads.map((h) => h.chain_id),
        heads.map((h) => h.seq),
        heads.map((h) => h.hash),
        heads.map((h) => h.count),
      ]);
    }
    return events;
  }

  /** The replay path: COPY into the session's staging table, then INSERT … ON CONFLICT DO NOTHING. */
  private async copyStaged(
    client: pg.PoolClient,
    events: readonly AuditEvent[],
  ): Promise<readonly AuditEvent[]> {
    if (!this.staged.has(client)) {
      await client.query(this.stageSql);
      this.staged.add(client);
    }
    await client.query('BEGIN');
    await pipeline(
      Readable.from(eventsAsCopyText(events, JSON_FIELDS)),
      client.query(copyFrom(this.copySql)),
    );
    const res = await client.query<{ id: string }>(this.insertSql);
    const ids = new Set(res.rows.map((r) => r.id));
    if (ids.size === events.length) this.replaying = false;
    // The first copy of an id is the one inserted (ON CONFLICT keeps the first row of the batch).
    return events.filter((e) => ids.delete(e.id));
  }

  async query(filter: EventFilter): Promise<AuditEvent[]> {
    const { where, params } = whereClause(filter);
    const order = filter.order === 'asc' ? 'ASC' : 'DESC';
    const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
    const res = await this.pool.query(
      `SELECT * FROM ${this.s}.events ${where} ORDER BY cursor_ ${order}${limit}`,
      params,
    );
    return res.rows.map(fromRow);
  }

  async get(id: string): Promise<AuditEvent | null> {
    const res = await this.pool.query(`SELECT * FROM ${this.s}.events WHERE id = $1 LIMIT 1`, [id]);
    return res.rows[0] ? fromRow(res.rows[0] as Record<string, unknown>) : null;
  }

  async *iterateChain(chainId: string, fromSeq = 1, pageSize = 5000): AsyncIterable<AuditEvent> {
    let next = fromSeq;
    for (;;) {
      const res = await this.pool.query(
        `SELECT * FROM ${this.s}.events WHERE chain_id = $1 AND seq >= $2 ORDER BY seq ASC LIMIT $3`,
        [chainId, next, pageSize],
      );
      const rows = res.rows as Record<string, unknown>[];
      for (const row of rows) yield fromRow(row);
      if (rows.length < pageSize) return;
      next = Number(rows[rows.length - 1]!.seq) + 1;
    }
  }

  async readChainColumns(chainId: string, firstSeq: number, lastSeq: number): Promise<ChainColumns> {
    // Keyset on (chain_id, seq): one bounded range per call, jsonb as text (parsed once per
    // distinct text by the serializer, not per row by the driver).
    const res = await this.pool.query<unknown[]>({
      text: chainRangeSql(this.schema),
      values: [chainId, firstSeq, lastSeq],
      rowMode: 'array',
    });
    return { rows: res.rows, codec: 'postgres', decode: fromTextColumns };
  }

  readerSource(): ReaderSource | null {
    return this.url === null ? null : { kind: 'postgres', url: this.url, schema: this.schema };
  }

  async *iterateChainLinks(chainId: string, fromSeq = 1): AsyncIterable<ChainLink> {
    const size = 20_000;
    let next = fromSeq;
    for (;;) {
      // Arrays of three short columns and a flag: no content read, no row object per event.
      const res = await this.pool.query<[string, string | null, string | null, boolean | null]>({
        text: `SELECT seq, hash, prev_hash, http_method = '${ADMIN_METHOD}' FROM ${this.s}.events
          WHERE chain_id = $1 AND seq >= $2 ORDER BY seq ASC LIMIT $3`,
        values: [chainId, next, size],
        rowMode: 'array',
      });
      for (const [seq, hash, prev_hash, admin] of res.rows) {
        let whole: AuditEvent | null = null;
        if (admin === true) {
          const row = await this.pool.query(
            `SELECT * FROM ${this.s}.events WHERE chain_id = $1 AND seq = $2 LIMIT 1`,
            [chainId, seq],
          );
          whole = fromRow(row.rows[0] as Record<string, unknown>);
        }
        yield { seq: Number(seq), hash, prev_hash, admin: whole };
      }
      if (res.rows.length < size) return;
      next = Number(res.rows[res.rows.length - 1]![0]) + 1;
    }
  }

  async chains(): Promise<ChainHead[]> {
    const res = await this.pool.query<{ chain_id: string; seq: string; hash: string; count: string }>(
      `SELECT chain_id, seq, hash, count FROM ${this.s}.chain_heads ORDER BY chain_id COLLATE "C"`,
    );
    return res.rows.map((r) => ({
      chain_id: r.chain_id,
      seq: Number(r.seq),
      hash: r.hash,
      count: Number(r.count),
    }));
  }

  /** The heads kept in `chain_heads` (one small table), without their counts. */
  async chainHeads(): Promise<ChainHeadPosition[]> {
    const res = await this.pool.query<{ chain_id: string; seq: string; hash: string }>(
      `SELECT chain_id, seq, hash FROM ${this.s}.chain_heads ORDER BY chain_id COLLATE "C"`,
    );
    return res.rows.map((r) => ({ chain_id: r.chain_id, seq: Number(r.seq), hash: r.hash }));
  }

  /**
   * Pages in (ts, cursor_) order, newest first: the `events_ts` index of each partition gives the
   * time order and partition pruning; `cursor_` (unique) orders events of the same instant. The
   * cursor carries `ts` in microseconds, PostgreSQL's own precision, so the position is exact.
   */
  async page(filter: EventFilter, cursor: string | null): Promise<EventPage> {
    const after = pageCursorArg(cursor);
    const { where, params } = whereClause(filter);
    let cond = where;
    if (after) {
      params.push(String(after.tsUs), after.position);
      const t = `('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond')`;
      const c = `$${params.length}::bigint`;
      cond = `${cond ? `${cond} AND` : 'WHERE'} (ts < ${t} OR (ts = ${t} AND cursor_ < ${c}))`;
    }
    const size = pageSize(filter);
    const res = await this.pool.query(
      `SELECT *, (EXTRACT(EPOCH FROM ts) * 1000000)::bigint AS ts_us_ FROM ${this.s}.events ${cond}
       ORDER BY ts DESC, cursor_ DESC LIMIT ${size + 1}`,
      params,
    );
    const rows = res.rows as Record<string, unknown>[];
    const shown = rows.slice(0, size);
    const last = shown[shown.length - 1];
    return {
      events: shown.map(fromRow),
      next:
        rows.length > size && last
          ? formatPageCursor({ tsUs: Number(last.ts_us_), position: Number(last.cursor_) })
          : null,
    };
  }

  async count(filter: EventFilter = {}): Promise<number> {
    if (Object.values(filter).every((v) => v === undefined)) {
      // Everything: the chain heads already count every chained row (kept in the append
      // transaction); only unchained rows are counted, through the (chain_id, seq) index.
      // A COUNT(*) would scan every partition (seconds at 10 million rows).
      const res = await this.pool.query<{ n: string }>(
        `SELECT (SELECT COALESCE(SUM(count), 0) FROM ${this.s}.chain_heads) + (SELECT COUNT(*) FROM ${this.s}.events WHERE chain_id IS NULL) AS n`,
      );
      return Number(res.rows[0]!.n);
    }
    const { where, params } = whereClause(filter);
    const res = await this.pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM ${this.s}.events ${where}`,
      params,
    );
    return Number(res.rows[0]!.n);
  }

  /**
   * See EventStore.probeWrite: upserts the one row of `writer_probe` (created on first use), so it
   * fails on a read-only server or a full disk, where `SELECT 1` would still answer.
   */
  async probeWrite(): Promise<void> {
    try {
      // CREATE only when the table is missing, and looked up only until found: PostgreSQL checks
      // the CREATE privilege on the schema even for a table that exists (IF NOT EXISTS), and a role
      // without it must still be able to probe.
      if (!this.probeTableReady) {
        const found = await this.pool.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [
          `${this.s}.writer_probe`,
        ]);
        if (found.rows[0]?.t == null) {
          await this.pool.query(
            `CREATE TABLE IF NOT EXISTS ${this.s}.writer_probe (id integer PRIMARY KEY CHECK (id = 1), n bigint NOT NULL)`,
          );
        }
        this.probeTableReady = true;
      }
      await this.pool.query(
        `INSERT INTO ${this.s}.writer_probe (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = writer_probe.n + 1`,
      );
    } catch (err) {
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'postgres', probe: true }, { cause: err });
    }
  }

  async cursor(): Promise<number> {
    const res = await this.pool.query<{ c: string | null }>(`SELECT MAX(cursor_) AS c FROM ${this.s}.events`);
    return Number(res.rows[0]!.c ?? 0);
  }

  /** Spend of one gateway-issued key since `sinceMs`, micro-USD (budgets are seeded from it once per period). */
  async spentSince(virtualKeyId: string, sinceMs: number): Promise<number> {
    const res = await this.pool.query<{ s: string }>(
      `SELECT COALESCE(SUM(cost_micro_usd), 0) AS s FROM ${this.s}.events WHERE virtual_key_id = $1 AND ts >= $2::timestamptz`,
      [virtualKeyId, new Date(sinceMs).toISOString()],
    );
    return Number(res.rows[0]!.s);
  }

  /**
   * Retention: drops every partition that ends at or before `before` (whole days or months; a
   * partition holding anything newer is kept). Chain head counts are recomputed. Returns the
   * names dropped. Verifying a chain whose start was dropped needs a checkpoint (`verify --from`).
   */
  async dropPartitionsBefore(before: Date): Promise<string[]> {
    const res = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
      [`${this.s}.events`],
    );
    const dropped: string[] = [];
    for (const { name } of res.rows) {
      const start = partitionStartFromName(name);
      if (start === null) continue;
      const end = partitionFor(start, name.length === 'events_p20260101'.length ? 'day' : 'month').toMs;
      if (end > before.getTime()) continue;
      await this.pool.query(`DROP TABLE IF EXISTS ${this.s}."${name}"`);
      this.knownPartitions.delete(name);
      dropped.push(name);
    }
    if (dropped.length > 0) {
      await this.pool.query(
        `WITH c AS (SELECT chain_id, COUNT(*) AS n FROM ${this.s}.events WHERE chain_id IS NOT NULL GROUP BY chain_id)
         UPDATE ${this.s}.chain_heads h SET count = COALESCE((SELECT n FROM c WHERE c.chain_id = h.chain_id), 0)`,
      );
    }
    return dropped;
  }

  /** See EventStore.lockRetention: a session advisory lock keyed by the schema. */
  async lockRetention(holder: string) {
    return lockPostgresRetention(this.pool, this.schema, holder);
  }

  /**
   * See EventStore.deleteChainRange. A time partition whose every row is to be deleted (this
   * chain's range, nothing kept, no other chain's row) is detached and dropped whole; the rest of
   * the range is deleted row by row; all in one transaction, chain head counts kept.
   */
  async deleteChainRange(
    chainId: string,
    firstSeq: number,
    lastSeq: number,
    keepSeqs: readonly number[],
  ): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const span = await client.query<{ lo: Date | null; hi: Date | null }>(
        `SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM ${this.s}.events WHERE chain_id = $1 AND seq >= $2 AND seq <= $3`,
        [chainId, firstSeq, lastSeq],
      );
      const { lo, hi } = span.rows[0]!;
      let deleted = 0;
      this.lastDroppedPartitions = [];
      if (lo !== null && hi !== null) {
        const existing = new Set(await this.partitions());
        for (const p of partitionsBetween(lo.getTime(), hi.getTime(), this.granularity)) {
          if (!existing.has(p.name)) continue;
          const rows = await client.query<{ n: string; others: string }>(
            `SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE NOT (chain_id IS NOT DISTINCT FROM $1 AND seq >= $2 AND seq <= $3 AND NOT (seq = ANY($4::bigint[])))) AS others
             FROM ${this.s}."${p.name}"`,
            [chainId, firstSeq, lastSeq, [...keepSeqs]],
          );
          const n = Number(rows.rows[0]!.n);
          if (n === 0 || Number(rows.rows[0]!.others) > 0) continue;
          await client.query(`ALTER TABLE ${this.s}.events DETACH PARTITION ${this.s}."${p.name}"`);
          await client.query(`DROP TABLE ${this.s}."${p.name}"`);
          this.knownPartitions.delete(p.name);
          this.lastDroppedPartitions.push(p.name);
          deleted += n;
        }
      }
      const res = await client.query(
        `DELETE FROM ${this.s}.events WHERE chain_id = $1 AND seq >= $2 AND seq <= $3 AND NOT (seq = ANY($4::bigint[]))`,
        [chainId, firstSeq, lastSeq, [...keepSeqs]],
      );
      deleted += res.rowCount ?? 0;
      await client.query(`UPDATE ${this.s}.chain_heads SET count = count - $2 WHERE chain_id = $1`, [
        chainId,
        deleted,
      ]);
      await client.query('COMMIT');
      return deleted;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'postgres', prune: true }, { cause: err });
    } finally {
      client.release();
    }
  }

  /** Partitions the last deleteChainRange dropped whole (for the prune's report and tests). */
  lastDroppedPartitions: string[] = [];

  /** See EventStore.replaceContent (full-text search reads the stored content: nothing else to drop). */
  async replaceContent(updates: readonly ContentUpdate[]): Promise<number> {
    if (updates.length === 0) return 0;
    const res = await this.pool.query(
      `UPDATE ${this.s}.events e SET prompt = u.p, response = u.r
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, p, r) WHERE e.id = u.id`,
      [updates.map((u) => u.id), updates.map((u) => u.prompt), updates.map((u) => u.response)],
    );
    return res.rowCount ?? 0;
  }

  /** Names of the existing event partitions, oldest first. */
  async partitions(): Promise<string[]> {
    const res = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
      [`${this.s}.events`],
    );
    return res.rows.map((r) => r.name);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  private async ensurePartition(p: PartitionRange): Promise<void> {
    if (this.knownPartitions.has(p.name)) return;
    const from = new Date(p.fromMs).toISOString();
    const to = new Date(p.toMs).toISOString();
    try {
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.s}."${p.name}" PARTITION OF ${this.s}.events FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
    } catch (err) {
      // Another replica created it between our IF NOT EXISTS check and the CREATE (a catalog race
      // IF NOT EXISTS does not cover): 42P07 duplicate_table, 23505 on pg_type's unique index.
      const code = (err as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw err;
    }
    this.knownPartitions.add(p.name);
  }
}

/** Work that must commit in the append transaction (rollups), given the events it inserted. */
export type PostgresInTransactionHook = (
  client: pg.PoolClient,
  inserted: readonly AuditEvent[],
) => Promise<void>;

/** The SQL condition of an event filter: the one filter→SQL translation of the PostgreSQL dialect. */
function whereClause(filter: EventFilter): { where: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (...refs: string[]) => string, ...values: unknown[]): void => {
    const refs = values.map((v) => {
      params.push(v);
      return `$${params.length}`;
    });
    conds.push(sql(...refs));
  };
  // ts bounds as timestamptz so the planner prunes partitions.
  if (filter.sinceMs !== undefined)
    add((a) => `ts >= ${a}::timestamptz`, new Date(filter.sinceMs).toISOString());
  if (filter.untilMs !== undefined)
    add((a) => `ts < ${a}::timestamptz`, new Date(filter.untilMs).toISOString());
  if (filter.user !== undefined) add((a) => `user_id = ${a}`, filter.user);
  if (filter.session !== undefined) add((a) => `session_id = ${a}`, filter.session);
  if (filter.feature !== undefined) add((a) => `feature_name = ${a}`, filter.feature);
  if (filter.key !== undefined)
    add((a) => `(api_key_id = ${a} OR api_key_prefix = ${a} OR virtual_key_id = ${a})`, filter.key);
  if (filter.status !== undefined) add((a) => `status = ${a}`, filter.status);
  if (filter.model !== undefined) add((a) => `(model_requested = ${a} OR model_used = ${a})`, filter.model);
  if (filter.chainId !== undefined) add((a) => `chain_id = ${a}`, filter.chainId);
  if (filter.afterCursor !== undefined) add((a) => `cursor_ > ${a}`, filter.afterCursor);
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

/**
 * `SELECT` list of the event columns in AUDIT_EVENT_FIELDS order with the jsonb columns as text,
 * for `fromTextColumns` and verify's serializer (canonical-columns.ts), which parse them once per
 * distinct text instead of the driver parsing every row's.
 */
export const EVENT_TEXT_COLUMNS = AUDIT_EVENT_FIELDS.map((f) => (JSON_FIELDS.has(f) ? `${f}::text` : f)).join(
  ', ',
);

/**
 * The keyset read of a chain's seq range in seq order, `$1` chain id, `$2` and `$3` first and last
 * seq; by default the columns as EVENT_TEXT_COLUMNS: readChainColumns, and verify's worker threads
 * over their own connections (integrity/postgres-segment-reader.ts), which also read the links and
 * the server's canonical text of the same range.
 */
export function chainRangeSql(schema: string, columns: string = EVENT_TEXT_COLUMNS): string {
  return `SELECT ${columns} FROM ${schemaIdent(schema)}.events
    WHERE chain_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq ASC`;
}

/** The event of a row read with `rowMode: 'array'` over EVENT_TEXT_COLUMNS (the same as fromRow). */
export function fromTextColumns(values: readonly unknown[]): AuditEvent {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < AUDIT_EVENT_FIELDS.length; i++) {
    const f = AUDIT_EVENT_FIELDS[i]!;
    const v = values[i];
    // What the driver does with a jsonb column: JSON.parse of its text.
    row[f] = JSON_FIELDS.has(f) && typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  }
  return fromRow(row);
}

/** Rebuilds the wire form, with every field, from a stored row. */
export function fromRow(row: Record<string, unknown>): AuditEvent {
  const e: Record<string, unknown> = {};
  for (const f of AUDIT_EVENT_FIELDS) {
    const v = row[f];
    if (JSON_FIELDS.has(f)) e[f] = v ?? [];
    else if (INT_FIELDS.has(f)) e[f] = v === null || v === undefined ? null : Number(v);
    else e[f] = v ?? null;
  }
  return e as unknown as AuditEvent;
}
