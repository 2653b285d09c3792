import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { redisService, uniqueName } from '../../test/support/services.js';
import { RedisLockout } from './redis-lockout.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';

const service = await redisService();

describe.skipIf(!service.available)('RedisLockout', () => {
  const prefix = `${uniqueName('tgtest')}:`;
  let clients: Redis[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 2);
  });
  afterAll(async () => {
    await closeTestClients(clients, prefix);
  });

  it('counts failures from every replica, locks once at the threshold, and unlocks after the cool-off', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const opts = {
      prefix,
      policy: 'fail-closed' as const,
      keySecret: TEST_KEY_SECRET,
      clock,
      maxFailures: 5,
      windowMs: 60_000,
      coolOffMs: 600_000,
    };
    const a = new RedisLockout({ ...opts, client: clients[0]! });
    const b = new RedisLockout({ ...opts, client: clients[1]! });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).recordFailure('ip:10.0.0.9')),
    );
    expect(results.filter((r) => r.justLocked)).toHaveLength(1);
    expect(results.filter((r) => r.locked)).toHaveLength(8);
    expect(await b.check('ip:10.0.0.9')).toEqual({ locked: true, until: clock.now() + 600_000 });
    expect((await a.check('ip:10.0.0.10')).locked).toBe(false);
    clock.advance(600_001);
    expect((await a.check('ip:10.0.0.9')).locked).toBe(false);
    expect((await a.recordFailure('ip:10.0.0.9')).failures).toBe(1);
  });

  it('replicas with different fingerprint secrets do not share a count (every replica needs the same fingerprint.key)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const opts = {
      prefix,
      policy: 'fail-closed' as const,
      clock,
      maxFailures: 2,
      windowMs: 60_000,
      coolOffMs: 60_000,
    };
    const a = new RedisLockout({ ...opts, client: clients[0]!, keySecret: TEST_KEY_SECRET });
    const b = new RedisLockout({ ...opts, client: clients[1]!, keySecret: Buffer.alloc(32, 8) });
    await a.recordFailure('ip:10.0.0.77');
    expect(await b.recordFailure('ip:10.0.0.77')).toMatchObject({ locked: false, failures: 1 });
  });

  it('forgets failures that left the sliding window', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const l = new RedisLockout({
      client: clients[0]!,
      prefix,
      policy: 'fail-closed',
      keySecret: TEST_KEY_SECRET,
      clock,
      maxFailures: 3,
      windowMs: 60_000,
      coolOffMs: 60_000,
    });
    await l.recordFailure('key:kf_1');
    await l.recordFailure('key:kf_1');
    clock.advance(61_000);
    expect(await l.recordFailure('key:kf_1')).toMatchObject({ locked: false, failures: 1 });
  });
});
