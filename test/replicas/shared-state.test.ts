/**
 * Lockouts, detector windows and alerts shared by three `tollgate serve` processes through Redis
 * (and PostgreSQL for the events), with Redis behind a TCP proxy the test cuts and restores:
 * (a) authentication failures spread over the replicas lock the IP out on all three after
 *     `lockout.max_failures` in total, with one lockout alert;
 * (b) an authentication-failure burst spread over the replicas (below the threshold on each)
 *     raises exactly one `auth.repeated-failures` alert;
 * (c) Redis cut mid-run: fail-open keeps serving and raises `state.unavailable` on each replica,
 *     fail-closed refuses with 503 TG_ERR_STATE_UNAVAILABLE and calls no provider; no replica
 *     crashes; once Redis is back the outage alert closes and lockouts are shared again.
 * Clients come from different loopback addresses (127.0.0.x) so each case has its own IP.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../../src/alerting/alert.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createRedisClient, waitForRedis } from '../../src/state/redis-connection.js';
import { closeTestClients } from '../../src/state/redis-test-kit.js';
import { postgresService, redisService, uniqueName } from '../support/services.js';
import { sleep, until } from '../support/until.js';
import { webhookReceiver } from '../support/webhook-receiver.js';
import { CuttableProxy, startReplica, type ReplicaProcess } from './replica-process.js';

const pgService = await postgresService();
const redis = await redisService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';
const ADMIN_TOKEN = `tg-admin-${randomBytes(24).toString('hex')}`;
// Above the 8 failures of the burst case, so that case is never cut short by a lockout.
const MAX_FAILURES = 10;

describe.skipIf(!pgService.available || !redis.available)(
  'shared state of three replicas through Redis',
  () => {
    const schema = uniqueName('tg_shared');
    const prefix = `${uniqueName('tgrep')}:`;
    const dbUrl = (() => {
      const u = new URL(pgService.url);
      u.searchParams.set('schema', schema);
      return u.toString();
    })();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-shared-'));
    const configFile = join(dir, 'tollgate.config.yaml');
    const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
    const target = new URL(redis.url);
    const proxy = new CuttableProxy(target.hostname, Number(target.port || 6379));
    const replicas: ReplicaProcess[] = [];
    const agents = new Map<string, Agent>();
    let hook: Awaited<ReturnType<typeof webhookReceiver>>;
    let key = '';
    let upstream = '';

    const env = (instance: string, policy: 'fail-open' | 'fail-closed'): Record<string, string> => ({
      TOLLGATE_DB: dbUrl,
      TOLLGATE_REDIS_URL: `redis://127.0.0.1:${proxy.port}/?prefix=${encodeURIComponent(prefix)}`,
      TOLLGATE_REDIS_FAILURE_POLICY: policy,
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_INSTANCE_ID: instance,
      TOLLGATE_MODE: 'managed',
      TOLLGATE_PROVIDER_KEY: PROVIDER_KEY,
      TOLLGATE_UPSTREAM_URL: upstream,
      TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      TOLLGATE_ALERT_WEBHOOK_URL: hook.url,
      TOLLGATE_ALERT_WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
    });

    /** A chat call from the loopback address `from` (each case its own client IP). */
    async function call(
      replica: ReplicaProcess,
      from: string,
      bearer: string,
    ): Promise<{ status: number; code: string | null }> {
      let agent = agents.get(from);
      if (!agent) agents.set(from, (agent = new Agent({ localAddress: from })));
      const res = await request(`${replica.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
      });
      const body = (await res.body.json()) as { error?: { code?: string } };
      return { status: res.statusCode, code: body.error?.code ?? null };
    }
    const wrongKey = (): string => `tg-WRONG${randomBytes(20).toString('hex')}`;
    const alertsOf = (rule: string, change?: AlertChange): Alert[] =>
      hook.got
        .filter((g) => g.alert.rule_id === rule && (change === undefined || g.change === change))
        .map((g) => g.alert);
    /** The stored alerts of a rule, as a replica's admin API lists them. */
    async function storedAlerts(replica: ReplicaProcess, rule: string): Promise<Alert[]> {
      const res = await request(`${replica.url}/admin/alerts?rule=${rule}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return ((await res.body.json()) as { alerts: Alert[] }).alerts;
    }
    const logs = (): string =>
      replicas
        .map((r) => r.stderr())
        .join('\n')
        .slice(-3000);

    beforeAll(async () => {
      upstream = await mock.listen();
      hook = await webhookReceiver();
      await proxy.start();
      writeFileSync(
        configFile,
        `lockout:\n  max_failures: ${MAX_FAILURES}\n  window_ms: 300000\n  cool_off_ms: 600000\ndetection:\n  auth.repeated-failures:\n    threshold: 5\n    windowMs: 60000\n`,
      );
      const args = ['--config', configFile];
      replicas.push(await startReplica(env('shared-1', 'fail-open'), 60_000, args));
      replicas.push(
        ...(await Promise.all([
          startReplica(env('shared-2', 'fail-open'), 60_000, args),
          startReplica(env('shared-3', 'fail-open'), 60_000, args),
        ])),
      );
      const res = await request(`${replicas[0]!.url}/admin/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ name: 'shared-state-test' }),
      });
      expect(res.statusCode).toBe(201);
      key = ((await res.body.json()) as { key: string }).key;
    }, 180_000);

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      for (const a of agents.values()) await a.close();
      await proxy.start().catch(() => undefined);
      const client = createRedisClient(`redis://127.0.0.1:${proxy.port}`);
      if (await waitForRedis(client, 3000)) await closeTestClients([client], prefix);
      else client.disconnect();
      await proxy.stop();
      await hook?.close();
      await mock.close();
      const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    });

    it(`(a) locks an IP out on all three replicas after ${MAX_FAILURES} failures in total, with one lockout alert`, async () => {
      const from = '127.0.0.2';
      for (let i = 0; i < MAX_FAILURES - 1; i++)
        expect((await call(replicas[i % 3]!, from, wrongKey())).status).toBe(401);
      // One short of the limit (at most 2 on any replica): still admitted, and a success does not reset the count.
      expect((await call(replicas[2]!, from, key)).status, logs()).toBe(200);
      expect((await call(replicas[(MAX_FAILURES - 1) % 3]!, from, wrongKey())).status).toBe(401);
      for (const r of replicas)
        expect(await call(r, from, key)).toEqual({ status: 429, code: 'TG_ERR_AUTH_LOCKED_OUT' });
      // Another address is not affected.
      expect((await call(replicas[0]!, '127.0.0.9', key)).status).toBe(200);
      await until('the lockout alert', () => alertsOf('auth.lockout').length > 0);
      await sleep(1000);
      const lockouts = alertsOf('auth.lockout', 'new').filter(
        (a) => a.subject.kind === 'ip' && a.subject.value === from,
      );
      expect(lockouts).toHaveLength(1);
    }, 60_000);

    it('(b) raises exactly one alert for an authentication-failure burst spread over the replicas', async () => {
      const from = '127.0.0.3';
      // 5 failures (the detector threshold), 2 + 2 + 1 over the replicas, all at once; then, once
      // every replica has flushed, one more on each: now every replica sees the incident.
      const results = await Promise.all([0, 1, 2, 0, 1].map((i) => call(replicas[i]!, from, wrongKey())));
      await sleep(600);
      results.push(...(await Promise.all([0, 1, 2].map((i) => call(replicas[i]!, from, wrongKey())))));
      expect(results.every((r) => r.status === 401)).toBe(true);
      const mine = (change?: AlertChange): Alert[] =>
        alertsOf('auth.repeated-failures', change).filter((a) => a.subject.value === from);
      await until('the burst alert', () => mine().length > 0);
      // Flushes run every 200 ms and a claim answers within milliseconds: give the other replicas time to raise a second one.
      await sleep(2000);
      expect(mine('new'), logs()).toHaveLength(1);
      expect(new Set(mine().map((a) => a.id)).size).toBe(1);
      // The other replicas joined that alert: the stored alert is that one id (the store is shared).
      const stored = (await storedAlerts(replicas[0]!, 'auth.repeated-failures')).filter(
        (a) => a.subject.value === from,
      );
      expect(stored.map((a) => a.id)).toEqual([mine('new')[0]!.id]);
      // Failures (threshold 5) or distinct keys (threshold 4): both are counted over the three replicas.
      const figures = mine('new')[0]!.evidence.figures;
      expect(figures.observed).toBeGreaterThanOrEqual(figures.threshold);
      expect(['failures', 'distinct_keys']).toContain(figures.unit);
    }, 60_000);

    it('(c) fail-open: Redis cut mid-run keeps serving and alerts on each replica; when it is back the alert closes and sharing resumes', async () => {
      const from = '127.0.0.4';
      const before = mock.requests.length;
      await proxy.stop();
      for (const r of replicas) expect(await call(r, from, key), logs()).toEqual({ status: 200, code: null });
      expect(mock.requests.length).toBe(before + 3);
      await until(
        'a state.unavailable alert per replica',
        () => alertsOf('state.unavailable', 'new').length >= 3,
      );
      expect(new Set(alertsOf('state.unavailable', 'new').map((a) => a.subject.value))).toEqual(
        new Set(['shared-1', 'shared-2', 'shared-3']),
      );
      expect(alertsOf('state.unavailable', 'new').every((a) => a.severity === 'HIGH')).toBe(true);
      for (const r of replicas) expect(r.child.exitCode).toBeNull();

      await proxy.start();
      // Sinks are told when an outage starts; its end updates the stored alert (and the log) and is sent as resolved.
      const closedOn = async (r: ReplicaProcess, instance: string): Promise<boolean> =>
        (await storedAlerts(r, 'state.unavailable')).some(
          (a) => a.subject.value === instance && a.description.includes('Sharing has resumed'),
        );
      await until(
        'the outage alerts to close',
        async () =>
          (await Promise.all(replicas.map((r, i) => closedOn(r, `shared-${i + 1}`)))).every(Boolean),
        20_000,
      );
      expect(logs()).toContain('shared state (Redis) reachable again');
      await until(
        'a resolved delivery per replica',
        () => alertsOf('state.unavailable', 'resolved').length >= 3,
      );
      expect(new Set(alertsOf('state.unavailable', 'resolved').map((a) => a.id))).toEqual(
        new Set(alertsOf('state.unavailable', 'new').map((a) => a.id)),
      );
      // Shared again: failures spread over the replicas lock the address out everywhere.
      const again = '127.0.0.5';
      for (let i = 0; i < MAX_FAILURES; i++)
        expect((await call(replicas[i % 3]!, again, wrongKey())).status).toBe(401);
      for (const r of replicas) expect((await call(r, again, key)).code).toBe('TG_ERR_AUTH_LOCKED_OUT');
    }, 90_000);

    it('(c) fail-closed: Redis cut refuses with 503 TG_ERR_STATE_UNAVAILABLE, calls no provider, does not crash, and serves again when Redis is back', async () => {
      const closed = await startReplica(env('closed-1', 'fail-closed'), 60_000, ['--config', configFile]);
      replicas.push(closed);
      const from = '127.0.0.6';
      expect((await call(closed, from, key)).status, logs()).toBe(200);
      const before = mock.requests.length;
      await proxy.stop();
      for (let i = 0; i < 5; i++)
        expect(await call(closed, from, key)).toEqual({ status: 503, code: 'TG_ERR_STATE_UNAVAILABLE' });
      expect(mock.requests.length).toBe(before);
      await until('the CRITICAL outage alert', () =>
        alertsOf('state.unavailable', 'new').some((a) => a.subject.value === 'closed-1'),
      );
      expect(alertsOf('state.unavailable', 'new').find((a) => a.subject.value === 'closed-1')!.severity).toBe(
        'CRITICAL',
      );
      expect(closed.child.exitCode).toBeNull();
      await proxy.start();
      await until(
        'the replica to serve again',
        async () => (await call(closed, from, key)).status === 200,
        20_000,
      );
      expect(mock.requests.length).toBeGreaterThan(before);
    }, 120_000);
  },
);
