/**
 * Envelope encryption of stored content (encrypted mode).
 *
 * Each person (subject) has a random 256-bit data key; it is stored only wrapped by the
 * master key (AES-256-GCM, AAD = "tollgate-dk:v1:<keyId>:<subject>"). Content is encrypted
 * with AES-256-GCM under the data key, with a fresh 96-bit IV per value (NIST SP 800-38D
 * §8.2.2: random IVs, far below 2^32 values per key) and AAD = "enc:v1:<keyId>", and stored
 * as the self-describing string
 *
 *     enc:v1:<keyId>:<base64 iv>:<base64 ciphertext ‖ 16-byte tag>
 *
 * No data key is cached across calls: erasure from another process (the CLI) takes effect
 * for the next event, not after a restart.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import type { ContentEncryptor } from '../redaction/redactor.js';
import { subjectOf, type DataKeyStore, type WrappedDataKey } from './data-key-store.js';

export const ENCRYPTED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface ContentCipherOptions {
  masterKey: Buffer;
  store: DataKeyStore;
  clock: Clock;
}

/** Encrypts for a person; decrypts for an authorised reader. */
export interface ContentCipher extends ContentEncryptor {
  /** Plaintext of an `enc:v1:` value; null when the key was destroyed (erased). Rejects on tampering. */
  decryptContent(stored: string): Promise<string | null>;
}

/** True for values written by encrypted mode. */
export function isEncryptedContent(value: string | null): value is string {
  return value !== null && value.startsWith(ENCRYPTED_PREFIX);
}

export function createContentCipher(options: ContentCipherOptions): ContentCipher {
  const { store, clock } = options;
  if (options.masterKey.length !== 32)
    throw new TollgateError('TG_ERR_CRYPTO_KEY_MISSING', { reason: 'not 32 bytes' });
  const masterKey = Buffer.from(options.masterKey);

  const wrapAad = (keyId: string, subject: string): Buffer =>
    Buffer.from(`tollgate-dk:v1:${keyId}:${subject}`, 'utf8');

  const unwrap = (k: WrappedDataKey): Buffer => {
    if (k.wrapped.length !== IV_BYTES + 32 + TAG_BYTES)
      throw new TollgateError('TG_ERR_CRYPTO_DECRYPT', { keyId: k.keyId });
    const d = createDecipheriv('aes-256-gcm', masterKey, k.wrapped.subarray(0, IV_BYTES));
    d.setAAD(wrapAad(k.keyId, k.subject));
    d.setAuthTag(k.wrapped.subarray(IV_BYTES + 32));
    try {
      return Buffer.concat([d.update(k.wrapped.subarray(IV_BYTES, IV_BYTES + 32)), d.final()]);
    } catch (err) {
      // Wrong master key or a tampered row.
      throw new TollgateError('TG_ERR_CRYPTO_DECRYPT', { keyId: k.keyId }, { cause: err });
    }
  };

  const keyFor = (subject: string): { keyId: string; key: Buffer } => {
    const live = store.getBySubject(subject);
    if (live) return { keyId: live.keyId, key: unwrap(live) };
    const keyId = randomBytes(12).toString('base64url');
    const dataKey = randomBytes(32);
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', masterKey, iv);
    c.setAAD(wrapAad(keyId, subject));
    const wrapped = Buffer.concat([iv, c.update(dataKey), c.final(), c.getAuthTag()]);
    const stored = store.putIfAbsent({ keyId, subject, wrapped, createdAtMs: clock.now() });
    // Another writer may have won the race; use whichever key the store kept.
    return stored.keyId === keyId ? { keyId, key: dataKey } : { keyId: stored.keyId, key: unwrap(stored) };
  };

  return {
    encryptFor(userId: string | null, plaintext: string): string {
      const { keyId, key } = keyFor(subjectOf(userId));
      const iv = randomBytes(IV_BYTES);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(`${ENCRYPTED_PREFIX}${keyId}`, 'utf8'));
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
      key.fill(0);
      return `${ENCRYPTED_PREFIX}${keyId}:${iv.toString('base64')}:${body.toString('base64')}`;
    },

    async decryptContent(stored: string): Promise<string | null> {
      if (!stored.startsWith(ENCRYPTED_PREFIX))
        throw new TollgateError('TG_ERR_CRYPTO_DECRYPT', { reason: 'not encrypted' });
      const parts = stored.slice(ENCRYPTED_PREFIX.length).split(':');
      if (parts.length !== 3) throw new TollgateError('TG_ERR_CRYPTO_DECRYPT', { reason: 'malformed' });
      const [keyId, ivB64, bodyB64] = parts as [string, string, string];
      // Read from the store itself (not a replica's mirror): an erased key is gone for the reader.
      const wrapped = await store.findById(keyId);
      if (!wrapped) return null; // erased (crypto-shredded) or never ours
      const key = unwrap(wrapped);
      const iv = Buffer.from(ivB64, 'base64');
      const body = Buffer.from(bodyB64, 'base64');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
        throw new TollgateError('TG_ERR_CRYPTO_DECRYPT', { keyId });
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAAD(Buffer.from(`${ENCRYPTED_PREFIX}${keyId}`, 'utf8'));
      d.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([d.update(body.subarray(0, body.length - TAG_BYTES)), d.final()]).toString(
          'utf8',
        );
      } catch (err) {
        throw new TollgateError('TG_ERR_CRYPTO_DECRYPT', { keyId }, { cause: err });
      } finally {
        key.fill(0);
      }
    },
  };
}
