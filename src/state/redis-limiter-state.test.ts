import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLimiterState, type TakeRequest } from '../access/limiter-state.js';
import { RateLimiter } from '../access/rate-limiter.js';
import { ManualClock } from '../core/clock.js';
import { redisService, uniqueName } from '../../test/support/services.js';
import { RedisLimiterState } from './redis-limiter-state.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';

const service = await redisService();

describe.skipIf(!service.available)('RedisLimiterState', () => {
  const prefix = `${uniqueName('tgtest')}:`;
  let clients: Redis[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 3);
  });
  afterAll(async () => {
    await closeTestClients(clients, prefix);
  });
  const state = (i: number, sub: string): RedisLimiterState =>
    new RedisLimiterState({
      client: clients[i]!,
      prefix: `${prefix}${sub}:`,
      policy: 'fail-closed',
      keySecret: TEST_KEY_SECRET,
    });

  it('admits exactly the capacity when three replicas race for the same bucket', async () => {
    const replicas = [state(0, 'race'), state(1, 'race'), state(2, 'race')];
    const now = Date.UTC(2026, 0, 1);
    const req: TakeRequest[] = [{ bucket: 'rpm:vk_1', capacity: 50, refillMs: 60_000, cost: 1 }];
    const results = await Promise.all(Array.from({ length: 600 }, (_, i) => replicas[i % 3]!.take(req, now)));
    expect(results.filter((r) => r.admitted)).toHaveLength(50);
    const refused = results.find((r) => !r.admitted);
    expect(refused).toEqual({ admitted: false, bucket: 'rpm:vk_1', retryAfterMs: 1200 });
  });

  it('refills continuously: one token per refillMs/capacity', async () => {
    const s = state(0, 'refill');
    const t0 = Date.UTC(2026, 0, 1);
    const req: TakeRequest[] = [{ bucket: 'b', capacity: 60, refillMs: 60_000, cost: 1 }];
    for (let i = 0; i < 60; i++) expect((await s.take(req, t0)).admitted).toBe(true);
    expect(await s.take(req, t0 + 500)).toEqual({ admitted: false, bucket: 'b', retryAfterMs: 500 });
    expect((await s.take(req, t0 + 1000)).admitted).toBe(true);
    expect((await s.take(req, t0 + 1000)).admitted).toBe(false);
    // A replica whose clock is behind does not refill the bucket backwards.
    expect((await state(1, 'refill').take(req, t0 - 5000)).admitted).toBe(false);
  });

  it('is all-or-nothing over several buckets', async () => {
    const s = state(0, 'multi');
    const now = Date.UTC(2026, 0, 1);
    const rpm: TakeRequest = { bucket: 'rpm:k', capacity: 10, refillMs: 60_000, cost: 1 };
    const tpm: TakeRequest = { bucket: 'tpm:k', capacity: 100, refillMs: 60_000, cost: 80 };
    expect((await s.take([rpm, tpm], now)).admitted).toBe(true);
    const r = await s.take([rpm, tpm], now);
    expect(r).toMatchObject({ admitted: false, bucket: 'tpm:k' });
    // The refused take debited nothing: 9 requests remain on the rpm bucket.
    for (let i = 0; i < 9; i++) expect((await s.take([rpm], now)).admitted).toBe(true);
    expect((await s.take([rpm], now)).admitted).toBe(false);
  });

  it('decides like MemoryLimiterState over a random sequence of takes and adjusts', async () => {
    const redis = state(2, 'parity');
    const memory = new MemoryLimiterState();
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let now = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 400; i++) {
      now += rand(400);
      const bucket = `b${rand(3)}`;
      if (rand(5) === 0) {
        const amount = rand(30) - 15;
        await redis.adjust(bucket, 20, 10_000, amount, now);
        await memory.adjust(bucket, 20, 10_000, amount, now);
        continue;
      }
      const req: TakeRequest[] = [{ bucket, capacity: 20, refillMs: 10_000, cost: 1 + rand(4) }];
      const a = await redis.take(req, now);
      const b = await memory.take(req, now);
      expect(a.admitted, `step ${i}`).toBe(b.admitted);
      if (!a.admitted && !b.admitted)
        expect(Math.abs(a.retryAfterMs - b.retryAfterMs)).toBeLessThanOrEqual(1);
    }
  });

  it('drives the RateLimiter: tokens settle back across replicas', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const a = new RateLimiter({ state: state(0, 'tpm'), clock });
    const b = new RateLimiter({ state: state(1, 'tpm'), clock });
    const subject = { id: 'vk_9', rpm: null, tpm: 1000 };
    const first = await a.reserve(subject, 900);
    expect(first.ok).toBe(true);
    expect((await b.reserve(subject, 200)).ok).toBe(false);
    if (first.ok) await a.settle(first.reservation, 100); // 800 tokens back
    expect((await b.reserve(subject, 200)).ok).toBe(true);
  });
});
