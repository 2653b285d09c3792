/** One contract for every KeyStore (STYLE.md rule 8); memory, SQLite and PostgreSQL run it. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { KeyStore } from './key-store.js';
import { createKey, hashVirtualKey } from './virtual-keys.js';

/** Runs the KeyStore contract against stores made by `make` (a fresh, empty store per test). */
export function keyStoreContract(name: string, make: () => KeyStore | Promise<KeyStore>): void {
  describe(`KeyStore contract: ${name}`, () => {
    it('finds a created key by the hash of its plaintext, and stores no plaintext', async () => {
      const store = await make();
      const clock = new ManualClock();
      const { key, record } = await createKey(store, clock, {
        name: 'ci',
        user: 'u1',
        team: 't1',
        allowedModels: ['gpt-4o-mini', 'gpt-4o'],
        rpm: 60,
        tpm: 10_000,
        budgetMicroUsd: 5_000_000,
        budgetPeriod: 'month',
        expiresAt: clock.now() + 86_400_000,
      });
      const found = await store.findByHash(hashVirtualKey(key));
      expect(found).toEqual(record);
      expect(JSON.stringify(await store.list())).not.toContain(key.slice(3));
      expect(await store.findByHash(hashVirtualKey(key + 'x'))).toBeNull();
      expect(await store.findById(record.id)).toEqual(record);
    });

    it('round-trips a wildcard model list and null limits', async () => {
      const store = await make();
      const { record } = await createKey(store, new ManualClock(), { name: 'open' });
      expect(await store.findById(record.id)).toEqual(record);
      expect(record.allowedModels).toBe('*');
      expect(record.rpm).toBeNull();
    });

    it('lists oldest first', async () => {
      const store = await make();
      const clock = new ManualClock();
      const a = await createKey(store, clock, { name: 'a' });
      clock.advance(1000);
      const b = await createKey(store, clock, { name: 'b' });
      expect((await store.list()).map((r) => r.id)).toEqual([a.record.id, b.record.id]);
    });

    it('revokes at once and keeps the first revocation time', async () => {
      const store = await make();
      const { key, record } = await createKey(store, new ManualClock(), { name: 'x' });
      expect(await store.revoke(record.id, 5)).toBe(true);
      expect(await store.revoke(record.id, 9)).toBe(true);
      expect((await store.findByHash(hashVirtualKey(key)))?.revokedAt).toBe(5);
      expect(await store.revoke('vk_nope', 5)).toBe(false);
    });

    it('updates the changeable fields in place, keeping the key, and refuses a revoked key', async () => {
      const store = await make();
      const clock = new ManualClock();
      const { key, record } = await createKey(store, clock, {
        name: 'x',
        rpm: 10,
        budgetMicroUsd: 1,
        budgetPeriod: 'day',
      });
      await store.findByHash(hashVirtualKey(key)); // a cached lookup must not outlive the change
      const changed = {
        ...record,
        name: 'y',
        user: 'u2',
        allowedModels: ['gpt-4o'],
        rpm: null,
        tpm: 500,
        concurrent: 3,
        allowAttributionOverride: true,
        budgetMicroUsd: 2_000_000,
        budgetPeriod: 'month' as const,
        expiresAt: clock.now() + 60_000,
        // never changed by update:
        keyHash: 'f'.repeat(64),
        createdAt: 42,
      };
      expect(await store.update(changed)).toBe(true);
      const got = await store.findByHash(hashVirtualKey(key));
      expect(got).toEqual({ ...changed, keyHash: record.keyHash, createdAt: record.createdAt });
      expect(await store.update({ ...record, id: 'vk_nope' })).toBe(false);
      await store.revoke(record.id, 5);
      expect(await store.update({ ...changed, name: 'z' })).toBe(false);
      expect((await store.findById(record.id))?.name).toBe('y');
    });

    it('records last use and never moves it backwards', async () => {
      const store = await make();
      const clock = new ManualClock();
      const { record } = await createKey(store, clock, { name: 'x' });
      await store.touch(record.id, clock.now());
      expect((await store.findById(record.id))?.lastUsedAt).toBe(clock.now());
      await store.touch(record.id, clock.now() - 5000);
      expect((await store.findById(record.id))?.lastUsedAt).toBe(clock.now());
    });

    it('returns copies: mutating a result changes nothing stored', async () => {
      const store = await make();
      const { key, record } = await createKey(store, new ManualClock(), { name: 'x' });
      await store.revoke(record.id, 1);
      const got = await store.findByHash(hashVirtualKey(key));
      got!.revokedAt = null;
      expect((await store.findByHash(hashVirtualKey(key)))?.revokedAt).toBe(1);
    });

    it('refuses a second record with the same hash', async () => {
      const store = await make();
      const { record } = await createKey(store, new ManualClock(), { name: 'x' });
      await expect(store.create({ ...record, id: 'vk_other' })).rejects.toMatchObject({
        code: 'TG_ERR_STORE_WRITE',
      });
    });
  });
}
