import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../alerting/alert.js';
import { ManualClock } from '../core/clock.js';
import type { TollgateError } from '../core/errors.js';
import { createAuthFailuresDetector } from '../detection/auth-repeated-failures.js';
import { createDetectionEngine, type DetectionEngine } from '../detection/detection-engine.js';
import { testEvent } from '../detection/detector-test-kit.js';
import { createVolumeSpikeDetector } from '../detection/volume-spike.js';
import { redisService, uniqueName } from '../../test/support/services.js';
import { CuttableProxy } from '../../test/replicas/replica-process.js';
import { createRedisClient, waitForRedis } from './redis-connection.js';
import { RedisSharedWindows } from './redis-shared-windows.js';
import { closeTestClients, openTestClients, TEST_KEY_SECRET } from './redis-test-kit.js';

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
    for (let t = 0; t < 50 && client.status === 'ready'; t++) await new Promise((r) => setTimeout(r, 20));
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
