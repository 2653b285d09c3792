import { createServer, type Server } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TollgateError } from '../core/errors.js';
import { ManualClock } from '../core/clock.js';
import { RedisBudgetState } from './redis-budget-state.js';
import { createRedisClient, waitForRedis } from './redis-connection.js';
import { RedisLimiterState } from './redis-limiter-state.js';
import { RedisLockout } from './redis-lockout.js';
import { RedisSlidingWindow } from './redis-sliding-window.js';
import { TEST_KEY_SECRET } from './redis-test-kit.js';

/** A port with nothing listening: bound, its number noted, then closed. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('shared state when Redis is unreachable (a closed port)', () => {
  let client: Redis;
  const errors: TollgateError[] = [];
  const onUnavailable = (err: TollgateError): void => void errors.push(err);
  beforeAll(async () => {
    client = createRedisClient(`redis://127.0.0.1:${await closedPort()}`);
    expect(await waitForRedis(client, 300)).toBe(false);
  });
  afterAll(() => client.disconnect());
  const req = [{ bucket: 'rpm:k', capacity: 5, refillMs: 60_000, cost: 1 }];

  it('fail-open admits and reports TG_ERR_STATE_UNAVAILABLE without the subject in it', async () => {
    errors.length = 0;
    const s = new RedisLimiterState({
      client,
      policy: 'fail-open',
      keySecret: TEST_KEY_SECRET,
      onUnavailable,
    });
    expect(await s.take(req, Date.now())).toEqual({ admitted: true });
    await s.adjust('tpm:k', 10, 60_000, 5, Date.now());
    expect(errors.map((e) => e.code)).toEqual(['TG_ERR_STATE_UNAVAILABLE', 'TG_ERR_STATE_UNAVAILABLE']);
    expect(errors[0]!.detail).toEqual({ store: 'redis', operation: 'limiter.take' });
    expect(errors[0]!.message).not.toContain('rpm:k');
  });

  it('fail-closed refuses with a retry, and never throws', async () => {
    const s = new RedisLimiterState({
      client,
      policy: 'fail-closed',
      keySecret: TEST_KEY_SECRET,
      onUnavailable,
    });
    expect(await s.take(req, Date.now())).toEqual({ admitted: false, bucket: 'rpm:k', retryAfterMs: 1000 });
    const budgets = new RedisBudgetState({
      client,
      policy: 'fail-closed',
      keySecret: TEST_KEY_SECRET,
      onUnavailable,
    });
    expect(await budgets.reserve('vk', '2026-01', 100, 10, 0)).toEqual({ admitted: false, spent: 0 });
    const open = new RedisBudgetState({
      client,
      policy: 'fail-open',
      keySecret: TEST_KEY_SECRET,
      onUnavailable,
    });
    expect((await open.reserve('vk', '2026-01', 100, 10, 0)).admitted).toBe(true);
    // fail-open still enforces the budget on this replica alone: 100 holds nine more of 10, not ten.
    const more = [];
    for (let i = 0; i < 10; i++) more.push((await open.reserve('vk', '2026-01', 100, 10, 0)).admitted);
    expect(more.filter(Boolean)).toHaveLength(9);
    await open.adjust('vk', '2026-01', -10);
    expect((await open.reserve('vk', '2026-01', 100, 10, 0)).admitted).toBe(true);
    const clock = new ManualClock();
    expect(
      await new RedisLockout({ client, policy: 'fail-closed', keySecret: TEST_KEY_SECRET, clock }).check(
        'ip:1',
      ),
    ).toEqual({ locked: true, until: clock.now() + 1000, unavailable: true });
    const openLockout = new RedisLockout({
      client,
      policy: 'fail-open',
      keySecret: TEST_KEY_SECRET,
      clock,
      maxFailures: 3,
    });
    expect((await openLockout.check('ip:1')).locked).toBe(false);
    // fail-open still stops a brute force on this replica: failures are counted in process meanwhile.
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await openLockout.recordFailure('ip:1'));
    expect(records.map((r) => r.justLocked)).toEqual([false, false, true]);
    expect(await openLockout.check('ip:1')).toEqual({ locked: true, until: clock.now() + 15 * 60_000 });
    expect(
      await new RedisSlidingWindow({
        client,
        policy: 'fail-open',
        keySecret: TEST_KEY_SECRET,
        windowMs: 60_000,
      }).add('k', 1, clock.now()),
    ).toBeNull();
  });

  it('answers fast instead of queueing while disconnected', async () => {
    const s = new RedisLimiterState({ client, policy: 'fail-open', keySecret: TEST_KEY_SECRET });
    const results = await Promise.all(Array.from({ length: 200 }, () => s.take(req, Date.now())));
    expect(results.every((r) => r.admitted)).toBe(true);
  });
});
