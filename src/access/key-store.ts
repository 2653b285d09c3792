import type { VirtualKeyRecord } from './virtual-keys.js';

/**
 * Where virtual keys live. A `revoke` takes effect for the very next `findByHash` through the
 * same store, and on every replica sharing the store within a documented bound: at once for
 * SQLite (its cache checks data_version), at most `DEFAULT_KEY_CACHE_MS` (1 s) for PostgreSQL.
 * Methods are async so networked stores (PostgreSQL) fit the same interface.
 */
export interface KeyStore {
  /** Stores a new record; the hash is unique. */
  create(record: VirtualKeyRecord): Promise<void>;
  /** The record whose `keyHash` equals `keyHash`, revoked and expired ones included. */
  findByHash(keyHash: string): Promise<VirtualKeyRecord | null>;
  findById(id: string): Promise<VirtualKeyRecord | null>;
  /** All records, oldest first. */
  list(): Promise<VirtualKeyRecord[]>;
  /** Marks the key revoked at `atMs`; false when no such key (a second revoke keeps the first time). */
  revoke(id: string, atMs: number): Promise<boolean>;
  /**
   * Stores the changeable fields of `record` (name, user, team, models, limits, budget, expiry,
   * attribution) over the key with its id, unless that key is revoked; false when nothing was
   * changed (no such key, or revoked). The id, hash, prefix and times are never changed here.
   */
  update(record: VirtualKeyRecord): Promise<boolean>;
  /** Records a use. Implementations may coalesce writes (minute granularity is enough for "last use"). */
  touch(id: string, atMs: number): Promise<void>;
}
