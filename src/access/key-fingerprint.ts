import { createHmac } from 'node:crypto';

/** Hex characters kept: 16 = 64 bits, collision-free in practice for the keys one deployment sees. */
export const KEY_FINGERPRINT_HEX_LENGTH = 16;

/**
 * The `api_key_id` of an event: HMAC-SHA256(secret, key), hex, truncated to 16 characters.
 * Keyed, so someone holding the audit trail cannot confirm a guessed or leaked key offline
 * (a plain hash of a known key would match); stable, so one key's events group together.
 * The secret is the deployment's local fingerprint secret, passed in by the caller.
 */
export function keyFingerprint(secret: string | Buffer, rawKey: string): string {
  return createHmac('sha256', secret).update(rawKey, 'utf8').digest('hex').slice(0, KEY_FINGERPRINT_HEX_LENGTH);
}
