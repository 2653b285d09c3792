/**
 * Three `tollgate serve` processes on one PostgreSQL schema share the keys and alerts kept beside
 * the events: a key created with `tollgate keys create --db postgres://…` is accepted by every
 * replica, a key revoked with the CLI is refused by every replica within the documented cache
 * bound (DEFAULT_KEY_CACHE_MS), an alert raised on one replica is listed by `tollgate alerts`, and
 * `tollgate erase` destroys the data keys every replica made for a person (encrypted content),
 * which every replica stops using within its refresh interval. No replica keeps a local database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { DEFAULT_DATA_KEY_REFRESH_MS } from '../../src/store/postgres/postgres-data-keys.js';
import { DEFAULT_KEY_CACHE_MS } from '../../src/store/postgres/postgres-keys.js';
import { cli } from '../support/run-cli.js';
import { postgresService, uniqueName } from '../support/services.js';
import { startReplica, type ReplicaProcess } from './replica-process.js';
import { until } from '../support/until.js';

const pgService = await postgresService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';

describe.skipIf(!pgService.available)('three replicas share keys and alerts through PostgreSQL', () => {
  const schema = uniqueName('tg_shared');
  const dbUrl = (() => {
    const u = new URL(pgService.url);
    u.searchParams.set('schema', schema);
    return u.toString();
  })();
  const dirs = [1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'tollgate-shared-')));
  const cliDir = mkdtempSync(join(tmpdir(), 'tollgate-shared-cli-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  const replicas: ReplicaProcess[] = [];
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    const upstream = await mock.listen();
    // Each replica has its own data folder, as on separate machines: nothing shared but PostgreSQL.
    const env = (i: number): Record<string, string> => ({
      TOLLGATE_DB: dbUrl,
      TOLLGATE_DATA_DIR: dirs[i - 1]!,
      TOLLGATE_INSTANCE_ID: `shared-${i}`,
      TOLLGATE_MODE: 'managed',
      TOLLGATE_PROVIDER_KEY: PROVIDER_KEY,
      TOLLGATE_UPSTREAM_URL: upstream,
      TOLLGATE_CONTENT_MODE: 'encrypted',
      TOLLGATE_MASTER_KEY: masterKey,
    });
    replicas.push(await startReplica(env(1)));
    replicas.push(...(await Promise.all([startReplica(env(2)), startReplica(env(3))])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await mock.close();
    const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    for (const d of [...dirs, cliDir]) rmSync(d, { recursive: true, force: true });
  });

  const chat = async (
    replica: ReplicaProcess,
    key: string,
    user?: string,
  ): Promise<{ status: number; code: string | null }> => {
    const res = await request(`${replica.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        ...(user ? { 'x-tollgate-user': user } : {}),
      },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
    });
    const body = (await res.body.json()) as { error?: { code?: string } };
    return { status: res.statusCode, code: body.error?.code ?? null };
  };

  it('a key created with the CLI on PostgreSQL is accepted by all three replicas', async () => {
    const created = await cli(['keys', 'create', '--db', dbUrl, '--name', 'shared', '--json'], {
      TOLLGATE_DATA_DIR: cliDir,
    });
    expect(created.code, created.err).toBe(0);
    const { key } = JSON.parse(created.out) as { key: string };
    for (const r of replicas) expect(await chat(r, key)).toEqual({ status: 200, code: null });
  });

  it(`a key revoked with the CLI is refused by all three within ${DEFAULT_KEY_CACHE_MS} ms`, async () => {
    const created = JSON.parse(
      (
        await cli(['keys', 'create', '--db', dbUrl, '--name', 'to-revoke', '--json'], {
          TOLLGATE_DATA_DIR: cliDir,
        })
      ).out,
    ) as { key: string; id: string };
    // Every replica has the key in its cache now.
    for (const r of replicas) expect((await chat(r, created.key)).status).toBe(200);
    expect(
      (await cli(['keys', 'revoke', created.id, '--db', dbUrl], { TOLLGATE_DATA_DIR: cliDir })).code,
    ).toBe(0);
    const revokedAt = Date.now();
    const refusedAfter = await Promise.all(
      replicas.map(async (r) => {
        for (;;) {
          const res = await chat(r, created.key);
          if (res.status !== 200) {
            expect(res).toEqual({ status: 401, code: 'TG_ERR_AUTH_REVOKED' });
            return Date.now() - revokedAt;
          }
          if (Date.now() - revokedAt > 10_000) return Number.POSITIVE_INFINITY;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
    // The bound, plus one request's time on a loaded machine.
    for (const ms of refusedAfter) expect(ms).toBeLessThan(DEFAULT_KEY_CACHE_MS + 1_000);
  }, 30_000);

  it('an alert raised on one replica is listed by tollgate alerts --db postgres://…', async () => {
    // Six failed authentications with one unknown key on replica 2 (threshold 5, lockout at 10).
    for (let i = 0; i < 6; i++)
      expect((await chat(replicas[1]!, 'tg-notAValidKeyAtAll0123456789abcdefghijklmnopq')).status).toBe(401);
    let listed: { rule_id: string; subject: { kind: string } }[] = [];
    await until('both incidents listed by tollgate alerts', async () => {
      const r = await cli(['alerts', '--db', dbUrl, '--rule', 'auth.repeated-failures', '--json'], {
        TOLLGATE_DATA_DIR: cliDir,
      });
      expect(r.code, r.err).toBe(0);
      listed =
        r.out.trim() === ''
          ? []
          : r.out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as (typeof listed)[number]);
      return listed.length >= 2;
    });
    // One incident per subject the failures share: the unknown key and the client IP.
    expect(new Set(listed.map((a) => a.rule_id))).toEqual(new Set(['auth.repeated-failures']));
    expect(listed.map((a) => a.subject.kind).sort()).toEqual(['api_key', 'ip']);
  });

  it('erase destroys the data keys every replica made for the person; every replica stops using them within the refresh interval', async () => {
    const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
    const { key } = JSON.parse(
      (await cli(['keys', 'create', '--db', dbUrl, '--name', 'enc', '--json'], { TOLLGATE_DATA_DIR: cliDir }))
        .out,
    ) as { key: string };
    const carolKeys = async (): Promise<{ key_id: string; live: boolean }[]> =>
      (
        await admin.query(
          `SELECT key_id, wrapped_key IS NOT NULL AS live FROM "${schema}".data_keys WHERE subject = 'user:carol' ORDER BY key_id`,
        )
      ).rows;
    /** Data-key ids of carol's stored prompts (`enc:v1:<keyId>:…`), oldest first, once `n` are stored (the erase's admin event names carol too). */
    const carolPromptKeys = async (n: number): Promise<string[]> => {
      let rows: { prompt: string | null }[] = [];
      await until(`${n} of carol's events stored`, async () => {
        rows = (
          await admin.query(
            `SELECT prompt FROM "${schema}".events WHERE user_id = 'carol' AND COALESCE(endpoint, '') NOT LIKE 'admin:%' ORDER BY ts, id`,
          )
        ).rows;
        return rows.length >= n;
      });
      expect(rows).toHaveLength(n);
      return rows.map((row) => {
        expect(row.prompt).toMatch(/^enc:v1:/);
        return row.prompt!.split(':')[2]!;
      });
    };
    try {
      // All three meet carol at once: each may make its own key before seeing the others'.
      await Promise.all(replicas.map((r) => chat(r, key, 'carol')));
      const first = new Set(await carolPromptKeys(3));
      // Keys are stored in the background: wait until each one a prompt names is in the table.
      await until(
        'every data key a prompt names stored',
        async () => (await carolKeys()).length >= first.size,
      );
      const before = await carolKeys();
      expect(before.map((k) => k.key_id)).toEqual([...first].sort());
      const erased = await cli(['erase', '--db', dbUrl, '--user', 'carol', '--json'], {
        TOLLGATE_DATA_DIR: cliDir,
      });
      expect(erased.code, erased.err).toBe(0);
      expect(JSON.parse(erased.out).keyIds).toEqual(before.map((k) => k.key_id));
      // After the refresh interval (plus a loaded machine's delay), every replica encrypts under a new key.
      await new Promise((r) => setTimeout(r, DEFAULT_DATA_KEY_REFRESH_MS + 500));
      for (const r of replicas) expect((await chat(r, key, 'carol')).status).toBe(200);
      const after = (await carolPromptKeys(6)).slice(3);
      for (const id of after) expect([...first]).not.toContain(id);
      const live = (await carolKeys()).filter((k) => k.live).map((k) => k.key_id);
      expect(live).toEqual(expect.arrayContaining([...new Set(after)]));
    } finally {
      await admin.end();
    }
  }, 30_000);

  it('no replica keeps a local database file', () => {
    for (const d of dirs) expect(readdirSync(d).filter((f) => f.endsWith('.db'))).toEqual([]);
  });
});
