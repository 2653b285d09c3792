import { TollgateError } from '../core/errors.js';
import type { KeyStore } from './key-store.js';
import type { VirtualKeyRecord } from './virtual-keys.js';

/** KeyStore held in process memory: tests, `tollgate demo`, and single-process setups without a DB. */
export class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<string, VirtualKeyRecord>();
  private readonly idByHash = new Map<string, string>();

  async create(record: VirtualKeyRecord): Promise<void> {
    if (this.byId.has(record.id) || this.idByHash.has(record.keyHash)) {
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'memory-keys', key_id: record.id });
    }
    this.byId.set(record.id, { ...record });
    this.idByHash.set(record.keyHash, record.id);
  }

  async findByHash(keyHash: string): Promise<VirtualKeyRecord | null> {
    const id = this.idByHash.get(keyHash);
    return id === undefined ? null : this.copy(id);
  }

  async findById(id: string): Promise<VirtualKeyRecord | null> {
    return this.copy(id);
  }

  async list(): Promise<VirtualKeyRecord[]> {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt).map((r) => ({ ...r }));
  }

  async revoke(id: string, atMs: number): Promise<boolean> {
    const rec = this.byId.get(id);
    if (rec === undefined) return false;
    rec.revokedAt ??= atMs;
    return true;
  }

  async update(record: VirtualKeyRecord): Promise<boolean> {
    const rec = this.byId.get(record.id);
    if (rec === undefined || rec.revokedAt !== null) return false;
    const {
      id: _id,
      keyHash: _hash,
      displayPrefix: _prefix,
      createdAt: _c,
      revokedAt: _r,
      lastUsedAt: _l,
      ...changed
    } = record;
    Object.assign(rec, changed, {
      allowedModels: record.allowedModels === '*' ? '*' : [...record.allowedModels],
    });
    return true;
  }

  async touch(id: string, atMs: number): Promise<void> {
    const rec = this.byId.get(id);
    if (rec !== undefined && (rec.lastUsedAt === null || rec.lastUsedAt < atMs)) rec.lastUsedAt = atMs;
  }

  // Copies, so a caller mutating a returned record cannot change the store (or dodge a revoke).
  private copy(id: string): VirtualKeyRecord | null {
    const rec = this.byId.get(id);
    return rec === undefined ? null : { ...rec };
  }
}
