import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createKey, type CreateKeyInput } from '../../src/access/virtual-keys.js';
import { SqliteKeyStore } from '../../src/store/sqlite/sqlite-keys.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { until } from '../support/until.js';

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';

interface Setup {
  tg: RunningTollgate;
  mock: MockProvider;
  dir: string;
  newKey(input?: Partial<CreateKeyInput>): Promise<{ key: string; id: string }>;
  call(
    key: string | null,
    body?: Record<string, unknown>,
  ): Promise<{ status: number; code: string | null; retryAfter: string | null; eventId: string }>;
  close(): Promise<void>;
}

async function setup(overrides: Record<string, unknown> = {}, clock?: Clock): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-managed-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  const upstream = await mock.listen();
  const db = join(dir, 'tollgate.db');
  const config = loadConfig({
    file: null,
    overrides: {
      db,
      port: 0,
      upstream_url: upstream,
      instance_id: 'managed',
      mode: 'managed',
      'managed.provider_key': PROVIDER_KEY,
      ...overrides,
    },
  });
  const tg = await startTollgate({ config, log: createLogger('silent'), ...(clock ? { clock } : {}) });
  // Keys are created the way `tollgate keys create` does: another connection to the same file.
  const adminDb = openSqlite(db);
  const keys = new SqliteKeyStore(adminDb);
  return {
    tg,
    mock,
    dir,
    async newKey(input = {}) {
      const created = await createKey(
        keys,
        clock ?? { now: () => Date.now(), monotonic: () => performance.now() },
        { name: 'test', ...input },
      );
      return { key: created.key, id: created.record.id };
    },
    async call(key, body = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }) {
      const res = await request(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });
      const text = await res.body.text();
      let code: string | null = null;
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
      } catch {
        code = null;
      }
      return {
        status: res.statusCode,
        code,
        retryAfter: (res.headers['retry-after'] as string | undefined) ?? null,
        eventId: String(res.headers['x-tollgate-event-id']),
      };
    },
    async close() {
      adminDb.close();
      await tg.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function eventOf(s: Setup, id: string) {
  await s.tg.writer.drain();
  const e = await s.tg.store.get(id);
  expect(e).not.toBeNull();
  return e!;
}

describe('managed mode: gateway-issued keys, limits, budgets, lockout', () => {
  let s: Setup;
  afterEach(async () => s?.close());

  it('records each authentication outcome and never calls the provider for a refused one', async () => {
    s = await setup();
    const missing = await s.call(null);
    expect(missing.status).toBe(401);
    expect((await eventOf(s, missing.eventId)).auth_result).toBe('MISSING');

    const unknown = await s.call('tg-UNKNOWNkey0000000000000000000000000000000000');
    expect(unknown.status).toBe(401);
    const eu = await eventOf(s, unknown.eventId);
    expect(eu).toMatchObject({
      status: 'AUTH_FAILED',
      auth_result: 'FAILED',
      api_key_prefix: 'tg-UNKNO',
      ip_address: '127.0.0.1',
    });
    expect(eu.api_key_id).toMatch(/^[0-9a-f]{16}$/);

    const { key, id } = await s.newKey({ allowedModels: ['gpt-4.1'] });
    const ok = await s.call(key);
    expect(ok.status).toBe(200);
    const eo = await eventOf(s, ok.eventId);
    expect(eo).toMatchObject({
      status: 'SUCCESS',
      auth_result: 'SUCCESS',
      virtual_key_id: id,
      api_key_prefix: key.slice(0, 8),
    });
    // The provider saw Tollgate's key, never the application's.
    expect(s.mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);

    const notAllowed = await s.call(key, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.code).toBe('TG_ERR_POLICY_MODEL_NOT_ALLOWED');
    expect((await eventOf(s, notAllowed.eventId)).status).toBe('BLOCKED');
    expect(s.mock.requests).toHaveLength(1);
  });

  it('revocation takes effect at the next request, and expiry is enforced', async () => {
    s = await setup();
    const { key, id } = await s.newKey();
    expect((await s.call(key)).status).toBe(200);
    const adminDb = openSqlite(join(s.dir, 'tollgate.db'));
    await new SqliteKeyStore(adminDb).revoke(id, Date.now());
    adminDb.close();
    const revoked = await s.call(key);
    expect(revoked.status).toBe(401);
    expect((await eventOf(s, revoked.eventId)).auth_result).toBe('REVOKED');

    const expiresAt = Date.now() + 150;
    const expiring = await s.newKey({ expiresAt });
    expect((await s.call(expiring.key)).status).toBe(200);
    await until('the key expiry time', () => Date.now() > expiresAt, 5_000, 10);
    const expired = await s.call(expiring.key);
    expect(expired.status).toBe(401);
    expect((await eventOf(s, expired.eventId)).auth_result).toBe('EXPIRED');
  });

  it('admits exactly M of N concurrent requests against an rpm limit of M, one event each', async () => {
    s = await setup();
    const M = 7;
    const { key } = await s.newKey({ rpm: M });
    const results = await Promise.all(Array.from({ length: 30 }, () => s.call(key)));
    const admitted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(admitted).toHaveLength(M);
    expect(refused).toHaveLength(30 - M);
    expect(refused.every((r) => r.code === 'TG_ERR_POLICY_RATE_LIMIT' && Number(r.retryAfter) >= 1)).toBe(
      true,
    );
    expect(s.mock.requests).toHaveLength(M);
    await s.tg.writer.drain();
    const events = await s.tg.store.query({ order: 'asc' });
    expect(events).toHaveLength(30);
    expect(new Set(events.map((e) => e.id)).size).toBe(30);
    expect(events.filter((e) => e.status === 'BLOCKED')).toHaveLength(30 - M);
  });

  it('refuses past the budget with BLOCKED and Retry-After to the end of the period', async () => {
    s = await setup();
    // gpt-4.1 at $8 per M output tokens; the mock answers ~8 tokens → ~70 µ$ per call; budget 200 µ$.
    const { key } = await s.newKey({ budgetMicroUsd: 200, budgetPeriod: 'day' });
    const outcomes: number[] = [];
    for (let i = 0; i < 10; i++)
      outcomes.push(
        (await s.call(key, { model: 'gpt-4.1', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }))
          .status,
      );
    expect(outcomes.slice(0, 2)).toEqual([200, 200]);
    expect(outcomes.at(-1)).toBe(429);
    const last = await s.call(key);
    expect(last.code).toBe('TG_ERR_POLICY_BUDGET_EXCEEDED');
    expect(Number(last.retryAfter)).toBeGreaterThan(0);
    expect((await eventOf(s, last.eventId)).status).toBe('BLOCKED');
  });

  it('locks out an IP after repeated failures, alerts once, and lets it back after the cool-off', async () => {
    const clock = new ManualClock(Date.now());
    s = await setup({ 'lockout.max_failures': 3, 'lockout.cool_off_ms': 60_000 }, clock);
    const { key } = await s.newKey();
    for (let i = 0; i < 3; i++)
      expect((await s.call(`tg-WRONG${i}000000000000000000000000000000000000000`)).status).toBe(401);
    const locked = await s.call(key);
    expect(locked.status).toBe(429);
    expect(locked.code).toBe('TG_ERR_AUTH_LOCKED_OUT');
    expect(Number(locked.retryAfter)).toBe(60);
    const e = await eventOf(s, locked.eventId);
    expect(e.status).toBe('AUTH_FAILED');
    expect(e.auth_result).toBe('FAILED');
    expect(e.error_code).toBe('TG_ERR_AUTH_LOCKED_OUT');
    await s.tg.dispatcher.drain();
    const alerts = await s.tg.alerts.list({ ruleId: 'auth.lockout' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toEqual({ kind: 'ip', value: '127.0.0.1' });
    clock.advance(61_000);
    expect((await s.call(key)).status).toBe(200);
  });
});
