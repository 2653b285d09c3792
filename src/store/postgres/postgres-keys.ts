import type pg from 'pg';
import type { KeyStore } from '../../access/key-store.js';
import type { VirtualKeyRecord } from '../../access/virtual-keys.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { TollgateError } from '../../core/errors.js';
import { keyRecordFromRow as toRecord, type KeyRow } from '../key-row.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';

/** Versioned migrations of the `keys` component (the SQLite `virtual_keys` layout, ms timestamps). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE {schema}.virtual_keys (
     id text PRIMARY KEY,
     name text NOT NULL,
     key_hash text NOT NULL UNIQUE,
     display_prefix text NOT NULL,
     user_id text,
     team text,
     allowed_models text NOT NULL,
     rpm integer,
     tpm integer,
     budget_micro_usd bigint,
     budget_period text CHECK (budget_period IN ('day', 'month')),
     expires_at bigint,
     created_at bigint NOT NULL,
     revoked_at bigint,
     last_used_at bigint
   );`,
  // 2 (issue 20): a key's in-flight limit and whether headers may override its user and team.
  `ALTER TABLE {schema}.virtual_keys ADD COLUMN IF NOT EXISTS concurrent integer;
   ALTER TABLE {schema}.virtual_keys ADD COLUMN IF NOT EXISTS attribution_override boolean NOT NULL DEFAULT false;`,
];

/** "Last used" is shown at minute granularity: one write a minute per busy key. */
const TOUCH_GRANULARITY_MS = 60_000;
/** Cached records at most (positive lookups only); the cache is cleared when full. */
const CACHE_SIZE = 10_000;
/**
 * How long a looked-up key may be served from this replica's memory. A revoke (or any change)
 * made through another replica or `tollgate keys revoke` is refused by every replica at most
 * this long after it commits; a revoke made through this store instance is seen at once.
 */
export const DEFAULT_KEY_CACHE_MS = 1_000;

export interface PostgresKeyStoreOptions {
  schema?: string;
  /** See DEFAULT_KEY_CACHE_MS; 0 reads the database on every lookup. */
  cacheMs?: number;
  clock?: Clock;
}

/**
 * KeyStore in PostgreSQL, shared by every replica (same schema and pool as the events).
 *
 * `findByHash` runs on every managed-mode request, so a positive lookup is kept for at most
 * `cacheMs` (default 1 s): the documented bound within which a revoke elsewhere reaches every
 * replica. Unknown hashes are never cached (a key created elsewhere works on its first request).
 */
