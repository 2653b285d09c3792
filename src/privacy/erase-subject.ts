/**
 * Erasure by crypto-shredding (`tollgate erase --user ID`): destroys the person's data key.
 * Their stored content (`enc:v1:<keyId>:…`) can no longer be decrypted; event rows are not
 * touched, so a hash chain over the stored form still verifies. The caller (CLI) records
 * the erasure as an audit event with the returned facts, which carry no content.
 */
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import { subjectOf, type DataKeyStore } from './data-key-store.js';

export interface ErasureResult {
  /** The user id as given. */
  userId: string;
  /** The data-key subject (`user:<id>`). */
  subject: string;
  /** Id of the destroyed key; null when the person had no live key (nothing encrypted, or already erased). */
  keyId: string | null;
  /** Number of data keys destroyed (0 or 1). */
  keysDestroyed: number;
  /** When, epoch ms, from the injected clock. */
  erasedAtMs: number;
}

export function eraseSubject(store: DataKeyStore, userId: string, clock: Clock): ErasureResult {
  // An empty id would address the shared anonymous key; refuse rather than erase everyone's.
  if (userId.length === 0) throw new TollgateError('TG_ERR_USAGE', { reason: 'empty user id' });
  const subject = subjectOf(userId);
  const at = clock.now();
  const keyId = store.destroy(subject, at);
  return { userId, subject, keyId, keysDestroyed: keyId === null ? 0 : 1, erasedAtMs: at };
}
