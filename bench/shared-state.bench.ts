/**
 * Per-request cost of the shared (Redis) state against the in-process state, in one run:
 *
 * 1. Access path of a managed request: lockout check, rpm+tpm reservation and settlement, budget
 *    reservation and settlement (the key check is the same in both and left out). Sequential
 *    latency per request, CPU per request, and throughput with 32 requests in flight.
 * 2. Detector windows: the detection engine with the built-in detectors on successful requests and
 *    auth failures, in process vs. shared windows (counts batched, one pipeline per 200 ms), vs. a
 *    Redis script call per event (what batching avoids).
 *
 *   npx tsx bench/shared-state.bench.ts        (Redis at TOLLGATE_BENCH_REDIS_URL or 127.0.0.1:6379)
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { BudgetGuard } from '../src/access/budget-guard.js';
import { MemoryBudgetState, type BudgetState } from '../src/access/budget-state.js';
import { MemoryLimiterState, type LimiterState } from '../src/access/limiter-state.js';
import { Lockout, type LockoutGuard } from '../src/access/lockout.js';
import { RateLimiter } from '../src/access/rate-limiter.js';
import { blankEvent, type AuditEvent } from '../src/core/audit-event.js';
import { systemClock } from '../src/core/clock.js';
import { createDetectors } from '../src/detection/default-detectors.js';
import { createDetectionEngine } from '../src/detection/detection-engine.js';
import type { SharedWindows } from '../src/detection/shared-windows.js';
import { RedisBudgetState } from '../src/state/redis-budget-state.js';
import { createRedisClient, waitForRedis } from '../src/state/redis-connection.js';
import { RedisLimiterState } from '../src/state/redis-limiter-state.js';
import { RedisLockout } from '../src/state/redis-lockout.js';
import { RedisSharedWindows } from '../src/state/redis-shared-windows.js';
import { RedisSlidingWindow } from '../src/state/redis-sliding-window.js';
import { closeTestClients } from '../src/state/redis-test-kit.js';

const url = process.env.TOLLGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench_${process.pid}_${randomBytes(3).toString('hex')}:`;
const clock = systemClock;
const KEYS = 1000;
const ROUNDS = 5;

interface Measure {
  usWall: number;
  usCpu: number;
}

/** Best of ROUNDS rounds of `n` sequential calls: wall and CPU µs per call. */
async function measure(n: number, once: (i: number) => Promise<void> | void): Promise<Measure> {
  for (let i = 0; i < Math.min(n, 2000); i++) await once(i);
  let best: Measure = { usWall: Infinity, usCpu: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await once(i);
    const cpu = process.cpuUsage(cpu0);
    const m = { usWall: ((performance.now() - t0) * 1000) / n, usCpu: (cpu.user + cpu.system) / n };
    if (m.usWall < best.usWall) best = m;
  }
  return best;
}

/** Requests per second with `inFlight` concurrent loops for `ms`. */
async function throughput(inFlight: number, ms: number, once: (i: number) => Promise<void>): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      for (let i = w; performance.now() < end; i += inFlight) {
        await once(i);
        done++;
      }
    }),
  );
  return (done * 1000) / ms;
}

function accessPath(state: {
  limiter: LimiterState;
  budgets: BudgetState;
  lockout: LockoutGuard;
}): (i: number) => Promise<void> {
  const limiter = new RateLimiter({ state: state.limiter, clock });
  const budgets = new BudgetGuard({ state: state.budgets, clock });
  const keys = Array.from({ length: KEYS }, (_, i) => ({
    id: `vk_${i}`,
    rpm: 1_000_000,
    tpm: 1_000_000_000,
    budgetMicroUsd: 10 ** 15,
    budgetPeriod: 'month' as const,
  }));
  return async (i) => {
    if ((await state.lockout.check(`ip:10.0.${(i >> 8) & 255}.${i & 255}`)).locked) throw new Error('locked');
    const key = keys[i % KEYS]!;
    const limit = await limiter.reserve(key, 1500);
    if (!limit.ok) throw new Error('limited');
    const spend = await budgets.reserve(key, 2_000);
    if (!spend.ok) throw new Error('over budget');
    await limiter.settle(limit.reservation, 900);
    await budgets.settle(spend.reservation, 1_234);
  };
}

function events(n: number): AuditEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const fail = i % 10 === 0;
    return {
      ...blankEvent({ id: `evt-${i}`, timestamp: new Date().toISOString(), source: 'gateway' }),
      status: fail ? 'AUTH_FAILED' : 'SUCCESS',
      auth_result: fail ? 'FAILED' : 'SUCCESS',
      http_status_code: fail ? 401 : 200,
      api_key_id: `kf_${i % KEYS}`,
      user_id: `u_${i % 300}`,
      ip_address: `10.1.${(i >> 8) & 255}.${i & 255}`,
      input_tokens: 500,
      output_tokens: 200,
      total_tokens: 700,
    };
  });
}

