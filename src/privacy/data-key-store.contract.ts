/** One contract for every DataKeyStore (STYLE.md rule 8); each implementation's test runs it. */
import { describe, expect, it } from 'vitest';
import type { DataKeyStore, WrappedDataKey } from './data-key-store.js';

function key(subject: string, keyId: string): WrappedDataKey {
  return { keyId, subject, wrapped: Buffer.alloc(60, keyId.length), createdAtMs: 1000 };
}

export function dataKeyStoreContract(name: string, make: () => DataKeyStore | Promise<DataKeyStore>): void {
  describe(`DataKeyStore contract: ${name}`, () => {
    it('stores a key once per subject and finds it by subject and by id', async () => {
      const s = await make();
      expect(s.getBySubject('user:a')).toBeNull();
      const first = s.putIfAbsent(key('user:a', 'k1'));
      expect(first.keyId).toBe('k1');
      expect(s.putIfAbsent(key('user:a', 'k2')).keyId).toBe('k1');
      expect(s.getBySubject('user:a')?.keyId).toBe('k1');
      expect(s.getById('k1')?.subject).toBe('user:a');
      expect(s.getById('k2')).toBeNull();
      expect(s.getById('k1')?.wrapped.equals(Buffer.alloc(60, 2))).toBe(true);
    });

    it('destroys a subject key for good and re-keys a returning subject under a new id', async () => {
      const s = await make();
      s.putIfAbsent(key('user:a', 'k1'));
      s.putIfAbsent(key('user:b', 'k9'));
      expect(await s.destroy('user:a', 2000)).toEqual(['k1']);
      expect(await s.destroy('user:a', 2001)).toEqual([]);
      expect(s.getBySubject('user:a')).toBeNull();
      expect(s.getById('k1')).toBeNull();
      expect(s.getById('k9')?.subject).toBe('user:b');
      expect(s.putIfAbsent(key('user:a', 'k3')).keyId).toBe('k3');
      expect(s.getById('k1')).toBeNull();
    });
  });
}
