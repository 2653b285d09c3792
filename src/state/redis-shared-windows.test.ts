import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../alerting/alert.js';
import { ManualClock } from '../core/clock.js';
import type { TollgateError } from '../core/errors.js';
import { createAuthFailuresDetector } from '../detection/auth-repeated-failures.js';
import { createDetectionEngine, type DetectionEngine } from '../detection/detection-engine.js';
import { testEvent } from '../detection/detector-test-kit.js';
import { createVolumeSpikeDetector } from '../detection/volume-spike.js';
import { createCostBudgetDetector } from '../detection/cost-budget.js';
import type { Detector } from '../detection/detector.js';
import { createErrorsRateDetector } from '../detection/errors-rate.js';
import { createNewNetworkDetector } from '../detection/key-new-network.js';
import { createContextGrowthDetector } from '../detection/session-context-growth.js';
import { redisService, uniqueName } from '../../test/support/services.js';
import { CuttableProxy } from '../../test/replicas/replica-process.js';
import { createRedisClient, waitForRedis } from './redis-connection.js';
import { RedisSharedWindows } from './redis-shared-windows.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';
import { until } from '../../test/support/until.js';

const service = await redisService();
const failed = { status: 'AUTH_FAILED', auth_result: 'FAILED', http_status_code: 401 } as const;

interface Replica {
  windows: RedisSharedWindows;
  engine: DetectionEngine;
  alerts: { alert: Alert; change: AlertChange }[];
}

