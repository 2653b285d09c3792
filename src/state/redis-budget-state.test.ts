import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisService, uniqueName } from '../../test/support/services.js';
import { RedisBudgetState } from './redis-budget-state.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';

const service = await redisService();

describe.skipIf(!service.available)('RedisBudgetState', () => {
  const prefix = `${uniqueName('tgtest')}:`;
  let clients: Redis[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 3);
  });
  afterAll(async () => {
    await closeTestClients(clients, prefix);
  });
  const state = (i: number): RedisBudgetState =>
    new RedisBudgetState({ client: clients[i]!, prefix, policy: 'fail-closed', keySecret: TEST_KEY_SECRET });

  it('seeds once from the store, then reserves atomically across replicas up to the limit', async () => {
    const replicas = [state(0), state(1), state(2)];
    // Limit 10 000 µUSD, 2 000 already spent (seed): exactly 80 reservations of 100 fit.
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => replicas[i % 3]!.reserve('vk_1', '2026-01', 10_000, 100, 2_000)),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(80);
    expect(Math.max(...results.map((r) => r.spent))).toBe(10_000);
    // A later seed does not replace the live counter.
    expect(await state(0).reserve('vk_1', '2026-01', 10_000, 1, 0)).toEqual({
      admitted: false,
      spent: 10_000,
    });
  });

  it('adjusts (refunds) the current period, never below zero, and periods are separate', async () => {
    const s = state(1);
    expect(await s.reserve('vk_2', '2026-02', 1_000, 600, 0)).toEqual({ admitted: true, spent: 600 });
    await s.adjust('vk_2', '2026-02', -500);
    expect(await s.reserve('vk_2', '2026-02', 1_000, 800, 0)).toEqual({ admitted: true, spent: 900 });
    await s.adjust('vk_2', '2026-02', -5_000);
    expect(await s.reserve('vk_2', '2026-02', 1_000, 0, 0)).toEqual({ admitted: true, spent: 0 });
    expect(await s.reserve('vk_2', '2026-03', 1_000, 1_000, 0)).toEqual({ admitted: true, spent: 1_000 });
    await s.adjust('vk_2', '2026-04', 50); // no counter: stays absent, re-seeded on the next reserve
    expect(await s.reserve('vk_2', '2026-04', 1_000, 10, 7)).toEqual({ admitted: true, spent: 17 });
  });
});
