import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisService, uniqueName } from '../../test/support/services.js';
import { RedisSlidingWindow } from './redis-sliding-window.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';

const service = await redisService();

describe.skipIf(!service.available)('RedisSlidingWindow', () => {
  const prefix = `${uniqueName('tgtest')}:`;
  let clients: Redis[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 2);
  });
  afterAll(async () => {
    await closeTestClients(clients, prefix);
  });

  it('sums what every replica added within the window, to one bucket of accuracy', async () => {
    const opts = {
      prefix,
      policy: 'fail-open' as const,
      keySecret: TEST_KEY_SECRET,
      windowMs: 60_000,
      bucketMs: 1_000,
    };
    const a = new RedisSlidingWindow({ ...opts, client: clients[0]! });
    const b = new RedisSlidingWindow({ ...opts, client: clients[1]! });
    const t0 = Date.UTC(2026, 0, 1);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).add('tokens:user-1', 10, t0 + i * 100)),
    );
    expect(await a.sum('tokens:user-1', t0 + 10_000)).toBe(1_000);
    expect(await a.add('tokens:user-1', 2.5, t0 + 30_000)).toBe(1_002.5);
    // 61 s after t0 the first second's bucket (10 adds) has left the window.
    expect(await b.sum('tokens:user-1', t0 + 61_000)).toBe(902.5);
    expect(await b.sum('tokens:user-1', t0 + 200_000)).toBe(0);
    expect(await b.sum('tokens:other', t0)).toBe(0);
  });
});