describe.skipIf(!service.available)('detector windows shared through Redis', () => {
  const prefix = `${uniqueName('tgtest')}:`;
  let clients: Redis[] = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const replicas: Replica[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 3);
  });
  afterAll(async () => {
    for (const r of replicas) await r.windows.close();
    await closeTestClients(clients, prefix);
  });

  /** Three replicas: each its own client, shared windows and engine (auth threshold 5 per 60 s). */
  function threeReplicas(): Replica[] {
    replicas.length = 0;
    for (const client of clients) {
      // flushMs: long, so the test flushes explicitly.
      const windows = new RedisSharedWindows({
        client,
        prefix,
        policy: 'fail-open',
        keySecret: TEST_KEY_SECRET,
        clock,
        flushMs: 60_000,
        staleMs: 60_000,
      });
      const alerts: Replica['alerts'] = [];
      const engine = createDetectionEngine({
        detectors: [
          createAuthFailuresDetector({ threshold: 5 }, windows),
          createVolumeSpikeDetector({ coldFloor: 30 }, windows),
        ],
        clock,
        incidentClaims: windows,
        onAlert: (alert, change) => void alerts.push({ alert, change }),
      });
      replicas.push({ windows, engine, alerts });
    }
    return replicas;
  }
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

  it('fires once for a burst spread over three replicas that none of them sees in full', async () => {
    const rs = threeReplicas();
    // 2 + 2 + 1 failures from one IP: below 5 on every replica.
    [0, 0, 1, 1, 2].forEach((i) =>
      rs[i]!.engine.observe(testEvent(clock, { ...failed, ip_address: '198.51.100.7', api_key_id: null })),
    );
    expect(rs.flatMap((r) => r.alerts)).toHaveLength(0);
    for (const r of rs) await r.windows.flush();
    await settle();
    const all = rs.flatMap((r) => r.alerts).filter((a) => a.alert.rule_id === 'auth.repeated-failures');
    expect(all.filter((a) => a.change === 'new')).toHaveLength(1);
    expect(all[0]!.alert.subject).toEqual({ kind: 'ip', value: '198.51.100.7' });
    expect(all[0]!.alert.evidence.figures.observed).toBe(5);

    // The next failure, on a replica that did not raise it, updates that same alert (at its
    // flush: that replica's merged total was read before the others had added theirs).
    const raiser = all[0]!.alert.id;
    const other = rs.find((r) => !r.alerts.some((a) => a.change === 'new'))!;
    other.engine.observe(testEvent(clock, { ...failed, ip_address: '198.51.100.7', api_key_id: null }));
    await other.windows.flush();
    await settle();
    const later = other.alerts.filter((a) => a.alert.rule_id === 'auth.repeated-failures');
    expect(later.map((a) => a.change)).toEqual(['updated']);
    expect(later[0]!.alert.id).toBe(raiser);
    expect(rs.reduce((n, r) => n + r.engine.stats().alertsRaised, 0)).toBe(1);
  });

  it('decides on the merged total on the event path once it is known', async () => {
    const rs = threeReplicas();
    const ev = (): ReturnType<typeof testEvent> =>
      testEvent(clock, { ...failed, api_key_id: 'kf_shared', ip_address: null });
    rs[1]!.engine.observe(ev());
    rs[2]!.engine.observe(ev());
    rs[2]!.engine.observe(ev());
    rs[0]!.engine.observe(ev());
    for (const r of [rs[1]!, rs[2]!, rs[0]!]) await r.windows.flush();
    await settle();
    expect(rs.flatMap((r) => r.alerts)).toHaveLength(0); // 4 in all
    rs[0]!.engine.observe(ev()); // the 5th, on a replica that saw 2
    await settle();
    expect(rs[0]!.alerts.map((a) => [a.alert.rule_id, a.change])).toEqual([
      ['auth.repeated-failures', 'new'],
    ]);
  });

  it('counts distinct keys failing from one IP over every replica (credential stuffing), each key once', async () => {
    const rs = threeReplicas();
    const fail = (r: number, ip: string, key: string): void =>
      rs[r]!.engine.observe(testEvent(clock, { ...failed, ip_address: ip, api_key_id: key }));
    const flushAll = async (): Promise<void> => {
      for (const r of rs) await r.windows.flush();
      await settle();
    };
    // One key failing on two replicas is one key: 4 failures (threshold 5), 3 distinct keys (threshold 4).
    fail(0, '198.51.100.44', 'kf_s1');
    fail(1, '198.51.100.44', 'kf_s1');
    fail(2, '198.51.100.44', 'kf_s2');
    await flushAll();
    fail(0, '198.51.100.44', 'kf_s3');
    await flushAll();
    expect(rs.flatMap((r) => r.alerts)).toHaveLength(0);
    // 4 distinct keys over three replicas, 4 failures: only the shared distinct count reaches a threshold.
    fail(0, '198.51.100.45', 'kf_t1');
    fail(1, '198.51.100.45', 'kf_t2');
    fail(2, '198.51.100.45', 'kf_t3');
    await flushAll();
    fail(0, '198.51.100.45', 'kf_t4'); // replica 0 saw 2 keys itself
    await flushAll();
    const all = rs.flatMap((r) => r.alerts).filter((a) => a.alert.subject.value === '198.51.100.45');
    expect(all.map((a) => a.change)).toEqual(['new']);
    expect(all[0]!.alert.evidence.figures).toMatchObject({ observed: 4, unit: 'distinct_keys' });
  });

  it('counts request volume per key over every replica', async () => {
    const rs = threeReplicas();
    for (let i = 0; i < 29; i++) rs[i % 3]!.engine.observe(testEvent(clock, { api_key_id: 'kf_busy' }));
    for (const r of [rs[0]!, rs[2]!, rs[1]!]) await r.windows.flush(); // replica 1 reads the total of all 29
    expect(rs.flatMap((r) => r.alerts)).toHaveLength(0);
    rs[1]!.engine.observe(testEvent(clock, { api_key_id: 'kf_busy' })); // 30 in all, 10 here
    await settle();
    expect(rs[1]!.alerts.map((a) => [a.alert.rule_id, a.alert.subject.value, a.change])).toEqual([
      ['volume.spike', 'kf_busy', 'new'],
    ]);
  });

  it('keeps counts while Redis is cut, reports it, falls back to its own window, and shares them once Redis is back', async () => {
    const errors: TollgateError[] = [];
    const u = new URL(service.url);
    const proxy = new CuttableProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    const client = createRedisClient(`redis://127.0.0.1:${proxy.port}`, { commandTimeoutMs: 500 });
    expect(await waitForRedis(client, 5000)).toBe(true);
    const windows = new RedisSharedWindows({
      client,
      prefix,
      policy: 'fail-open',
      keySecret: TEST_KEY_SECRET,
      clock,
      flushMs: 60_000,
      staleMs: 1_000,
      onUnavailable: (e) => void errors.push(e),
    });
    const w = windows.open('cut', { windowMs: 60_000, bucketMs: 5_000 });
    w.add('s', 1, clock.now());
    await windows.flush();
    expect(w.total('s', clock.now())).toBe(1);
    await proxy.stop();
    await until('the client sees the connection go', () => client.status !== 'ready', 5_000, 20);
    w.add('s', 2, clock.now());
    await windows.flush();
    expect(errors.map((e) => [e.code, e.detail?.operation])).toEqual([
      ['TG_ERR_STATE_UNAVAILABLE', 'window.flush'],
    ]);
    clock.advance(2_000); // the merged total goes stale: the detector uses its own window
    expect(w.total('s', clock.now())).toBeNull();
    await proxy.start();
    expect(await waitForRedis(client, 5000)).toBe(true);
    await windows.flush();
    // The 2 counted during the cut arrived, beside the first 1.
    expect(w.total('s', clock.now())).toBe(3);
    await windows.close();
    client.disconnect();
    await proxy.stop();
  });
});

