/**
 * Shared state names no person and no key in clear: two gateways (replicas with their own data
 * folders and the same `fingerprint.key`, as docs/deployment.md requires) share one Redis. After
 * authentication failures from one address, a limited and budgeted key's traffic from another,
 * and a detector-window flush, a `SCAN` of the prefix finds no key name and no stored value that
 * contains either client IP, a key fingerprint (`api_key_id`), a virtual key id or a raw key;
 * and the lockout still counts across both gateways (the replicas compute the same names).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/access/virtual-keys.js';
import { keyFingerprint } from '../../src/access/key-fingerprint.js';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/clock.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createRedisClient, waitForRedis } from '../../src/state/redis-connection.js';
import { closeTestClients } from '../../src/state/redis-test-kit.js';
import type { Redis } from 'ioredis';
import { redisService, uniqueName } from '../support/services.js';
import { until } from '../support/until.js';

const redis = await redisService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';
const MAX_FAILURES = 4;
const ATTACKER_IP = '127.0.0.7';
const CLIENT_IP = '127.0.0.8';

/** Every key under the prefix with what it holds, as text (names, members, fields and values). */
async function dump(client: Redis, prefix: string): Promise<{ keys: string[]; text: string }> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const parts: string[] = [];
  for (const key of keys) {
    const type = await client.type(key);
    if (type === 'string') parts.push(String(await client.get(key)));
    else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
    else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, 0, -1)));
    else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
    else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
  }
  return { keys, text: parts.join('\n') };
}

describe.skipIf(!redis.available)('Redis key names carry keyed hashes, never an IP or a fingerprint', () => {
  const prefix = `${uniqueName('tgnames')}:`;
  const root = mkdtempSync(join(tmpdir(), 'tollgate-key-names-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  const agents = new Map<string, Agent>();
  const gateways: RunningTollgate[] = [];
  let inspector: Redis;

  const start = async (name: string, upstream: string): Promise<RunningTollgate> => {
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(root, name, 'tollgate.db'),
        data_dir: join(root, name),
        port: 0,
        upstream_url: upstream,
        instance_id: name,
        mode: 'managed',
        'managed.provider_key': PROVIDER_KEY,
        redis_url: `${redis.url}/?prefix=${encodeURIComponent(prefix)}`,
        'lockout.max_failures': MAX_FAILURES,
      },
    });
    const tg = await startTollgate({ config, log: createLogger('silent') });
    gateways.push(tg);
    return tg;
  };

  async function call(
    tg: RunningTollgate,
    from: string,
    bearer: string,
  ): Promise<{ status: number; code: string | null }> {
    let agent = agents.get(from);
    if (!agent) agents.set(from, (agent = new Agent({ localAddress: from })));
    const res = await request(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
    });
    const body = (await res.body.json()) as { error?: { code?: string } };
    return { status: res.statusCode, code: body.error?.code ?? null };
  }

  beforeAll(async () => {
    const upstream = await mock.listen();
    await start('names-a', upstream);
    // The second replica gets the first one's fingerprint secret, as the deployment guide says.
    mkdirSync(join(root, 'names-b'), { recursive: true, mode: 0o700 });
    copyFileSync(join(root, 'names-a', 'fingerprint.key'), join(root, 'names-b', 'fingerprint.key'));
    await start('names-b', upstream);
    inspector = createRedisClient(redis.url, { commandTimeoutMs: 5000 });
    expect(await waitForRedis(inspector, 5000)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    for (const tg of gateways) await tg.close();
    for (const a of agents.values()) await a.close();
    if (inspector) await closeTestClients([inspector], prefix);
    await mock.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('locks the address out on both gateways, and no Redis key or value holds an IP, a fingerprint or a key id', async () => {
    const [a, b] = gateways as [RunningTollgate, RunningTollgate];
    // Failures from one address spread over both gateways: not locked before the last one (401), locked after it on both.
    const wrongKeys = Array.from(
      { length: MAX_FAILURES },
      () => `tg-WRONG${randomBytes(20).toString('hex')}`,
    );
    for (let i = 0; i < MAX_FAILURES - 1; i++)
      expect((await call(i % 2 ? b : a, ATTACKER_IP, wrongKeys[i]!)).status).toBe(401);
    expect((await call(b, ATTACKER_IP, wrongKeys[MAX_FAILURES - 1]!)).status).toBe(401);
    for (const tg of gateways)
      expect(await call(tg, ATTACKER_IP, wrongKeys[0]!)).toEqual({
        status: 429,
        code: 'TG_ERR_AUTH_LOCKED_OUT',
      });

    // A rate-limited, budgeted key used from another address (limiter and budget keys), not locked out.
    const created = await createKey(a.keys, systemClock, {
      name: 'names',
      rpm: 100,
      tpm: 100_000,
      budgetMicroUsd: 5_000_000,
      budgetPeriod: 'day',
    });
    expect(await call(a, CLIENT_IP, created.key)).toEqual({ status: 200, code: null });
    // Detector windows flush to Redis every 200 ms: wait for theirs.
    await until('a detector window in Redis', async () =>
      (await dump(inspector, prefix)).keys.some((k) => k.slice(prefix.length).startsWith('dw')),
    );

    const secret = Buffer.from(readFileSync(join(root, 'names-a', 'fingerprint.key'), 'utf8').trim(), 'hex');
    const fingerprints = [...wrongKeys, created.key].map((k) => keyFingerprint(secret, k));
    // The events of both gateways carry these fingerprints: the check below looks for real values.
    await Promise.all(gateways.map((g) => g.pipeline.writer.drain()));
    const stored = (await Promise.all(gateways.map((g) => g.store.query({ limit: 100 })))).flat();
    expect(stored.map((e) => e.api_key_id)).toEqual(expect.arrayContaining(fingerprints));

    const { keys, text } = await dump(inspector, prefix);
    const families = new Set(keys.map((k) => k.slice(prefix.length).split(':')[0]));
    // Lockouts, rate limits, budgets and detector windows all wrote: the scan covers each kind.
    for (const f of ['lk', 'rl', 'bg', 'dw']) expect(families, keys.join('\n')).toContain(f);
    const forbidden = [ATTACKER_IP, CLIENT_IP, ...fingerprints, created.record.id, created.key, ...wrongKeys];
    for (const value of forbidden) {
      for (const k of keys) expect(k).not.toContain(value);
      expect(text).not.toContain(value);
    }
  }, 60_000);
});
