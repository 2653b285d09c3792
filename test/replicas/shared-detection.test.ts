/**
 * The rules that used to decide per replica, on three `tollgate serve` processes sharing
 * PostgreSQL and Redis (behind a TCP proxy the test cuts), behind a round-robin "load balancer":
 * - errors.rate, session.context-growth, cost.budget and key.new-network each flag, exactly once,
 *   a pattern spread over the replicas that no replica sees enough of on its own;
 * - key.new-network does not flag a network another replica learned during the key's warm-up;
 * - with Redis cut, each replica still flags what it sees itself (fail-open).
 * Alerts are collected from the replicas' webhook sinks; clients use loopback addresses
 * (127.0.x.y) so each case has its own client IP and network.
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
/**
 * gpt-4.1 costs 50 µ$ per mock call ("hello": 1 input token at $2/M, 6 output tokens at $8/M).
 * 250 µ$ a day per user: two calls on each replica (100 µ$) stay under the 80 % warning on every
 * replica; six calls in all exhaust it.
 */
const CONFIG = `budgets:
  - { scope: user, subject: "*", period: day, limit_usd: 0.00025, enforce: false }
detection:
  errors.rate: { minRequests: 6, minFailures: 3 }
  session.context-growth: { minConsecutive: 5, minInputTokens: 150, minGrowthFactor: 2 }
  key.new-network: { warmupMs: 0, warmupEvents: 3 }
`;

/** More than a flush (200 ms): the pace of a sequential client whose calls take a while each. */
const PACE_MS = 300;

