import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisService, uniqueName } from '../../test/support/services.js';
import { MemoryConcurrencyState } from '../access/concurrency-state.js';
import { RedisConcurrencyState } from './redis-concurrency-state.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';

const service = await redisService();

describe('MemoryConcurrencyState', () => {
  it('admits up to the limit, frees a slot on release or when the lease expires', async () => {
    const s = new MemoryConcurrencyState();
    const took = await Promise.all(['a', 'b', 'c'].map((id) => s.acquire('team:x', id, 2, 1000, 0)));
    expect(took).toEqual([true, true, false]);
    await s.release('team:x', 'a');
    expect(await s.acquire('team:x', 'd', 2, 1000, 10)).toBe(true);
    expect(await s.acquire('team:x', 'e', 2, 1000, 10)).toBe(false);
    expect(await s.acquire('team:x', 'f', 2, 1000, 1000)).toBe(true); // 'b' expired at 1000
  });
});

describe.skipIf(!service.available)('RedisConcurrencyState', () => {
  const prefix = `${uniqueName('tgtest')}:`;
  let clients: Redis[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 3);
  });
  afterAll(async () => closeTestClients(clients, prefix));

  it('three replicas share the slots: exactly the limit of 60 concurrent acquisitions', async () => {
    const replicas = clients.map(
      (client) =>
        new RedisConcurrencyState({ client, prefix, policy: 'fail-closed', keySecret: TEST_KEY_SECRET }),
    );
    const now = Date.now();
    const took = await Promise.all(
      Array.from({ length: 60 }, (_, i) => replicas[i % 3]!.acquire('feature:f', `l${i}`, 7, 60_000, now)),
    );
    expect(took.filter(Boolean)).toHaveLength(7);
    const first = took.indexOf(true);
    await replicas[1]!.release('feature:f', `l${first}`);
    expect(await replicas[2]!.acquire('feature:f', 'again', 7, 60_000, now)).toBe(true);
    expect(await replicas[0]!.acquire('feature:f', 'over', 7, 60_000, now)).toBe(false);
    // Leases end by themselves: a replica that died holding one does not keep it.
    expect(await replicas[0]!.acquire('feature:f', 'later', 7, 60_000, now + 60_001)).toBe(true);
  });
});
