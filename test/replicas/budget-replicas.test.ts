/**
 * Budgets across three `tollgate serve` replicas sharing PostgreSQL (keys, events) and Redis
 * (budget counters): 200 concurrent requests, spread over the replicas, against a key's $0.01 daily
 * budget and a team's $0.01 monthly budget from config. Spend (the sum of the stored events' cost)
 * stays within each budget (the stated overshoot is 0 here: the mock never bills past the worst
 * case, docs/access-control.md), and every refusal is a stored BLOCKED event.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createRedisClient, waitForRedis } from '../../src/state/redis-connection.js';
import { closeTestClients } from '../../src/state/redis-test-kit.js';
import { postgresService, redisService, uniqueName } from '../support/services.js';
import { startReplica, type ReplicaProcess } from './replica-process.js';

const pgService = await postgresService();
const redis = await redisService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';
const ADMIN_TOKEN = `tg-admin-${randomBytes(24).toString('hex')}`;
const BUDGET_MICRO_USD = 10_000;

describe.skipIf(!pgService.available || !redis.available)('budgets shared by three replicas', () => {
  const schema = uniqueName('tg_budget');
  const prefix = `${uniqueName('tgbud')}:`;
  const dbUrl = (() => {
    const u = new URL(pgService.url);
    u.searchParams.set('schema', schema);
    return u.toString();
  })();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-budget-replicas-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY], record: false });
  const replicas: ReplicaProcess[] = [];
  const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });

  async function newKey(body: Record<string, unknown>): Promise<string> {
    const res = await request(`${replicas[0]!.url}/admin/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'budget-replicas', ...body }),
    });
    expect(res.statusCode).toBe(201);
    return ((await res.body.json()) as { key: string }).key;
  }

  /** `n` concurrent chat calls with `key`, round-robin over the replicas; the refusals' errors. */
  async function fire(keys: string[], n: number): Promise<APIError[]> {
    const clients = replicas.flatMap((r) =>
      keys.map((k) => new OpenAI({ apiKey: k, baseURL: `${r.url}/v1`, maxRetries: 0 })),
    );
    const out = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        try {
          await clients[i % clients.length]!.chat.completions.create({
            model: 'gpt-4.1',
            max_tokens: 100,
            messages: [{ role: 'user', content: `question ${i}` }],
          });
          return null;
        } catch (err) {
          if (err instanceof APIError) return err;
          throw err;
        }
      }),
    );
    return out.filter((e): e is APIError => e !== null);
  }

  beforeAll(async () => {
    const upstream = await mock.listen();
    const configFile = join(dir, 'tollgate.config.yaml');
    writeFileSync(
      configFile,
      'budgets:\n  - scope: team\n    subject: payments\n    period: month\n    limit_usd: 0.01\n    enforce: true\n',
    );
    const env = (instance: string): Record<string, string> => ({
      TOLLGATE_DB: dbUrl,
      TOLLGATE_REDIS_URL: `${redis.url}/?prefix=${encodeURIComponent(prefix)}`,
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_INSTANCE_ID: instance,
      TOLLGATE_MODE: 'managed',
      TOLLGATE_PROVIDER_KEY: PROVIDER_KEY,
      TOLLGATE_UPSTREAM_URL: upstream,
      TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    const args = ['--config', configFile];
    replicas.push(await startReplica(env('budget-1'), 60_000, args));
    replicas.push(
      ...(await Promise.all([
        startReplica(env('budget-2'), 60_000, args),
        startReplica(env('budget-3'), 60_000, args),
      ])),
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await mock.close();
    const client = createRedisClient(redis.url);
    if (await waitForRedis(client, 3000)) await closeTestClients([client], prefix);
    else client.disconnect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('200 concurrent requests against a key budget and a team budget of $0.01 each: spend <= budget, every refusal an event', async () => {
    const keyBudget = await newKey({ budget_usd: 0.01, period: 'day' });
    const teamKeys = [await newKey({ team: 'payments' }), await newKey({ team: 'payments' })];
    const [keyRefusals, teamRefusals] = await Promise.all([fire([keyBudget], 200), fire(teamKeys, 200)]);
    expect(keyRefusals.length).toBeGreaterThan(0);
    expect(teamRefusals.length).toBeGreaterThan(0);
    for (const e of [...keyRefusals, ...teamRefusals]) {
      expect(e.status, `${e.code}: ${e.message}`).toBe(429);
      expect(e.code).toBe('TG_ERR_POLICY_BUDGET_EXCEEDED');
    }
    expect(teamRefusals.every((e) => e.message.includes('budget: team payments (monthly)'))).toBe(true);
    // Every replica drains its writer on SIGTERM: then the store holds every event.
    await Promise.all(replicas.splice(0).map((r) => r.stop()));
    const rows = await admin.query<{ team: string | null; status: string; cost: string; n: string }>(
      `SELECT team, status, COALESCE(SUM(cost_micro_usd), 0) AS cost, COUNT(*) AS n
         FROM "${schema}".events WHERE endpoint = '/chat/completions' GROUP BY team, status`,
    );
    const of = (team: string | null, status: string) =>
      rows.rows.find((r) => r.team === team && r.status === status) ?? { cost: '0', n: '0' };
    for (const [team, refusals] of [
      [null, keyRefusals],
      ['payments', teamRefusals],
    ] as const) {
      const spent = Number(of(team, 'SUCCESS').cost);
      // The figures docs/access-control.md records (one run).
      console.log(
        `[budget-replicas] ${team === null ? 'key' : 'team'} budget ${BUDGET_MICRO_USD} µUSD, 200 concurrent over 3 replicas: admitted ${of(team, 'SUCCESS').n}, refused ${refusals.length}, spent ${spent} µUSD`,
      );
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThanOrEqual(BUDGET_MICRO_USD);
      expect(Number(of(team, 'BLOCKED').n)).toBe(refusals.length);
      expect(Number(of(team, 'SUCCESS').n) + Number(of(team, 'BLOCKED').n)).toBe(200);
    }
  }, 120_000);
});
