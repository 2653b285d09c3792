import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { sampleAlert } from '../../src/alerting/alert-store.contract.js';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { PostgresAlertStore } from '../../src/store/postgres/postgres-alerts.js';
import { cli } from '../support/run-cli.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();

/** Every command family of the CLI against a PostgreSQL store filled by a gateway (encrypted content). */
describe.skipIf(!service.available)('tollgate CLI on PostgreSQL (--db postgres://… and TOLLGATE_DB)', () => {
  const schema = uniqueName('tg_cli');
  const db = `${service.url}?schema=${schema}`;
  const admin = new pg.Pool({ connectionString: service.url, max: 2 });
  let dir: string;
  let mock: MockProvider;
  let env: Record<string, string>;
  let sumCost = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-pg-'));
    env = { TOLLGATE_DATA_DIR: dir };
    mock = new MockProvider();
    const upstream = await mock.listen();
    const config = loadConfig({
      file: null,
      overrides: {
        db,
        data_dir: dir,
        port: 0,
        upstream_url: upstream,
        instance_id: 'cli-pg',
        'content.mode': 'encrypted',
        'content.master_key': randomBytes(32).toString('base64'),
      },
    });
    const tg = await startTollgate({ config, log: createLogger('silent') });
    for (const user of ['alice', 'bob', 'alice']) {
      const res = await request(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-test-abcdefghijklmnopqrstuvwxyz012345',
          'x-tollgate-user': user,
        },
        body: JSON.stringify({
          model: 'gpt-4.1',
          messages: [{ role: 'user', content: `hello from ${user}` }],
        }),
      });
      await res.body.dump();
    }
    await tg.close();
    sumCost = Number(
      (await admin.query(`SELECT SUM(cost_micro_usd) AS s FROM "${schema}".events`)).rows[0].s,
    );
  });
  afterAll(async () => {
    await mock?.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('events reads the shared store, by --db and by TOLLGATE_DB; content is stored encrypted', async () => {
    const byFlag = await cli(['events', '--db', db, '--json'], env);
    expect(byFlag.code).toBe(0);
    const events = byFlag.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { prompt: string });
    expect(events).toHaveLength(3);
    for (const e of events) expect(e.prompt).toMatch(/^enc:v1:/);
    const byEnv = await cli(['events', '--json'], { ...env, TOLLGATE_DB: db });
    expect(byEnv.out).toBe(byFlag.out);
  });

  it('report cost reads the PostgreSQL rollups: totals equal the events to the micro-dollar', async () => {
    const r = await cli(['report', 'cost', '--db', db, '--by', 'user', '--since', '1h', '--json'], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.totals.requests).toBe(3);
    expect(report.totals.cost_micro_usd).toBe(sumCost);
    expect(report.rows.map((row: { key: string }) => row.key).sort()).toEqual(['alice', 'bob']);
  });

  it('report security runs on PostgreSQL', async () => {
    const r = await cli(['report', 'security', '--db', db, '--since', '1h', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toHaveProperty('auth_failures');
  });

  it('prices check reads the models seen in the shared store', async () => {
    const r = await cli(['prices', 'check', '--db', db, '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).unpriced).toEqual([]);
  });

  it('keys create, list and revoke work on the shared store, and revoke is recorded', async () => {
    const created = await cli(
      ['keys', 'create', '--db', db, '--name', 'pg bot', '--rpm', '10', '--json'],
      env,
    );
    expect(created.code).toBe(0);
    const { key, id } = JSON.parse(created.out);
    const listed = await cli(['keys', 'list', '--db', db, '--json'], env);
    expect(listed.out).not.toContain(key);
    expect(JSON.parse(listed.out.trim())).toMatchObject({ id, status: 'active', rpm: 10 });
    expect((await cli(['keys', 'revoke', id, '--db', db], env)).code).toBe(0);
    expect(JSON.parse((await cli(['keys', 'list', '--db', db, '--json'], env)).out.trim()).status).toBe(
      'revoked',
    );
    expect((await cli(['keys', 'revoke', 'vk_nope', '--db', db], env)).code).toBe(2); // a usage error
    const adminEvents = (await cli(['events', '--db', db, '--json', '--feature', 'admin'], env)).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { endpoint: string });
    expect(adminEvents.map((e) => e.endpoint)).toEqual(
      expect.arrayContaining(['admin:keys.create', 'admin:keys.revoke']),
    );
  });

  it('alerts lists alerts any replica stored, and alerts ack acknowledges one', async () => {
    const store = new PostgresAlertStore(admin, schema);
    const alert = sampleAlert({
      first_seen: new Date(Date.now() - 60_000).toISOString(),
      last_seen: new Date().toISOString(),
    });
    await store.upsert(alert);
    const listed = await cli(['alerts', '--db', db, '--json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out.trim())).toMatchObject({
      id: alert.id,
      rule_id: alert.rule_id,
      status: 'open',
    });
    const acked = await cli(['alerts', 'ack', alert.id, '--by', 'oncall', '--db', db], env);
    expect(acked.code).toBe(0);
    expect(await store.get(alert.id)).toMatchObject({ status: 'acknowledged', acknowledged_by: 'oncall' });
    expect((await cli(['alerts', 'ack', 'no-such-alert', '--db', db], env)).code).toBe(2);
  });

  it('erase destroys the person’s data key in PostgreSQL, and verify still passes every chain', async () => {
    const erased = await cli(['erase', '--db', db, '--user', 'alice', '--json'], env);
    expect(erased.code).toBe(0);
    expect(JSON.parse(erased.out).keysDestroyed).toBe(1);
    // PostgreSQL keeps the old row version until VACUUM: the command says so (docs/privacy.md).
    expect(JSON.parse(erased.out).remains).toMatch(/until VACUUM/);
    const again = await cli(['erase', '--db', db, '--user', 'alice', '--json'], env);
    expect(JSON.parse(again.out).keysDestroyed).toBe(0);
    expect(JSON.parse(again.out).remains).toBeUndefined();
    const live = await admin.query(
      `SELECT subject FROM "${schema}".data_keys WHERE wrapped_key IS NOT NULL ORDER BY subject`,
    );
    expect(live.rows.map((r: { subject: string }) => r.subject)).toEqual(['user:bob']);
    const verified = await cli(['verify', '--db', db, '--json'], env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out).ok).toBe(true);
  });

  it('leaves no local database file: everything went to PostgreSQL', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.db'))).toEqual([]);
  });
});