export class PostgresKeyStore implements KeyStore {
  private readonly s: string;
  private readonly ready: Promise<void>;
  private readonly cacheMs: number;
  private readonly clock: Clock;
  private readonly cache = new Map<string, { record: VirtualKeyRecord; atMs: number }>();
  /** id → last time written, to coalesce `touch`. Bounded by the number of keys. */
  private readonly lastTouchWrite = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresKeyStoreOptions = {},
  ) {
    const schema = options.schema ?? 'tollgate';
    this.s = schemaIdent(schema);
    this.cacheMs = options.cacheMs ?? DEFAULT_KEY_CACHE_MS;
    this.clock = options.clock ?? systemClock;
    this.ready = migratePostgres(pool, schema, 'keys', MIGRATIONS);
    this.ready.catch(() => undefined); // observed by each call
  }

  /** Resolves once the table exists (or rejects with the migration's error). */
  opened(): Promise<void> {
    return this.ready;
  }

  async create(r: VirtualKeyRecord): Promise<void> {
    await this.run(
      'create',
      `INSERT INTO ${this.s}.virtual_keys (id, name, key_hash, display_prefix, user_id, team, allowed_models, rpm, tpm,
         budget_micro_usd, budget_period, expires_at, created_at, revoked_at, last_used_at, concurrent,
         attribution_override)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [
        r.id,
        r.name,
        r.keyHash,
        r.displayPrefix,
        r.user,
        r.team,
        r.allowedModels === '*' ? '*' : JSON.stringify(r.allowedModels),
        r.rpm,
        r.tpm,
        r.budgetMicroUsd,
        r.budgetPeriod,
        r.expiresAt,
        r.createdAt,
        r.revokedAt,
        r.lastUsedAt,
        r.concurrent,
        r.allowAttributionOverride,
      ],
      r.id,
    );
  }

  async findByHash(keyHash: string): Promise<VirtualKeyRecord | null> {
    const now = this.clock.now();
    const hit = this.cache.get(keyHash);
    if (hit !== undefined && now - hit.atMs < this.cacheMs && now >= hit.atMs) return { ...hit.record };
    const rows = await this.run('findByHash', `SELECT * FROM ${this.s}.virtual_keys WHERE key_hash = $1`, [
      keyHash,
    ]);
    if (rows[0] === undefined) {
      this.cache.delete(keyHash);
      return null;
    }
    const record = toRecord(rows[0]);
    if (this.cacheMs > 0) {
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(keyHash, { record, atMs: now });
    }
    return { ...record };
  }

  async findById(id: string): Promise<VirtualKeyRecord | null> {
    const rows = await this.run('findById', `SELECT * FROM ${this.s}.virtual_keys WHERE id = $1`, [id]);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  async list(): Promise<VirtualKeyRecord[]> {
    const rows = await this.run(
      'list',
      `SELECT * FROM ${this.s}.virtual_keys ORDER BY created_at, id COLLATE "C"`,
      [],
    );
    return rows.map(toRecord);
  }

  async revoke(id: string, atMs: number): Promise<boolean> {
    const rows = await this.run(
      'revoke',
      `UPDATE ${this.s}.virtual_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING key_hash`,
      [atMs, id],
      id,
    );
    if (rows[0] !== undefined) this.cache.delete(rows[0].key_hash);
    return rows.length > 0;
  }

  async update(r: VirtualKeyRecord): Promise<boolean> {
    const rows = await this.run(
      'update',
      `UPDATE ${this.s}.virtual_keys SET name = $2, user_id = $3, team = $4, allowed_models = $5, rpm = $6, tpm = $7,
         concurrent = $8, attribution_override = $9, budget_micro_usd = $10, budget_period = $11, expires_at = $12
       WHERE id = $1 AND revoked_at IS NULL RETURNING key_hash`,
      [
        r.id,
        r.name,
        r.user,
        r.team,
        r.allowedModels === '*' ? '*' : JSON.stringify(r.allowedModels),
        r.rpm,
        r.tpm,
        r.concurrent,
        r.allowAttributionOverride,
        r.budgetMicroUsd,
        r.budgetPeriod,
        r.expiresAt,
      ],
      r.id,
    );
    if (rows[0] !== undefined) this.cache.delete(rows[0].key_hash);
    return rows.length > 0;
  }

  async touch(id: string, atMs: number): Promise<void> {
    const last = this.lastTouchWrite.get(id);
    if (last !== undefined && atMs - last < TOUCH_GRANULARITY_MS) return;
    this.lastTouchWrite.set(id, atMs);
    // "Last used" is informational: a failed write must not refuse the request it records.
    await this.pool
      .query(
        `UPDATE ${this.s}.virtual_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
        [atMs, id],
      )
      .catch(() => this.lastTouchWrite.delete(id));
  }

  private async run(op: string, sql: string, params: unknown[], keyId?: string): Promise<KeyRow[]> {
    try {
      await this.ready;
      return (await this.pool.query<KeyRow>(sql, params)).rows;
    } catch (err) {
      if (err instanceof TollgateError) throw err;
      // Driver messages may quote bound values (the hash): kept only as the cause.
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres-keys', op, ...(keyId ? { key_id: keyId } : {}) },
        { cause: err },
      );
    }
  }
}