/**
 * The rules that decided per replica before: errors.rate, session.context-growth, cost.budget and
 * key.new-network, each on three in-process replicas sharing one Redis, with explicit flushes.
 */
describe.skipIf(!service.available)('per-replica rules decided over every replica', () => {
  const prefix = `${uniqueName('tgrules')}:`;
  let clients: Redis[] = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const open: RedisSharedWindows[] = [];
  beforeAll(async () => {
    clients = await openTestClients(service.url, 3);
  });
  afterAll(async () => {
    for (const w of open) await w.close();
    await closeTestClients(clients, prefix);
  });

  function replicasWith(detector: (w: RedisSharedWindows) => Detector, n = 3): Replica[] {
    return clients.slice(0, n).map((client) => {
      const windows = new RedisSharedWindows({
        client,
        prefix,
        policy: 'fail-open',
        keySecret: TEST_KEY_SECRET,
        clock,
        flushMs: 60_000,
        staleMs: 60_000,
      });
      open.push(windows);
      const alerts: Replica['alerts'] = [];
      const engine = createDetectionEngine({
        detectors: [detector(windows)],
        clock,
        incidentClaims: windows,
        onAlert: (alert, change) => void alerts.push({ alert, change }),
      });
      return { windows, engine, alerts };
    });
  }
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));
  async function flushAll(rs: readonly Replica[]): Promise<void> {
    for (const r of rs) await r.windows.flush();
    await settle();
  }
  const changes = (rs: readonly Replica[], value: string): AlertChange[] =>
    rs
      .flatMap((r) => r.alerts)
      .filter((a) => a.alert.subject.value.includes(value))
      .map((a) => a.change);

  it('errors.rate: judges the share on requests and failures summed over the replicas, once', async () => {
    const rs = replicasWith((w) => createErrorsRateDetector({ minRequests: 6, minFailures: 3 }, w));
    const req = (r: number, ok: boolean): void =>
      rs[r]!.engine.observe(
        testEvent(clock, {
          user_id: 'u-err',
          api_key_id: 'kf-err',
          ...(ok ? {} : { status: 'SERVER_ERROR', http_status_code: 502 }),
        }),
      );
    // One success and one failure on each replica: 2 requests each (minimum 6), 6 and 3 in all.
    for (const r of [0, 1, 2]) {
      req(r, true);
      req(r, false);
      await rs[r]!.windows.flush();
    }
    await settle();
    expect(changes(rs, 'u-err')).toEqual(['new']);
    const alert = rs.flatMap((r) => r.alerts)[0]!.alert;
    // The narrowest subject (the user), not also its key.
    expect(alert.subject).toEqual({ kind: 'user', value: 'u-err' });
    expect(changes(rs, 'kf-err')).toEqual([]);
    expect(alert.description).toContain('3 of 6 requests');
    // A further failure on another replica joins that alert.
    req(0, false);
    await flushAll(rs);
    expect(changes(rs, 'u-err').sort()).toEqual(['new', 'updated']);
    expect(new Set(rs.flatMap((r) => r.alerts).map((a) => a.alert.id)).size).toBe(1);
  });

  it('session.context-growth: sees a session growing across replicas as one run, once', async () => {
    const rs = replicasWith((w) =>
      createContextGrowthDetector({ minConsecutive: 5, minInputTokens: 150, minGrowthFactor: 2 }, w),
    );
    // A sequential agent loop behind a load balancer: each request on the next replica, each
    // replica flushing between two requests. No replica sees more than two of the five.
    const inputs = [60, 80, 100, 130, 160];
    for (let i = 0; i < inputs.length; i++) {
      rs[i % 3]!.engine.observe(testEvent(clock, { session_id: 'sess-grow', input_tokens: inputs[i]! }));
      await rs[i % 3]!.windows.flush();
      clock.advance(1000);
    }
    await settle();
    expect(changes(rs, 'sess-grow')).toEqual(['new']);
    expect(rs.flatMap((r) => r.alerts)[0]!.alert.evidence.figures).toMatchObject({
      observed: 160,
      baseline: 60,
    });
    // A trimmed context on any replica breaks the run for all: the next growth does not fire.
    for (const [i, input] of [
      [0, 40],
      [1, 170],
      [2, 180],
    ] as const) {
      rs[i]!.engine.observe(testEvent(clock, { session_id: 'sess-trim', input_tokens: input }));
      await rs[i]!.windows.flush();
    }
    await settle();
    expect(changes(rs, 'sess-trim')).toEqual([]);
  });

  it('cost.budget: sums the spend of a budget over the replicas and raises its crossing once', async () => {
    const budgets = [{ scope: 'user' as const, subject: '*', period: 'day' as const, limit_usd: 0.0003 }];
    const rs = replicasWith((w) => createCostBudgetDetector({ budgets }, w));
    // 100 µ$ on each replica: 1/3 of the budget each (warning at 80 %), all of it in total.
    for (const r of [0, 1, 2])
      rs[r]!.engine.observe(testEvent(clock, { user_id: 'u-spend', cost_micro_usd: 100 }));
    expect(changes(rs, 'u-spend')).toEqual([]);
    await flushAll(rs);
    const all = rs.flatMap((r) => r.alerts);
    expect(all.map((a) => [a.change, a.alert.severity])).toEqual([['new', 'HIGH']]);
    expect(all[0]!.alert.evidence.figures).toMatchObject({ observed: 300, threshold: 300 });
  });

  it('key.new-network: shares the warm-up and the networks a key was used from', async () => {
    const cfg = { warmupMs: 0, warmupEvents: 3 };
    const rs = replicasWith((w) => createNewNetworkDetector(cfg, w));
    const use = (r: number, key: string, ip: string): void =>
      rs[r]!.engine.observe(testEvent(clock, { api_key_id: key, ip_address: ip }));
    // Warm-up (3 uses) spread over the replicas: none of them is past it alone.
    for (const r of [0, 1, 2, 0]) {
      use(r, 'kf-net', `203.0.113.${r + 10}`);
      await rs[r]!.windows.flush();
    }
    // A new network, on a replica that saw the key once (warming up on its own).
    use(1, 'kf-net', '198.51.100.9');
    await rs[1]!.windows.flush();
    // ...and on another one: the same incident.
    use(2, 'kf-net', '198.51.100.10');
    await flushAll(rs);
    expect(changes(rs, 'kf-net').sort()).toEqual(['new', 'updated']);
    expect(rs.flatMap((r) => r.alerts)[0]!.alert.title).toContain('198.51.100.0/24');

    // Not new: a network one replica learned during the warm-up is known to the others.
    use(0, 'kf-roam', '203.0.113.1');
    use(0, 'kf-roam', '192.0.2.1');
    for (let i = 0; i < 4; i++) use(1, 'kf-roam', '203.0.113.2'); // replica 1 alone is past its warm-up
    await flushAll(rs);
    use(1, 'kf-roam', '192.0.2.77');
    await flushAll(rs);
    expect(changes(rs, 'kf-roam')).toEqual([]);
  });

  it('decides on its own for a subject the shared tables are too full to track', async () => {
    const windows = new RedisSharedWindows({
      client: clients[0]!,
      prefix,
      policy: 'fail-open',
      keySecret: TEST_KEY_SECRET,
      clock,
      flushMs: 60_000,
      maxSubjects: 1,
    });
    open.push(windows);
    const alerts: Alert[] = [];
    const engine = createDetectionEngine({
      detectors: [
        createContextGrowthDetector({ minConsecutive: 5, minInputTokens: 150, minGrowthFactor: 2 }, windows),
        createNewNetworkDetector({ warmupMs: 0, warmupEvents: 3 }, windows),
      ],
      clock,
      onAlert: (alert) => void alerts.push(alert),
    });
    engine.observe(
      testEvent(clock, {
        session_id: 'sess-tracked',
        input_tokens: 10,
        api_key_id: 'kf-tracked',
        ip_address: '203.0.113.9',
      }),
    );
    // Past maxSubjects: not shared, so not left waiting for a flush either.
    for (const input of [60, 80, 100, 130, 160])
      engine.observe(testEvent(clock, { session_id: 'sess-untracked', input_tokens: input }));
    for (let i = 0; i < 4; i++)
      engine.observe(testEvent(clock, { api_key_id: 'kf-untracked', ip_address: '203.0.113.9' }));
    engine.observe(testEvent(clock, { api_key_id: 'kf-untracked', ip_address: '198.51.100.9' }));
    await settle();
    expect(alerts.map((a) => `${a.rule_id} ${a.subject.value}`).sort()).toEqual([
      'key.new-network kf-untracked',
      'session.context-growth sess-untracked',
    ]);
  });

  it('with Redis cut, each rule decides on what the replica sees itself', async () => {
    const u = new URL(service.url);
    const proxy = new CuttableProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    const client = createRedisClient(`redis://127.0.0.1:${proxy.port}`, { commandTimeoutMs: 500 });
    expect(await waitForRedis(client, 5000)).toBe(true);
    const windows = new RedisSharedWindows({
      client,
      prefix,
      policy: 'fail-open',
      keySecret: TEST_KEY_SECRET,
      clock,
      flushMs: 60_000,
      staleMs: 1_000,
    });
    const alerts: Alert[] = [];
    const engine = createDetectionEngine({
      detectors: [
        createErrorsRateDetector({ minRequests: 6, minFailures: 3 }, windows),
        createContextGrowthDetector({ minConsecutive: 5, minInputTokens: 150, minGrowthFactor: 2 }, windows),
        createCostBudgetDetector(
          { budgets: [{ scope: 'user', subject: '*', period: 'day', limit_usd: 0.0003 }] },
          windows,
        ),
        createNewNetworkDetector({ warmupMs: 0, warmupEvents: 3 }, windows),
      ],
      clock,
      incidentClaims: windows,
      onAlert: (alert) => void alerts.push(alert),
    });
    await proxy.stop();
    await until('the client sees the connection go', () => client.status !== 'ready', 5_000, 20);
    engine.observe(testEvent(clock, { user_id: 'u-cut-warm' }));
    await windows.flush(); // fails: the replica decides on its own from now on
    expect(windows.available()).toBe(false);
    for (let i = 0; i < 6; i++)
      engine.observe(
        testEvent(clock, {
          user_id: 'u-cut',
          ...(i % 2 ? { status: 'SERVER_ERROR', http_status_code: 502 } : {}),
        }),
      );
    for (const input of [60, 80, 100, 130, 160])
      engine.observe(testEvent(clock, { session_id: 'sess-cut', input_tokens: input }));
    for (let i = 0; i < 3; i++)
      engine.observe(testEvent(clock, { user_id: 'u-cut-spend', cost_micro_usd: 100 }));
    for (let i = 0; i < 4; i++)
      engine.observe(testEvent(clock, { api_key_id: 'kf-cut', ip_address: '203.0.113.5' }));
    engine.observe(testEvent(clock, { api_key_id: 'kf-cut', ip_address: '198.51.100.5' }));
    await settle();
    expect(alerts.map((a) => `${a.rule_id} ${a.subject.value}`).sort()).toEqual([
      'cost.budget user:u-cut-spend/day:2026-01-01',
      'errors.rate u-cut',
      'key.new-network kf-cut',
      'session.context-growth sess-cut',
    ]);
    await windows.close().catch(() => undefined);
    client.disconnect();
    await proxy.stop();
  });
});
