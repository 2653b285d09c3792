import { describe, expect, it } from 'vitest';
import { BudgetGuard } from '../access/budget-guard.js';
import { MemoryBudgetState } from '../access/budget-state.js';
import { KeyFingerprinter } from '../access/key-fingerprint.js';
import { MemoryLimiterState } from '../access/limiter-state.js';
import { Lockout } from '../access/lockout.js';
import { MemoryKeyStore } from '../access/memory-key-store.js';
import { RateLimiter } from '../access/rate-limiter.js';
import { createKey } from '../access/virtual-keys.js';
import { ManualClock } from '../core/clock.js';
import { loadPriceCatalog } from '../pricing/catalog.js';
import { ManagedPolicy } from './managed-policy.js';

/** A key store whose database went away (PostgreSQL cut): every read rejects. */
class DownKeyStore extends MemoryKeyStore {
  override async findByHash(): Promise<never> {
    throw new Error('connection terminated unexpectedly');
  }
}

function policy(keys: MemoryKeyStore, loadSpent?: () => Promise<number>): ManagedPolicy {
  const clock = new ManualClock(Date.parse('2026-11-27T00:00:00Z'));
  return new ManagedPolicy({
    keys,
    fingerprinter: new KeyFingerprinter(Buffer.alloc(32, 1)),
    limiter: new RateLimiter({ state: new MemoryLimiterState(), clock }),
    budgets: new BudgetGuard({ state: new MemoryBudgetState(), clock, ...(loadSpent ? { loadSpent } : {}) }),
    lockout: new Lockout({ clock }),
    catalog: loadPriceCatalog(),
    clock,
    providerKey: 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu',
  });
}

const ctx = (key: string) => ({
  headers: { authorization: `Bearer ${key}` },
  ip: '127.0.0.1',
  endpoint: '/v1/chat/completions',
  model: 'gpt-4.1',
  body: { model: 'gpt-4.1', messages: [] },
  now: Date.parse('2026-11-27T00:00:00Z'),
});

describe('ManagedPolicy with its store down', () => {
  it('refuses with 503 TG_ERR_STORE_UNAVAILABLE (an admission, so the request gets its event) when keys cannot be read', async () => {
    const keys = new DownKeyStore();
    const admission = await policy(keys).admit(ctx('tg-live-0123456789abcdefghijklmnopqrstuvwxyzABCD'));
    expect(admission.refusal).toEqual({ code: 'TG_ERR_STORE_UNAVAILABLE', kind: 'policy', retryAfterSec: 1 });
  });

  it('refuses the same way when a budget cannot be seeded from the store', async () => {
    const keys = new MemoryKeyStore();
    const clock = new ManualClock(Date.parse('2026-11-27T00:00:00Z'));
    const { key, record } = await createKey(keys, clock, {
      name: 'b',
      budgetMicroUsd: 5_000_000,
      budgetPeriod: 'month',
    });
    const admission = await policy(keys, () => Promise.reject(new Error('connection terminated'))).admit(
      ctx(key),
    );
    expect(admission.refusal?.code).toBe('TG_ERR_STORE_UNAVAILABLE');
    expect(admission.auth.virtual_key_id).toBe(record.id); // authenticated before the budget failed
  });
});
