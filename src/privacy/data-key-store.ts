/**
 * Storage of per-person data keys, each wrapped (encrypted) by the master key. The store
 * never sees a key in clear. Destroying a subject's key is crypto-shredding: content
 * encrypted under it can no longer be read, while the event rows stay byte-identical.
 *
 * `getBySubject` and `putIfAbsent` are synchronous on purpose: the redact stage encrypts on the
 * event path; the in-memory and SQLite (better-sqlite3) stores answer without I/O waits, and the
 * PostgreSQL store answers from a bounded mirror it keeps in step
 * (store/postgres/postgres-data-keys.ts). `findById` (decryption, off the event path) and erasure
 * (`destroy`) are async: they read or write the store itself, so they are never answered from a
 * copy that may lag behind an erasure.
 */
/** A wrapped data key as stored. */
export interface WrappedDataKey {
  /** Opaque random id, written into every `enc:v1:<keyId>:…` value (never the user id). */
  keyId: string;
  subject: string;
  /** AES-256-GCM of the 32-byte data key under the master key: iv(12) ‖ ciphertext(32) ‖ tag(16). */
  wrapped: Buffer;
  createdAtMs: number;
}

export interface DataKeyStore {
  /** The live key of a subject, or null (none yet, or destroyed). */
  getBySubject(subject: string): WrappedDataKey | null;
  /** A live key by id, or null (unknown or destroyed), as the store holds it now. */
  findById(keyId: string): Promise<WrappedDataKey | null>;
  /**
   * Stores `key` as the subject's live key unless one exists; returns the live key either way
   * (two writers racing for a new subject agree on one key). A key made before the store has seen
   * an erasure of its subject never survives that erasure (PostgreSQL refuses it when it lands).
   */
  putIfAbsent(key: WrappedDataKey): WrappedDataKey;
  /**
   * Destroys every live key of the subject; returns their ids (empty when there was none). One
   * at most in a single-writer store; PostgreSQL replicas may each have made one for a subject.
   * When it returns, this store no longer hands out any of them; a key put afterwards is new.
   */
  destroy(subject: string, atMs: number): Promise<string[]>;
}

/** The subject whose key encrypts events that carry no user_id. */
export const ANONYMOUS_SUBJECT = 'anonymous';

/** The data-key subject of a user id (namespaced, so a user called "anonymous" is not the shared subject). */
export function subjectOf(userId: string | null): string {
  return userId === null || userId === '' ? ANONYMOUS_SUBJECT : `user:${userId}`;
}

/** In-memory store, for tests and single-run tools. */
export class InMemoryDataKeyStore implements DataKeyStore {
  private readonly bySubject = new Map<string, WrappedDataKey>();
  private readonly byId = new Map<string, WrappedDataKey>();

  getBySubject(subject: string): WrappedDataKey | null {
    return this.bySubject.get(subject) ?? null;
  }

  async findById(keyId: string): Promise<WrappedDataKey | null> {
    return this.byId.get(keyId) ?? null;
  }

  putIfAbsent(key: WrappedDataKey): WrappedDataKey {
    const existing = this.bySubject.get(key.subject);
    if (existing) return existing;
    const copy = { ...key, wrapped: Buffer.from(key.wrapped) };
    this.bySubject.set(key.subject, copy);
    this.byId.set(key.keyId, copy);
    return copy;
  }

  async destroy(subject: string, _atMs: number): Promise<string[]> {
    const key = this.bySubject.get(subject);
    if (!key) return [];
    key.wrapped.fill(0);
    this.bySubject.delete(subject);
    this.byId.delete(key.keyId);
    return [key.keyId];
  }
}
