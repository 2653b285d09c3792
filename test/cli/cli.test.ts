import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { cli } from '../support/run-cli.js';

describe('tollgate CLI over a store filled through the gateway (encrypted content)', () => {
  let dir: string;
  let db: string;
  let mock: MockProvider;
  let tg: RunningTollgate;
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
    db = join(dir, 'tollgate.db');
    mock = new MockProvider();
    const upstream = await mock.listen();
    const config = loadConfig({
      file: null,
      overrides: {
        db,
        port: 0,
        upstream_url: upstream,
        instance_id: 'cli-test',
        'content.mode': 'encrypted',
        'content.master_key': masterKey,
      },
    });
    tg = await startTollgate({ config, log: createLogger('silent') });
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
          messages: [{ role: 'user', content: `hello from ${user}, mail me at ${user}@example.com` }],
        }),
      });
      await res.body.dump();
    }
    await tg.close();
  });
  afterAll(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('events --json prints one event per line with content stored encrypted', async () => {
    const r = await cli(['events', '--db', db, '--json']);
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(3);
    for (const e of events) {
      expect(e.content_mode).toBe('encrypted');
      expect(e.prompt).toMatch(/^enc:v1:/);
      expect(JSON.stringify(e)).not.toContain('@example.com');
    }
  });

  it('events filters by user and refuses a bad status with exit 2', async () => {
    const r = await cli(['events', '--db', db, '--user', 'bob', '--json']);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    const bad = await cli(['events', '--db', db, '--status', 'NOPE']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/TG_ERR_USAGE/);
  });

  it('report cost --json totals equal the sum of the events to the micro-dollar', async () => {
    const events = (await cli(['events', '--db', db, '--json'])).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const sum = events.reduce(
      (s: number, e: { cost_micro_usd: number | null }) => s + (e.cost_micro_usd ?? 0),
      0,
    );
    const r = await cli(['report', 'cost', '--db', db, '--by', 'user', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.totals.cost_micro_usd).toBe(sum);
    expect(report.totals.requests).toBe(3);
  });

  it('verify passes on the untouched store, and still passes after erase --user, which is recorded', async () => {
    const before = await cli(['verify', '--db', db]);
    expect(before.code).toBe(0);
    expect(before.out).toMatch(/verify: OK/);
    const erased = await cli(['erase', '--db', db, '--user', 'alice', '--json']);
    expect(erased.code).toBe(0);
    const result = JSON.parse(erased.out);
    expect(result.keysDestroyed).toBe(1);
    const after = await cli(['verify', '--db', db, '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.out).ok).toBe(true);
    const adminEvents = (await cli(['events', '--db', db, '--json', '--feature', 'admin'])).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      adminEvents.some(
        (e: { endpoint: string; user_id: string }) => e.endpoint === 'admin:erase' && e.user_id === 'alice',
      ),
    ).toBe(true);
  });

  it('verify exits 1 and names the event when a row is altered', async () => {
    const Database = (await import('better-sqlite3')).default;
    const copy = join(dir, 'tampered.db');
    const src = new Database(db);
    await src.backup(copy);
    src.close();
    const t = new Database(copy);
    const idAt = (seq: number): string =>
      (t.prepare("SELECT id FROM events WHERE chain_id = 'cli-test' AND seq = ?").get(seq) as { id: string })
        .id;
    const row = { id: idAt(2) };
    const later = idAt(3);
    t.prepare("UPDATE events SET model_requested = 'gpt-4o' WHERE id = ?").run(row.id);
    // A second, later change: verify names it too instead of stopping at the first.
    t.prepare("UPDATE events SET user_id = 'mallory' WHERE id = ?").run(later);
    t.close();
    const r = await cli(['verify', '--db', copy, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.first_damage.kind).toBe('modified');
    expect(report.first_damage.event_id).toBe(row.id);
    expect(report.damage_count).toBe(2);
    const chain = report.chains.find((c: { chain_id: string }) => c.chain_id === 'cli-test');
    expect(chain.damages.map((d: { seq: number; event_id: string }) => [d.seq, d.event_id])).toEqual([
      [2, row.id],
      [3, later],
    ]);
    const human = await cli(['verify', '--db', copy]);
    expect(human.code).toBe(1);
    expect(human.out).toMatch(new RegExp(`DAMAGED — MODIFIED at seq 2, event ${row.id}`));
    expect(human.out).toMatch(new RegExp(`also MODIFIED at seq 3, event ${later}`));
    expect(human.out).toMatch(/2 damage\(s\) in all/);
  });

  it('keys create prints the key once, list never shows it, revoke records an admin event', async () => {
    const created = await cli([
      'keys',
      'create',
      '--db',
      db,
      '--name',
      'ci bot',
      '--rpm',
      '10',
      '--budget-usd',
      '5',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const { key, id } = JSON.parse(created.out);
    expect(key).toMatch(/^tg-/);
    const list = await cli(['keys', 'list', '--db', db, '--json']);
    expect(list.out).not.toContain(key);
    expect(list.out).not.toContain(key.slice(8));
    expect(JSON.parse(list.out.trim()).status).toBe('active');
    expect((await cli(['keys', 'revoke', id, '--db', db])).code).toBe(0);
    const after = JSON.parse((await cli(['keys', 'list', '--db', db, '--json'])).out.trim());
    expect(after.status).toBe('revoked');
  });

  it('report security --json counts what happened', async () => {
    const r = await cli(['report', 'security', '--db', db, '--since', '1h', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toHaveProperty('auth_failures');
    expect(JSON.stringify(report)).not.toContain('@example.com');
  });

  it('prices prints USD per million tokens ($2 is 2.00, not micro-USD)', async () => {
    const r = await cli(['prices']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^openai\s+gpt-4\.1\s+2\.00\s+0\.50\s+8\.00\s/m);
    expect(r.out).toMatch(/^openai\s+gpt-4o-mini\s+0\.15\s+0\.075\s+0\.60\s/m);
    expect(r.out).not.toContain('2000000');
    expect(JSON.parse((await cli(['prices', '--json'])).out)).toMatchObject({
      unit: 'micro_usd_per_million_tokens',
    });
  });

  it('--help marks required options', async () => {
    const r = await cli(['export', '--help']);
    expect(r.out).toMatch(/--since <when>\s+\(required\)/);
    expect(r.out).not.toMatch(/--until <when>\s+\(required\)/);
  });

  it('prices check exits 0 when every model seen has a price', async () => {
    const r = await cli(['prices', 'check', '--db', db]);
    expect(r.code).toBe(0);
  });

  it('a missing database is a clear error, not a new empty file', async () => {
    const r = await cli(['events', '--db', join(dir, 'nope.db')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/TG_ERR_STORE_OPEN/);
  });

  it('doctor exits 1 on a key the provider refuses, and never prints the key', async () => {
    const strict = new MockProvider({ validKeys: ['sk-good-0123456789abcdefghijklmnopqrst'] });
    const base = await strict.listen();
    const key = 'sk-bad-SECRETPART0123456789abcdefghijklmn';
    const r = await cli(['doctor', '--upstream', base, '--key-env', 'TEST_KEY', '--json'], { TEST_KEY: key });
    await strict.close();
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('SECRETPART');
    expect(r.out).toMatch(/401/);
  });
});
