import type Database from 'better-sqlite3';
import type { KeyStore } from '../../access/key-store.js';
import type { VirtualKeyRecord } from '../../access/virtual-keys.js';
import { TollgateError } from '../../core/errors.js';
import { keyRecordFromRow as toRecord, type KeyRow } from '../key-row.js';

/** "Last used" is shown at minute granularity, so a busy key costs one write a minute, not one per request. */
const TOUCH_GRANULARITY_MS = 60_000;

/** Records cached at most (positive lookups only); the cache is cleared when full. */
const CACHE_SIZE = 10_000;

/**
 * KeyStore on a better-sqlite3 handle, in its own table `virtual_keys`.
 *
 * `findByHash` keeps a read cache that can never outlive a change: before each lookup it reads
 * `data_version` (changes when another connection — another process, e.g. `tollgate keys
 * revoke` — commits; https://sqlite.org/pragma.html#pragma_data_version) and `total_changes()`
 * (changes when this connection writes anything). Either moving clears the cache. That check
 * costs ≈ 1 µs against ≈ 7 µs for the indexed SELECT, and a revoke is seen by the next request.
 */
export class SqliteKeyStore implements KeyStore {
  private readonly insertStmt: Database.Statement;
  private readonly byHashStmt: Database.Statement<[string], KeyRow>;
  private readonly byIdStmt: Database.Statement<[string], KeyRow>;
  private readonly listStmt: Database.Statement<[], KeyRow>;
  private readonly revokeStmt: Database.Statement<[number, string]>;
  private readonly updateStmt: Database.Statement;
  private readonly existsStmt: Database.Statement<[string], { id: string }>;
  private readonly touchStmt: Database.Statement<[number, string, number]>;
  /** id → last time written, to coalesce `touch`. Bounded by the number of keys. */
  private readonly lastTouchWrite = new Map<string, number>();
  private readonly versionStmt: Database.Statement<[], [number, number]>;
  private readonly cache = new Map<string, VirtualKeyRecord>();
  private cachedTotalChanges = -1;
  private cachedDataVersion = -1;

