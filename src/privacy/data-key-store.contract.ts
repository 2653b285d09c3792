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
      expect((await s.findById('k1'))?.subject).toBe('user:a');
      expect(await s.findById('k2')).toBeNull();
      expect((await s.findById('k1'))?.wrapped.equals(Buffer.alloc(60, 2))).toBe(true);
    });

    it('destroys a subject key for good and re-keys a returning subject under a new id', async () => {
      const s = await make();
      s.putIfAbsent(key('user:a', 'k1'));
      s.putIfAbsent(key('user:b', 'k9'));
      expect(await s.destroy('user:a', 2000)).toEqual(['k1']);
      expect(await s.destroy('user:a', 2001)).toEqual([]);
      expect(s.getBySubject('user:a')).toBeNull();
      expect(await s.findById('k1')).toBeNull();
      expect((await s.findById('k9'))?.subject).toBe('user:b');
      expect(s.putIfAbsent(key('user:a', 'k3')).keyId).toBe('k3');
      expect(await s.findById('k1')).toBeNull();
      expect((await s.findById('k3'))?.subject).toBe('user:a');
    });

    it('after destroy returns, the store never hands out a destroyed key; erasing a subject with no key is fine', async () => {
      const s = await make();
      expect(await s.destroy('user:never', 2000)).toEqual([]);
      expect(s.putIfAbsent(key('user:never', 'k4')).keyId).toBe('k4'); // a person seen after their erasure: a new period
      s.putIfAbsent(key('user:d', 'k5'));
      expect(await s.destroy('user:d', 2001)).toEqual(['k5']);
      expect(s.getBySubject('user:d')).toBeNull();
      expect(s.putIfAbsent(key('user:d', 'k6')).keyId).toBe('k6');
      expect(s.getBySubject('user:d')?.keyId).toBe('k6');
      expect(await s.findById('k5')).toBeNull();
    });
  });
}
