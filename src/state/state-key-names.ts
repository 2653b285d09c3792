import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * Derivation label of the subkey that names Redis keys. The deployment's fingerprint secret also
 * keys `api_key_id` (HMAC(secret, raw key)); a subkey keeps the two uses apart, so no Redis key
 * name can ever equal an `api_key_id` or any other HMAC under the secret itself.
 */
const LABEL = 'tollgate:redis-key-names:v1';

/** Characters kept: 22 base64url characters = 132 bits, collision-free for any real subject count. */
const NAME_LENGTH = 22;

/**
 * Names shared-state keys by a keyed hash of their subject (an IP address, a key fingerprint, a
 * virtual key id, a user id), never the subject itself: a client IP is personal data, and Redis
 * is a cache shared by every replica and often by other software, readable with `SCAN`/`MONITOR`.
 * Unkeyed SHA-256 would not do: the whole IPv4 space is 2^32 hashes, minutes on a laptop.
 *
 * The key is derived from the **fingerprint secret** (`fingerprint.key`), which every replica must
 * already share for `api_key_id` to match across replicas (docs/deployment.md), so every replica
 * computes the same name for the same subject and the counts meet; a per-replica secret would
 * split them. It is never written to Redis (a salt kept beside the hashes would let whoever reads
 * the cache brute-force the addresses).
 */
export class StateKeyNames {
  private readonly key: KeyObject;
  /**
   * Recent names: a managed request names the same few subjects up to 8 times (lockout check and
   * record, rpm and tpm take and settle, budget reserve and settle) and an HMAC costs ~2 µs. In
   * process memory only; cleared when full, like the fingerprint cache.
   */
  private readonly cache = new Map<string, string>();

  constructor(
    secret: Buffer,
    private readonly cacheSize = 10_000,
  ) {
    this.key = createSecretKey(createHmac('sha256', secret).update(LABEL, 'utf8').digest());
  }

  /** HMAC-SHA256(subkey, subject), base64url, 22 characters (no `:`, safe inside a key name). */
  of(subject: string): string {
    const hit = this.cache.get(subject);
    if (hit !== undefined) return hit;
    const name = createHmac('sha256', this.key)
      .update(subject, 'utf8')
      .digest('base64url')
      .slice(0, NAME_LENGTH);
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(subject, name);
    return name;
  }
}

const shared = new WeakMap<Buffer, StateKeyNames>();

/**
 * The StateKeyNames of one secret, shared by every state class given that same Buffer (the
 * lockout, limits, budgets, sliding and shared windows of one gateway): one subkey derivation
 * and one cache, so a subject named by several of them is hashed once.
 */
export function keyNamesFor(secret: Buffer): StateKeyNames {
  let names = shared.get(secret);
  if (!names) shared.set(secret, (names = new StateKeyNames(secret)));
  return names;
}