function engineWith(shared?: SharedWindows): (e: AuditEvent) => void {
  const engine = createDetectionEngine({
    detectors: createDetectors({}, shared),
    clock,
    ...(shared ? { incidentClaims: shared as RedisSharedWindows } : {}),
  });
  return (e) => engine.observe({ ...e, threat_indicators: [] });
}

console.log(
  `node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const client = createRedisClient(url, { commandTimeoutMs: 5000 });
if (!(await waitForRedis(client, 3000))) {
  console.log(`Redis at ${url} unreachable: skipped`);
  client.disconnect();
  process.exit(0);
}
try {
  const memory = accessPath({
    limiter: new MemoryLimiterState(),
    budgets: new MemoryBudgetState(),
    lockout: new Lockout({ clock }),
  });
  const opts = { client, prefix, policy: 'fail-open' as const, keySecret: randomBytes(32) };
  const redis = accessPath({
    limiter: new RedisLimiterState(opts),
    budgets: new RedisBudgetState(opts),
    lockout: new RedisLockout({ ...opts, clock }),
  });
  const m = await measure(50_000, memory);
  const r = await measure(5_000, redis);
  const tm = await throughput(32, 2000, memory);
  const tr = await throughput(32, 2000, redis);
  console.log('access path (lockout check, rpm+tpm reserve/settle, budget reserve/settle):');
  console.log(
    `  in process   ${m.usWall.toFixed(1).padStart(7)} µs/request wall, ${m.usCpu.toFixed(1).padStart(6)} µs CPU; ${Math.round(tm)} requests/s at 32 in flight`,
  );
  console.log(
    `  Redis        ${r.usWall.toFixed(1).padStart(7)} µs/request wall, ${r.usCpu.toFixed(1).padStart(6)} µs CPU; ${Math.round(tr)} requests/s at 32 in flight (5 round trips per request)`,
  );

  const evs = events(20_000);
  const local = engineWith();
  const windows = new RedisSharedWindows({ ...opts, clock });
  const shared = engineWith(windows);
  const perEvent = new RedisSlidingWindow({ ...opts, windowMs: 60_000 });
  const dl = await measure(evs.length, (i) => local(evs[i]!));
  // CPU of the shared engine includes its flushes (the timer runs during the measurement).
  const ds = await measure(evs.length, async (i) => {
    shared(evs[i]!);
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve)); // let flushes run as they would between requests
  });
  await windows.flush();
  const dp = await measure(2_000, async (i) => {
    local(evs[i]!);
    await perEvent.add(`kf_${i % KEYS}`, 1, clock.now()); // one script call per event and window, for comparison
  });
  // The same with a sorted set per subject (one member per event, trimmed to the window), the
  // other way to keep a sliding window in Redis: memory grows with events, not with buckets.
  const zset = `local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])`;
  let member = 0;
  const dz = await measure(2_000, async (i) => {
    local(evs[i]!);
    await client.eval(
      zset,
      1,
      `${prefix}z:kf_${i % KEYS}`,
      clock.now(),
      60_000,
      `${clock.now()}:${member++}`,
    );
  });
  const memZ = await client.memory('USAGE', `${prefix}z:kf_1`);
  const memH = await client.memory('USAGE', `${prefix}sw:kf_1`);
  console.log('detection per event (all built-in detectors; 10 % auth failures, 1000 keys, 300 users):');
  console.log(
    `  in-process windows                ${dl.usWall.toFixed(1).padStart(7)} µs/event wall, ${dl.usCpu.toFixed(1).padStart(6)} µs CPU`,
  );
  console.log(
    `  shared windows, batched (200 ms)  ${ds.usWall.toFixed(1).padStart(7)} µs/event wall, ${ds.usCpu.toFixed(1).padStart(6)} µs CPU (flushes included)`,
  );
  console.log(
    `  a Redis call per event (1 window) ${dp.usWall.toFixed(1).padStart(7)} µs/event wall, ${dp.usCpu.toFixed(1).padStart(6)} µs CPU`,
  );
  console.log(
    `  …as a sorted set per event        ${dz.usWall.toFixed(1).padStart(7)} µs/event wall, ${dz.usCpu.toFixed(1).padStart(6)} µs CPU`,
  );
  console.log(
    `Redis memory of one subject's window after this run: bucketed hash ${memH ?? '?'} bytes, sorted set ${memZ ?? '?'} bytes`,
  );
  await windows.close();
} finally {
  await closeTestClients([client], prefix);
}