  constructor(db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS virtual_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        display_prefix TEXT NOT NULL,
        user_id TEXT,
        team TEXT,
        allowed_models TEXT NOT NULL,
        rpm INTEGER,
        tpm INTEGER,
        budget_micro_usd INTEGER,
        budget_period TEXT CHECK (budget_period IN ('day', 'month')),
        expires_at INTEGER,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_used_at INTEGER
      ) STRICT`);
    // Issue 20: a key's in-flight limit and whether headers may override its user and team. Added
    // to a table created before them (the table has no versioned migrations of its own).
    const columns = new Set(
      (db.prepare('PRAGMA table_info(virtual_keys)').all() as Array<{ name: string }>).map((c) => c.name),
    );
    if (!columns.has('concurrent')) db.exec('ALTER TABLE virtual_keys ADD COLUMN concurrent INTEGER');
    if (!columns.has('attribution_override'))
      db.exec('ALTER TABLE virtual_keys ADD COLUMN attribution_override INTEGER NOT NULL DEFAULT 0');
    this.insertStmt = db.prepare(`INSERT INTO virtual_keys (id, name, key_hash, display_prefix, user_id, team,
      allowed_models, rpm, tpm, concurrent, attribution_override, budget_micro_usd, budget_period, expires_at, created_at, revoked_at, last_used_at)
      VALUES (@id, @name, @key_hash, @display_prefix, @user_id, @team, @allowed_models, @rpm, @tpm,
      @concurrent, @attribution_override, @budget_micro_usd, @budget_period, @expires_at, @created_at, @revoked_at, @last_used_at)`);
    this.byHashStmt = db.prepare('SELECT * FROM virtual_keys WHERE key_hash = ?');
    this.byIdStmt = db.prepare('SELECT * FROM virtual_keys WHERE id = ?');
    this.listStmt = db.prepare('SELECT * FROM virtual_keys ORDER BY created_at, id');
    this.revokeStmt = db.prepare('UPDATE virtual_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?');
    this.updateStmt = db.prepare(`UPDATE virtual_keys SET name = @name, user_id = @user_id, team = @team,
      allowed_models = @allowed_models, rpm = @rpm, tpm = @tpm, concurrent = @concurrent,
      attribution_override = @attribution_override, budget_micro_usd = @budget_micro_usd,
      budget_period = @budget_period, expires_at = @expires_at
      WHERE id = @id AND revoked_at IS NULL`);
    this.existsStmt = db.prepare('SELECT id FROM virtual_keys WHERE id = ?');
    this.versionStmt = db
      .prepare<[], [number, number]>('SELECT total_changes(), data_version FROM pragma_data_version')
      .raw(true);
    this.touchStmt = db.prepare(
      'UPDATE virtual_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    );
  }

  async create(r: VirtualKeyRecord): Promise<void> {
    try {
      this.insertStmt.run({
        id: r.id,
        name: r.name,
        key_hash: r.keyHash,
        display_prefix: r.displayPrefix,
        user_id: r.user,
        team: r.team,
        allowed_models: r.allowedModels === '*' ? '*' : JSON.stringify(r.allowedModels),
        rpm: r.rpm,
        tpm: r.tpm,
        concurrent: r.concurrent,
        attribution_override: r.allowAttributionOverride ? 1 : 0,
        budget_micro_usd: r.budgetMicroUsd,
        budget_period: r.budgetPeriod,
        expires_at: r.expiresAt,
        created_at: r.createdAt,
        revoked_at: r.revokedAt,
        last_used_at: r.lastUsedAt,
      });
    } catch (err) {
      // The driver's message may quote the bound values (the hash); keep it only as the cause.
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'sqlite-keys', key_id: r.id }, { cause: err });
    }
  }

  async findByHash(keyHash: string): Promise<VirtualKeyRecord | null> {
    const version = this.versionStmt.get();
    if (
      version === undefined ||
      version[0] !== this.cachedTotalChanges ||
      version[1] !== this.cachedDataVersion
    ) {
      this.cache.clear();
      this.cachedTotalChanges = version?.[0] ?? -1;
      this.cachedDataVersion = version?.[1] ?? -1;
    }
    const hit = this.cache.get(keyHash);
    if (hit !== undefined) return { ...hit };
    const row = this.byHashStmt.get(keyHash);
    if (row === undefined) return null;
    const record = toRecord(row);
    if (this.cache.size >= CACHE_SIZE) this.cache.clear();
    this.cache.set(keyHash, record);
    return { ...record };
  }

  async findById(id: string): Promise<VirtualKeyRecord | null> {
    const row = this.byIdStmt.get(id);
    return row === undefined ? null : toRecord(row);
  }

  async list(): Promise<VirtualKeyRecord[]> {
    return this.listStmt.all().map(toRecord);
  }

  async revoke(id: string, atMs: number): Promise<boolean> {
    if (this.existsStmt.get(id) === undefined) return false;
    this.revokeStmt.run(atMs, id);
    return true;
  }

  async update(r: VirtualKeyRecord): Promise<boolean> {
    try {
      return (
        this.updateStmt.run({
          id: r.id,
          name: r.name,
          user_id: r.user,
          team: r.team,
          allowed_models: r.allowedModels === '*' ? '*' : JSON.stringify(r.allowedModels),
          rpm: r.rpm,
          tpm: r.tpm,
          concurrent: r.concurrent,
          attribution_override: r.allowAttributionOverride ? 1 : 0,
          budget_micro_usd: r.budgetMicroUsd,
          budget_period: r.budgetPeriod,
          expires_at: r.expiresAt,
        }).changes > 0
      );
    } catch (err) {
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'sqlite-keys', key_id: r.id }, { cause: err });
    }
  }

  async touch(id: string, atMs: number): Promise<void> {
    const last = this.lastTouchWrite.get(id);
    if (last !== undefined && atMs - last < TOUCH_GRANULARITY_MS) return;
    this.lastTouchWrite.set(id, atMs);
    this.touchStmt.run(atMs, id, atMs);
  }
}
