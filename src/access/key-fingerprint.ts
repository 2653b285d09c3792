import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** Hex characters kept: 16 = 64 bits, collision-free in practice for the keys one deployment sees. */
export const KEY_FINGERPRINT_HEX_LENGTH = 16;

/**
 * The `api_key_id` of an event: HMAC-SHA256(secret, key), hex, truncated to 16 characters.
 * Keyed, so someone holding the audit trail cannot confirm a guessed or leaked key offline
 * (a plain hash of a known key would match); stable, so one key's events group together.
 * The secret is the deployment's local fingerprint secret, passed in by the caller.
 */
export function keyFingerprint(secret: string | Buffer | KeyObject, rawKey: string): string {
  return createHmac('sha256', secret)
    .update(rawKey, 'utf8')
    .digest('hex')
    .slice(0, KEY_FINGERPRINT_HEX_LENGTH);
}

/**
 * `keyFingerprint` with the secret bound once and a bounded cache. The HMAC is most of the CPU
 * of a key check (≈ 2–3 µs), and the same few keys arrive over and over. The cache is keyed by
 * the SHA-256 of the key the caller already computed for the store lookup, so no raw key is
 * held in memory beyond the request. When full, the cache is simply cleared (cheap, and an
 * attacker spraying random keys only costs themselves the HMAC).
 */
export class KeyFingerprinter {
  private readonly secret: KeyObject;
  private readonly cache = new Map<string, string>();
  private readonly cacheSize: number;

  constructor(secret: string | Buffer, options: { cacheSize?: number } = {}) {
    this.secret = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  /** The fingerprint of `rawKey`; pass `keyHash` (SHA-256 hex of the key) to use the cache. */
  fingerprint(rawKey: string, keyHash?: string): string {
    if (keyHash === undefined) return keyFingerprint(this.secret, rawKey);
    const hit = this.cache.get(keyHash);
    if (hit !== undefined) return hit;
    const fp = keyFingerprint(this.secret, rawKey);
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(keyHash, fp);
    return fp;
  }
}
