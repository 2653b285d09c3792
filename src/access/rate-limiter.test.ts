import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { MemoryLimiterState } from './limiter-state.js';
import { RateLimiter, type LimitSubject } from './rate-limiter.js';

function limiter(state = new MemoryLimiterState()) {
  const clock = new ManualClock();
  return { clock, state, limiter: new RateLimiter({ state, clock }) };
}

/** An async caller as the gateway has it: some awaits before, between and after. */
async function caller(l: RateLimiter, subject: LimitSubject, tokens: number): Promise<boolean> {
  await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  const d = await l.reserve(subject, tokens);
  await Promise.resolve();
  return d.ok;
}

describe('RateLimiter: requests per minute', () => {
  it.each([
    [50, 7],
    [200, 60],
    [10, 10],
  ])('%i parallel requests against rpm %i admit exactly that many', async (n, m) => {
    const { limiter: l } = limiter();
    const subject = { id: 'vk_1', rpm: m, tpm: null };
    const results = await Promise.all(Array.from({ length: n }, () => caller(l, subject, 0)));
    expect(results.filter(Boolean)).toHaveLength(Math.min(n, m));
  });

  it('refuses with BLOCKED, 429 and a Retry-After that is honest', async () => {
    const { limiter: l, clock } = limiter();
    const subject = { id: 'vk_1', rpm: 6, tpm: null };
    for (let i = 0; i < 6; i++) expect((await l.reserve(subject, 0)).ok).toBe(true);
    const refused = await l.reserve(subject, 0);
    expect(refused).toEqual({
      ok: false,
      limit: 'rpm',
      retryAfterSeconds: 10,
      errorCode: 'TG_ERR_POLICY_RATE_LIMIT',
      httpStatus: 429,
      status: 'BLOCKED',
    });
    clock.advance(9_999);
    expect((await l.reserve(subject, 0)).ok).toBe(false);
    clock.advance(1);
    expect((await l.reserve(subject, 0)).ok).toBe(true);
  });

  it('keeps keys apart', async () => {
    const { limiter: l } = limiter();
    expect((await l.reserve({ id: 'a', rpm: 1, tpm: null }, 0)).ok).toBe(true);
    expect((await l.reserve({ id: 'b', rpm: 1, tpm: null }, 0)).ok).toBe(true);
    expect((await l.reserve({ id: 'a', rpm: 1, tpm: null }, 0)).ok).toBe(false);
  });

  it('admits everything when the key has no limits', async () => {
    const { limiter: l, state } = limiter();
    for (let i = 0; i < 1000; i++)
      expect((await l.reserve({ id: 'free', rpm: null, tpm: null }, 5000)).ok).toBe(true);
    expect(state.size).toBe(0);
  });
});

describe('RateLimiter: tokens per minute', () => {
  it('reserves the estimate and settles with actual usage', async () => {
    const { limiter: l } = limiter();
    const subject = { id: 'vk_t', rpm: null, tpm: 1000 };
    const a = await l.reserve(subject, 600);
    expect(a.ok).toBe(true);
    expect((await l.reserve(subject, 600)).ok).toBe(false); // 400 left
    if (!a.ok) throw new Error('unreachable');
    await l.settle(a.reservation, 100); // refunds 500
    expect((await l.reserve(subject, 850)).ok).toBe(true); // 900 left
    expect((await l.reserve(subject, 100)).ok).toBe(false); // 50 left
  });

  it('debits usage beyond the estimate, so the next request waits', async () => {
    const { limiter: l, clock } = limiter();
    const subject = { id: 'vk_t', rpm: null, tpm: 600 };
    const a = await l.reserve(subject, 100);
    if (!a.ok) throw new Error('unreachable');
    await l.settle(a.reservation, 1100); // 600 - 1100 = -500 (debt)
    const refused = await l.reserve(subject, 100);
    expect(refused).toMatchObject({ ok: false, limit: 'tpm', retryAfterSeconds: 60 }); // 600 tokens at 10/s
    clock.advance(60_000);
    expect((await l.reserve(subject, 100)).ok).toBe(true);
  });

  it('settling twice, or with unknown usage, changes nothing more', async () => {
    const { limiter: l } = limiter();
    const subject = { id: 'vk_t', rpm: null, tpm: 1000 };
    const a = await l.reserve(subject, 500);
    if (!a.ok) throw new Error('unreachable');
    await l.settle(a.reservation, 0);
    await l.settle(a.reservation, 0);
    const b = await l.reserve(subject, 1000);
    expect(b.ok).toBe(true);
    if (!b.ok) throw new Error('unreachable');
    await l.settle(b.reservation, null);
    expect((await l.reserve(subject, 1)).ok).toBe(false);
  });

  it('caps an estimate above the whole allowance at the allowance', async () => {
    const { limiter: l } = limiter();
    expect((await l.reserve({ id: 'big', rpm: null, tpm: 1000 }, 32_000)).ok).toBe(true);
  });

  it('parallel token reservations never overspend', async () => {
    const { limiter: l } = limiter();
    const subject = { id: 'vk_p', rpm: 1000, tpm: 10_000 };
    const results = await Promise.all(Array.from({ length: 100 }, () => caller(l, subject, 300)));
    expect(results.filter(Boolean)).toHaveLength(33);
  });

  it('a tpm refusal does not spend the request from the rpm bucket (all or nothing)', async () => {
    const { limiter: l } = limiter();
    const subject = { id: 'vk_a', rpm: 2, tpm: 100 };
    expect((await l.reserve(subject, 100)).ok).toBe(true);
    expect(await l.reserve(subject, 50)).toMatchObject({ ok: false, limit: 'tpm' });
    expect((await l.reserve({ ...subject, tpm: null }, 0)).ok).toBe(true); // rpm still had 1
  });
});

describe('MemoryLimiterState bounds', () => {
  it('drops full buckets first, then the least recently used, and counts evictions', async () => {
    const state = new MemoryLimiterState({ maxBuckets: 3 });
    const { limiter: l, clock } = limiter(state);
    for (const id of ['a', 'b', 'c']) await l.reserve({ id, rpm: 10, tpm: null }, 0);
    expect(state.size).toBe(3);
    clock.advance(60_000); // all refilled
    await l.reserve({ id: 'd', rpm: 10, tpm: null }, 0);
    expect(state.size).toBe(1);
    expect(state.evictions).toBe(0);
    for (const id of ['e', 'f', 'g']) await l.reserve({ id, rpm: 10, tpm: null }, 0);
    expect(state.size).toBe(3);
    expect(state.evictions).toBe(1);
  });
});
