/**
 * Three gateway replicas on one PostgreSQL schema and one Redis (issue 22, "Past one machine"):
 * traffic spread over the three (users, sessions, features, failed authentications, redacted
 * e-mail addresses) is stored once per request in three chains that verify, and every report
 * and dashboard page answers the same on each replica, with the totals the events hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { cli } from '../support/run-cli.js';
import { postgresService, redisService, uniqueName } from '../support/services.js';
import { until } from '../support/until.js';

const pgService = await postgresService();
const redis = await redisService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';
const WRONG_KEY = 'sk-proj-WRONGkey00000000000000000000000000000000000';
const REQUESTS = 60;

describe.skipIf(!pgService.available || !redis.available)(
  'three replicas on PostgreSQL + Redis answer the same reports and pages',
  () => {
    const schema = uniqueName('tg_h22p_rep');
    const prefix = `${uniqueName('tgrep')}:`;
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-replica-reports-'));
    const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
    const replicas: RunningTollgate[] = [];
    let store: PostgresEventStore;

    const start = (upstream: string, i: number): Promise<RunningTollgate> =>
      startTollgate({
        config: loadConfig({
          file: null,
          env: {},
          overrides: {
            db: `${pgService.url}?schema=${schema}`,
            redis_url: `${redis.url}/?prefix=${encodeURIComponent(prefix)}`,
            // One data folder: the replicas share its secrets (fingerprint, signing key); each
            // has its own instance id, chain and spool file.
            data_dir: dir,
            instance_id: `replica-${i}`,
            port: 0,
            upstream_url: upstream,
          },
        }),
        log: createLogger('silent'),
      });

    beforeAll(async () => {
      const upstream = await mock.listen();
      // The first creates the schema and the secrets; the others start together.
      replicas.push(await start(upstream, 1));
      replicas.push(...(await Promise.all([start(upstream, 2), start(upstream, 3)])));
      store = await PostgresEventStore.open({ url: pgService.url, schema });
    }, 90_000);

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.close().catch(() => undefined)));
      await store?.close();
      await mock.close();
      const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    });

    const get = async (tg: RunningTollgate, path: string, cookie?: string): Promise<string> => {
      const res = await request(`${tg.url}${path}`, {
        headers: cookie ? { cookie } : { authorization: `Bearer ${tg.admin.token.token}` },
      });
      const body = await res.body.text();
      expect(res.statusCode, `${path}: ${body.slice(0, 300)}`).toBe(200);
      return body;
    };

    it('stores every request once, verifies three chains, and answers alike on every replica', async () => {
      const agent = new Agent({ connections: 16 });
      const eventIds: string[] = [];
      // Round-robin over the replicas, as a load balancer would; 12 in flight at a time.
      for (let from = 0; from < REQUESTS; from += 12) {
        eventIds.push(
          ...(await Promise.all(
            Array.from({ length: 12 }, async (_, j) => {
              const i = from + j;
              const res = await request(`${replicas[i % 3]!.url}/v1/chat/completions`, {
                method: 'POST',
                dispatcher: agent,
                headers: {
                  'content-type': 'application/json',
                  authorization: `Bearer ${i % 10 === 9 ? WRONG_KEY : PROVIDER_KEY}`,
                  'x-tollgate-user': `user-${i % 5}`,
                  'x-tollgate-session': `session-${i % 7}`,
                  'x-tollgate-feature': `feature-${i % 3}`,
                },
                body: JSON.stringify({
                  model: i % 2 === 0 ? 'gpt-4.1' : 'gpt-4o-mini',
                  messages: [
                    {
                      role: 'user',
                      content: i % 4 === 0 ? `mail person${i}@example.com about it` : `hello ${i}`,
                    },
                  ],
                }),
              });
              await res.body.dump();
              expect(res.statusCode).toBe(i % 10 === 9 ? 401 : 200);
              return String(res.headers['x-tollgate-event-id']);
            }),
          )),
        );
      }
      await agent.close();

      // Every request once, in three chains of a third each.
      await until('every event in the shared store', async () => (await store.count()) >= REQUESTS, 15_000);
      const events = await store.query({ order: 'asc' });
      expect(events.map((e) => e.id).sort()).toEqual([...eventIds].sort());
      expect((await store.chains()).map((c) => [c.chain_id, c.count])).toEqual([
        ['replica-1', REQUESTS / 3],
        ['replica-2', REQUESTS / 3],
        ['replica-3', REQUESTS / 3],
      ]);
      const authFailed = events.filter((e) => e.status === 'AUTH_FAILED').length;
      expect(authFailed).toBe(REQUESTS / 10);
      const cost = events.reduce((s, e) => s + (e.cost_micro_usd ?? 0), 0);
      expect(cost).toBeGreaterThan(0);

      // The admin API: the same JSON from every replica, and the totals the events hold.
      const reads = [
        ...['user', 'session', 'feature', 'model', 'key', 'team', 'day'].map(
          (by) => `/admin/reports/cost?by=${by}&since=24h`,
        ),
        '/admin/reports/cost?by=user&since=30d',
        '/admin/reports/security',
        '/admin/reports/security?since=7d',
        '/admin/events?limit=100',
        '/admin/events?user=user-3&limit=100',
        `/admin/events/${eventIds[7]!}`,
      ];
      // The window's ends are the request's clock (ms apart between replicas); the data is read
      // over whole hours, so everything else must match.
      const windowless = (json: string): unknown =>
        JSON.parse(json.replace(/"(since|until|growth_since)":"[^"]*"/g, '"$1":"…"'));
      for (const path of reads) {
        const answers = await Promise.all(replicas.map((r) => get(r, path)));
        expect(windowless(answers[1]!), `${path} on replica-2`).toEqual(windowless(answers[0]!));
        expect(windowless(answers[2]!), `${path} on replica-3`).toEqual(windowless(answers[0]!));
      }
      const byUser = JSON.parse(await get(replicas[1]!, '/admin/reports/cost?by=user&since=24h')) as {
        report: { rows: { key: string; cost_micro_usd: number; requests: number }[] };
      };
      expect(byUser.report.rows.reduce((s, r) => s + r.cost_micro_usd, 0)).toBe(cost);
      expect(byUser.report.rows.reduce((s, r) => s + r.requests, 0)).toBe(REQUESTS);
      const security = JSON.parse(await get(replicas[2]!, '/admin/reports/security')) as {
        auth_failures: { total: number };
        redactions: { hits: { type: string; events: number }[] };
      };
      expect(security.auth_failures.total).toBe(authFailed);
      expect(security.redactions.hits.find((h) => h.type === 'email')?.events).toBe(
        events.filter((e) => e.redactions.some((r) => r.type === 'email')).length,
      );

      // The dashboard's pages: the same HTML from every replica, once the session's CSRF token is set aside.
      const pages = [
        '/ui/cost',
        '/ui/cost?by=user&since=30d',
        '/ui/cost?by=session&since=24h',
        '/ui/cost?by=model&since=7d',
        '/ui/security',
        '/ui/security?since=30d',
        '/ui/events?user=user-2',
        '/ui/events?status=AUTH_FAILED',
        `/ui/events/${eventIds[11]!}`,
      ];
      const cookies = replicas.map((r) => `tg_session=${r.admin.console.sessions.create().id}`);
      const normal = (html: string): string =>
        html
          .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="…"')
          .replace(/<meta name="csrf"[^>]*>/g, '');
      for (const path of pages) {
        const answers = await Promise.all(replicas.map((r, i) => get(r, path, cookies[i])));
        expect(normal(answers[1]!), `${path} on replica-2`).toBe(normal(answers[0]!));
        expect(normal(answers[2]!), `${path} on replica-3`).toBe(normal(answers[0]!));
      }
      // And they show the traffic (a page that answered the same by failing alike would not).
      expect(await get(replicas[2]!, '/ui/cost?by=user&since=30d', cookies[2])).toContain('user-4');
      expect(await get(replicas[1]!, '/ui/events?status=AUTH_FAILED', cookies[1])).toContain(eventIds[9]!);

      // Closed (final checkpoints), the three chains verify from any machine holding the keys.
      await Promise.all(replicas.map((r) => r.close()));
      const verify = await cli(['verify', '--db', `${pgService.url}?schema=${schema}`, '--json'], {
        TOLLGATE_DATA_DIR: dir,
      });
      expect(verify.code, verify.err).toBe(0);
      const report = JSON.parse(verify.out) as { ok: boolean; events_checked: number; chains: unknown[] };
      expect(report.ok).toBe(true);
      expect(report.events_checked).toBe(REQUESTS);
      expect(report.chains).toHaveLength(3);
    }, 120_000);
  },
);