describe.skipIf(!pgService.available || !redis.available)(
  'per-replica rules decided over three replicas sharing Redis',
  () => {
    const schema = uniqueName('tg_shdet');
    const prefix = `${uniqueName('tgdet')}:`;
    const dbUrl = (() => {
      const u = new URL(pgService.url);
      u.searchParams.set('schema', schema);
      return u.toString();
    })();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-shdet-'));
    const configFile = join(dir, 'tollgate.config.yaml');
    const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
    const target = new URL(redis.url);
    const proxy = new CuttableProxy(target.hostname, Number(target.port || 6379));
    const replicas: ReplicaProcess[] = [];
    const agents = new Map<string, Agent>();
    let hook: Awaited<ReturnType<typeof webhookReceiver>>;
    let key = '';
    let upstream = '';

    const env = (instance: string): Record<string, string> => ({
      TOLLGATE_DB: dbUrl,
      TOLLGATE_REDIS_URL: `redis://127.0.0.1:${proxy.port}/?prefix=${encodeURIComponent(prefix)}`,
      TOLLGATE_REDIS_FAILURE_POLICY: 'fail-open',
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_INSTANCE_ID: instance,
      TOLLGATE_MODE: 'managed',
      TOLLGATE_PROVIDER_KEY: PROVIDER_KEY,
      TOLLGATE_UPSTREAM_URL: upstream,
      TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      TOLLGATE_ALERT_WEBHOOK_URL: hook.url,
      TOLLGATE_ALERT_WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
    });

    interface Call {
      from?: string;
      bearer?: string;
      model?: string;
      user?: string;
      session?: string;
      /** Words in the prompt (= the mock's input tokens). */
      words?: number;
    }
    async function call(replica: ReplicaProcess, c: Call = {}): Promise<number> {
      const from = c.from ?? '127.0.0.2';
      let agent = agents.get(from);
      if (!agent) agents.set(from, (agent = new Agent({ localAddress: from })));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        authorization: `Bearer ${c.bearer ?? key}`,
      };
      if (c.user) headers['x-tollgate-user'] = c.user;
      if (c.session) headers['x-tollgate-session'] = c.session;
      const content = c.words ? Array.from({ length: c.words }, (_, i) => `w${i}`).join(' ') : 'hello';
      const res = await request(`${replica.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers,
        body: JSON.stringify({ model: c.model ?? 'gpt-4.1', messages: [{ role: 'user', content }] }),
      });
      await res.body.dump();
      return res.statusCode;
    }
    async function newKey(name: string): Promise<string> {
      const res = await request(`${replicas[0]!.url}/admin/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ name }),
      });
      expect(res.statusCode).toBe(201);
      return ((await res.body.json()) as { key: string }).key;
    }
    /** Alerts of a rule whose subject value contains `value`. */
    const alertsOf = (rule: string, value: string, change?: AlertChange): Alert[] =>
      hook.got
        .filter(
          (g) =>
            g.alert.rule_id === rule &&
            g.alert.subject.value.includes(value) &&
            (change === undefined || g.change === change),
        )
        .map((g) => g.alert);
    const logs = (): string =>
      replicas
        .map((r) => r.stderr())
        .join('\n')
        .slice(-3000);
    /** Waits for the first alert, then long enough for any other replica to raise a second one. */
    async function exactlyOne(rule: string, value: string): Promise<Alert> {
      await until(`a ${rule} alert for ${value}`, () => alertsOf(rule, value).length > 0);
      await sleep(1500);
      const raised = alertsOf(rule, value, 'new');
      expect(raised, logs()).toHaveLength(1);
      expect(new Set(alertsOf(rule, value).map((a) => a.id))).toEqual(new Set([raised[0]!.id]));
      return raised[0]!;
    }

    beforeAll(async () => {
      upstream = await mock.listen();
      hook = await webhookReceiver();
      await proxy.start();
      writeFileSync(configFile, CONFIG);
      const args = ['--config', configFile];
      replicas.push(await startReplica(env('det-1'), 60_000, args));
      replicas.push(
        ...(await Promise.all([
          startReplica(env('det-2'), 60_000, args),
          startReplica(env('det-3'), 60_000, args),
        ])),
      );
      key = await newKey('shared-detection-test');
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

    it('errors.rate: one success and one failure per replica (2 requests each, 6 needed) raise one alert for the user', async () => {
      for (const r of replicas) {
        expect(await call(r, { user: 'u-errors' }), logs()).toBe(200);
        expect(await call(r, { user: 'u-errors', model: 'mock-error-500' })).toBeGreaterThanOrEqual(500);
      }
      const alert = await exactlyOne('errors.rate', 'u-errors');
      expect(alert.subject).toEqual({ kind: 'user', value: 'u-errors' });
      expect(alert.description).toContain('3 of 6 requests');
    }, 60_000);

    it('session.context-growth: a session growing over five requests, each on the next replica, raises one alert', async () => {
      const words = [60, 80, 100, 130, 160];
      for (let i = 0; i < words.length; i++) {
        expect(await call(replicas[i % 3]!, { session: 'sess-growing', words: words[i]! })).toBe(200);
        await sleep(PACE_MS);
      }
      const alert = await exactlyOne('session.context-growth', 'sess-growing');
      expect(alert.evidence.figures).toMatchObject({ observed: 160, baseline: 60 });
    }, 60_000);

    it('cost.budget: 100 µ$ per replica (under the 80 % warning on each) exhausts a 250 µ$ budget once', async () => {
      for (const r of replicas)
        for (let i = 0; i < 2; i++) expect(await call(r, { user: 'u-spender' })).toBe(200);
      // The merged spend may pass the 80 % warning first (one alert), then 100 %: the same alert, escalated.
      await until('the exhausted budget', () =>
        alertsOf('cost.budget', 'user:u-spender/day:').some((a) => a.severity === 'HIGH'),
      );
      const alert = await exactlyOne('cost.budget', 'user:u-spender/day:');
      const high = alertsOf('cost.budget', 'user:u-spender/day:').find((a) => a.severity === 'HIGH')!;
      expect(high.id).toBe(alert.id);
      expect(high.evidence.figures.observed).toBeGreaterThanOrEqual(250);
    }, 60_000);

    it('key.new-network: a warm-up spread over the replicas, then a new network, raise one alert; a network another replica learned is not new', async () => {
      const roaming = await newKey('new-network-test');
      // Warm-up (3 uses) from 127.0.0.0/24, one per replica: no replica is past it on its own.
      for (const r of replicas) {
        expect(await call(r, { bearer: roaming, from: '127.0.0.31' })).toBe(200);
        await sleep(PACE_MS);
      }
      expect(await call(replicas[0]!, { bearer: roaming, from: '127.0.0.31' })).toBe(200);
      await sleep(PACE_MS);
      // A new network, on each replica in turn: one incident.
      for (const r of [1, 2, 0]) {
        expect(await call(replicas[r]!, { bearer: roaming, from: '127.0.1.31' })).toBe(200);
        await sleep(PACE_MS);
      }
      const alert = await exactlyOne('key.new-network', '');
      expect(alert.title).toContain('127.0.1.0/24');

      // Not new: 127.0.2.0/24 was learned on replica 1 during the warm-up; replica 2 (past its own
      // warm-up, never saw that network) must not flag it.
      const known = await newKey('known-network-test');
      expect(await call(replicas[1]!, { bearer: known, from: '127.0.2.32' })).toBe(200);
      await sleep(PACE_MS);
      for (let i = 0; i < 4; i++)
        expect(await call(replicas[2]!, { bearer: known, from: '127.0.0.32' })).toBe(200);
      await sleep(PACE_MS);
      expect(await call(replicas[2]!, { bearer: known, from: '127.0.2.33' })).toBe(200);
      await sleep(1500);
      expect(
        alertsOf('key.new-network', '', 'new').filter((a) => a.id !== alert.id),
        logs(),
      ).toEqual([]);
    }, 60_000);

    it('with Redis cut, each replica still flags what it sees itself, for each rule', async () => {
      const keys = await Promise.all(replicas.map((_, i) => newKey(`cut-${i}`)));
      await proxy.stop();
      await Promise.all(
        replicas.map(async (r, i) => {
          // A flush fails first (any event), then the replica decides on its own.
          expect(await call(r, { user: `u-cut-warm-${i}` })).toBe(200);
          await sleep(PACE_MS);
          for (let j = 0; j < 3; j++) {
            expect(await call(r, { user: `u-cut-errors-${i}` })).toBe(200);
            expect(
              await call(r, { user: `u-cut-errors-${i}`, model: 'mock-error-500' }),
            ).toBeGreaterThanOrEqual(500);
          }
          for (const words of [60, 80, 100, 130, 160])
            expect(await call(r, { session: `sess-cut-${i}`, words })).toBe(200);
          for (let j = 0; j < 6; j++) expect(await call(r, { user: `u-cut-spender-${i}` })).toBe(200);
          for (let j = 0; j < 4; j++)
            expect(await call(r, { bearer: keys[i]!, from: `127.0.0.${40 + i}` })).toBe(200);
          expect(await call(r, { bearer: keys[i]!, from: `127.0.3.${40 + i}` })).toBe(200);
        }),
      );
      for (let i = 0; i < 3; i++) {
        for (const [rule, value] of [
          ['errors.rate', `u-cut-errors-${i}`],
          ['session.context-growth', `sess-cut-${i}`],
          ['cost.budget', `user:u-cut-spender-${i}/`],
        ] as const) {
          await until(`${rule} for ${value}`, () => alertsOf(rule, value, 'new').length === 1);
        }
      }
      await until(
        'a key.new-network alert per replica',
        () =>
          alertsOf('key.new-network', '', 'new').filter((a) => a.title.includes('127.0.3.0/24')).length === 3,
      );
      for (const r of replicas) expect(r.child.exitCode).toBeNull();
      await proxy.start();
    }, 90_000);

    it('keeps no IP, network, user, session or key in clear in Redis: names, fields and values are keyed hashes and numbers', async () => {
      const client = createRedisClient(`redis://127.0.0.1:${proxy.port}`);
      expect(await waitForRedis(client, 5000)).toBe(true);
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      const parts: string[] = [...keys];
      for (const k of keys) {
        const type = await client.type(k);
        if (type === 'string') parts.push(String(await client.get(k)));
        else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(k)));
        else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(k, 0, -1)));
      }
      client.disconnect();
      const text = parts.join('\n');
      // Each rule wrote its shared state: the scan covers every kind.
      for (const kind of [
        'dw:errors.user.failures:',
        'dr:session.growth:',
        'dw:cost.day:',
        'dk:key.networks:',
        'ds:errors.model.callers:',
      ])
        expect(
          keys.some((k) => k.startsWith(`${prefix}${kind}`)),
          kind,
        ).toBe(true);
      for (const clear of [
        '127.0.',
        'u-errors',
        'u-spender',
        'sess-growing',
        'mock-error-500',
        'gpt-4.1',
        key.slice(0, 12),
      ])
        expect(text.includes(clear), clear).toBe(false);
    }, 30_000);
  },
);
