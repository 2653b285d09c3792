import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();
const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';

/** The admin API of a managed-mode gateway on PostgreSQL: keys, cost and security views from the shared tables. */
describe.skipIf(!service.available)('admin API on PostgreSQL', () => {
  const schema = uniqueName('tg_admin');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-admin-pg-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  let tg: RunningTollgate;

  beforeAll(async () => {
    const upstream = await mock.listen();
    const config = loadConfig({
      file: null,
      env: { TOLLGATE_PROVIDER_KEY: PROVIDER_KEY },
      overrides: {
        db: `${service.url}?schema=${schema}`,
        data_dir: dir,
        port: 0,
        upstream_url: upstream,
        instance_id: 'admin-pg',
        mode: 'managed',
      },
    });
    tg = await startTollgate({ config, log: createLogger('silent') });
  }, 30_000);
  afterAll(async () => {
    await tg?.close();
    await mock.close();
    const admin = new pg.Pool({ connectionString: service.url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = async (
    path: string,
    method: 'GET' | 'POST' = 'GET',
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await request(`${tg.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tg.admin.token.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : null,
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  };
  const chat = async (key: string): Promise<number> => {
    const res = await request(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
    });
    await res.body.dump();
    return res.statusCode;
  };

  it('creates a key in PostgreSQL, serves it, reports its cost, and refuses it at once after its own revoke', async () => {
    const created = await admin('/admin/keys', 'POST', { name: 'pg-admin', budget_usd: 5 });
    expect(created.status).toBe(201);
    const { key, id } = created.json as { key: string; id: string };
    // No local SQLite file behind the tables.
    expect(readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.db'))).toEqual([]);
    expect(await chat(key)).toBe(200);
    expect(await chat(key)).toBe(200);
    await tg.writer.drain();

    const cost = await admin('/admin/reports/cost?by=key&since=1h');
    expect(cost.status).toBe(200);
    const report = cost.json.report as { rows: { key: string; requests: number }[] };
    // The rollups agree with the stored requests of the key (the admin event naming it is stored, not rolled up).
    const stored = await tg.store.query({ key: id });
    const requests = stored.filter((e) => !(e.endpoint ?? '').startsWith('admin:'));
    expect(requests.map((e) => e.status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(stored.length).toBe(3);
    expect(report.rows.find((r) => r.key === id)?.requests).toBe(requests.length);
    const budgets = cost.json.budgets as { key_id: string; spent_micro_usd: number }[];
    expect(budgets.find((b) => b.key_id === id)?.spent_micro_usd).toBeGreaterThan(0);
    expect((await admin('/admin/reports/security?since=1h')).status).toBe(200);
    expect(((await admin('/admin/keys')).json.keys as { id: string }[]).map((k) => k.id)).toEqual([id]);

    expect((await admin(`/admin/keys/${id}/revoke`, 'POST')).status).toBe(200);
    expect(await chat(key)).toBe(401);
  });
});
