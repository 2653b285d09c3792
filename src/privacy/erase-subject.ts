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
  /** Id of the (first) destroyed key; null when the person had no live key (nothing encrypted, or already erased). */
  keyId: string | null;
  /** Ids of every destroyed key (PostgreSQL replicas may each have made one for the person). */
  keyIds: string[];
  /** Number of data keys destroyed. */
  keysDestroyed: number;
  /** When, epoch ms, from the injected clock. */
  erasedAtMs: number;
}

export async function eraseSubject(
  store: DataKeyStore,
  userId: string,
  clock: Clock,
): Promise<ErasureResult> {
  // An empty id would address the shared anonymous key; refuse rather than erase everyone's.
  if (userId.length === 0) throw new TollgateError('TG_ERR_USAGE', { reason: 'empty user id' });
  const subject = subjectOf(userId);
  const at = clock.now();
  const keyIds = await store.destroy(subject, at);
  return { userId, subject, keyId: keyIds[0] ?? null, keyIds, keysDestroyed: keyIds.length, erasedAtMs: at };
}
