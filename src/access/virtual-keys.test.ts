import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { MemoryKeyStore } from './memory-key-store.js';
import {
  createKey,
  generateVirtualKey,
  hashVirtualKey,
  isModelAllowed,
  keyStatus,
  looksLikeVirtualKey,
  updateKey,
} from './virtual-keys.js';

describe('virtual key format', () => {
  it('is tg- and 43 base62 characters, all different', () => {
    const keys = new Set(Array.from({ length: 200 }, generateVirtualKey));
    expect(keys.size).toBe(200);
    for (const k of keys) expect(k).toMatch(/^tg-[0-9A-Za-z]{43}$/);
    expect(looksLikeVirtualKey([...keys][0]!)).toBe(true);
    expect(looksLikeVirtualKey('sk-proj-abc')).toBe(false);
  });

  it('uses every base62 character (no biased or missing alphabet)', () => {
    const seen = new Set(Array.from({ length: 100 }, generateVirtualKey).join('').slice(0));
    expect(seen.size).toBeGreaterThanOrEqual(63); // 62 + the '-' of the prefix
  });

  it('hashes with SHA-256 hex', () => {
    expect(hashVirtualKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('createKey', () => {
  it('returns the plaintext once and stores only hash and an 8-character prefix', async () => {
    const store = new MemoryKeyStore();
    const { key, record } = await createKey(store, new ManualClock(), { name: ' ci ' });
    expect(record.name).toBe('ci');
    expect(record.keyHash).toBe(hashVirtualKey(key));
    expect(record.displayPrefix).toBe(key.slice(0, 8));
    expect(record.id).toMatch(/^vk_[0-9A-Za-z]{16}$/);
    expect(Object.values(record)).not.toContain(key);
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x', rpm: 0 }, 'rpm'],
    [{ name: 'x', tpm: 1.5 }, 'tpm'],
    [{ name: 'x', allowedModels: [] }, 'allowedModels'],
    [{ name: 'x', allowedModels: ['gpt-*'] }, 'allowedModels'],
    [{ name: 'x', budgetMicroUsd: 100 }, 'budgetPeriod'],
    [{ name: 'x', expiresAt: Date.UTC(2020, 0, 1) }, 'expiresAt'],
  ])('refuses invalid input %j', async (input, field) => {
    await expect(createKey(new MemoryKeyStore(), new ManualClock(), input)).rejects.toMatchObject({
      code: 'TG_ERR_USAGE',
      detail: { field },
    });
  });
});

describe('model allow-list and status', () => {
  it('matches exact names only; * allows all; a restricted key needs a model', async () => {
    const { record } = await createKey(new MemoryKeyStore(), new ManualClock(), {
      name: 'x',
      allowedModels: ['gpt-4o'],
    });
    expect(isModelAllowed(record, 'gpt-4o')).toBe(true);
    expect(isModelAllowed(record, 'gpt-4o-mini')).toBe(false);
    expect(isModelAllowed(record, 'GPT-4O')).toBe(false);
    expect(isModelAllowed(record, null)).toBe(false);
    expect(isModelAllowed({ ...record, allowedModels: '*' }, null)).toBe(true);
  });

  it('reports active, expired and revoked', async () => {
    const clock = new ManualClock();
    const { record } = await createKey(new MemoryKeyStore(), clock, {
      name: 'x',
      expiresAt: clock.now() + 1000,
    });
    expect(keyStatus(record, clock.now())).toBe('active');
    expect(keyStatus(record, clock.now() + 1000)).toBe('expired');
    expect(keyStatus({ ...record, revokedAt: clock.now() }, clock.now())).toBe('revoked');
  });
});

describe('updateKey', () => {
  async function made(input: Parameters<typeof createKey>[2] = { name: 'svc' }) {
    const store = new MemoryKeyStore();
    const clock = new ManualClock();
    const { key, record } = await createKey(store, clock, input);
    return { store, clock, key, record };
  }

  it('changes only the fields named, keeps the key working, and null clears', async () => {
    const { store, clock, key, record } = await made({ name: 'svc', user: 'u1', rpm: 60, tpm: 1000 });
    const out = await updateKey(store, clock, record.id, { rpm: 120, tpm: null, team: 'pay' });
    expect(out).toEqual({ record: { ...record, rpm: 120, tpm: null, team: 'pay' } });
    expect(await store.findByHash(hashVirtualKey(key))).toEqual({
      ...record,
      rpm: 120,
      tpm: null,
      team: 'pay',
    });
  });

  it('a budget set without a period keeps the period (month when none); clearing it clears the period', async () => {
    const { store, clock, record } = await made({ name: 'b', budgetMicroUsd: 5, budgetPeriod: 'day' });
    let out = await updateKey(store, clock, record.id, { budgetMicroUsd: 9 });
    expect(out).toMatchObject({ record: { budgetMicroUsd: 9, budgetPeriod: 'day' } });
    out = await updateKey(store, clock, record.id, { budgetMicroUsd: null });
    expect(out).toMatchObject({ record: { budgetMicroUsd: null, budgetPeriod: null } });
    out = await updateKey(store, clock, record.id, { budgetMicroUsd: 7 });
    expect(out).toMatchObject({ record: { budgetMicroUsd: 7, budgetPeriod: 'month' } });
    out = await updateKey(store, clock, record.id, { budgetPeriod: 'day' });
    expect(out).toMatchObject({ record: { budgetMicroUsd: 7, budgetPeriod: 'day' } });
  });

  it.each([
    [{ rpm: 0 }, 'rpm'],
    [{ name: '  ' }, 'name'],
    [{ allowedModels: ['gpt-*'] }, 'allowedModels'],
    [{ budgetPeriod: 'week' as never }, 'budgetPeriod'],
    [{ budgetMicroUsd: null, budgetPeriod: 'day' as const }, 'budgetPeriod'],
    [{ expiresAt: 0 }, 'expiresAt'],
  ])('refuses %j like create does, storing nothing', async (changes, field) => {
    const { store, clock, record } = await made({
      name: 'v',
      rpm: 5,
      budgetMicroUsd: 3,
      budgetPeriod: 'month',
    });
    await expect(updateKey(store, clock, record.id, changes)).rejects.toMatchObject({
      code: 'TG_ERR_USAGE',
      detail: { field },
    });
    expect(await store.findById(record.id)).toEqual(record);
  });

  it('a period alone on a key with no budget is refused', async () => {
    const { store, clock, record } = await made();
    await expect(updateKey(store, clock, record.id, { budgetPeriod: 'day' })).rejects.toMatchObject({
      detail: { field: 'budgetPeriod' },
    });
  });

  it('keeps an expiry already past unless it is changed, and null clears it', async () => {
    const { store, clock, record } = await made({ name: 'e', expiresAt: Date.UTC(2026, 0, 1) + 1_000 });
    clock.advance(10 * 86_400_000);
    expect(keyStatus(record, clock.now())).toBe('expired');
    const past = await updateKey(store, clock, record.id, { rpm: 3 });
    expect(past).toMatchObject({ record: { expiresAt: record.expiresAt, rpm: 3 } });
    expect(await updateKey(store, clock, record.id, { expiresAt: null })).toMatchObject({
      record: { expiresAt: null },
    });
  });

  it('refuses an unknown or revoked key', async () => {
    const { store, clock, record } = await made();
    expect(await updateKey(store, clock, 'vk_nope', { rpm: 1 })).toEqual({ refused: 'not_found' });
    await store.revoke(record.id, clock.now());
    expect(await updateKey(store, clock, record.id, { rpm: 1 })).toEqual({ refused: 'revoked' });
    expect((await store.findById(record.id))?.rpm).toBeNull();
  });
});
