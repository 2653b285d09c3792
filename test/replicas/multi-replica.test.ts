/**
 * Three `tollgate serve` processes on loopback share PostgreSQL (events, checkpoints) and Redis
 * (rate limits): a per-key limit of M requests per minute admits exactly M requests over all
 * three, every admitted and refused request leaves exactly one event, and every replica's chain
 * verifies (`tollgate verify` against the shared store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/access/virtual-keys.js';
import { systemClock } from '../../src/core/clock.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { PostgresKeyStore } from '../../src/store/postgres/postgres-keys.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { cli } from '../support/run-cli.js';
import { postgresService, redisService, uniqueName } from '../support/services.js';
import { startReplica, type ReplicaProcess } from './replica-process.js';
import { until } from '../support/until.js';

const pgService = await postgresService();
const redis = await redisService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';
const M = 10;
const REQUESTS = 150;

describe.skipIf(!pgService.available || !redis.available)(
  'three gateway replicas on PostgreSQL + Redis',
  () => {
    const schema = uniqueName('tg_replicas');
    const dbUrl = (() => {
      const u = new URL(pgService.url);
      u.searchParams.set('schema', schema);
      return u.toString();
    })();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-replicas-'));
    const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
    const replicas: ReplicaProcess[] = [];
    let store: PostgresEventStore;
    let key = '';

    beforeAll(async () => {
      const upstream = await mock.listen();
      const env = (i: number): Record<string, string> => ({
        TOLLGATE_DB: dbUrl,
        TOLLGATE_REDIS_URL: redis.url,
        // One data folder on this machine (the replicas share its secrets; keys are in PostgreSQL);
        // each has its own instance id, chain and spool file.
        TOLLGATE_DATA_DIR: dir,
        TOLLGATE_INSTANCE_ID: `replica-${i}`,
        TOLLGATE_MODE: 'managed',
        TOLLGATE_PROVIDER_KEY: PROVIDER_KEY,
        TOLLGATE_UPSTREAM_URL: upstream,
      });
      // The first replica creates the schema and the local secrets; the others start together.
      replicas.push(await startReplica(env(1)));
      replicas.push(...(await Promise.all([startReplica(env(2)), startReplica(env(3))])));
      // Straight into the shared key table (the CLI would add an admin event to the counted store).
      store = await PostgresEventStore.open({ url: pgService.url, schema });
      key = (
        await createKey(new PostgresKeyStore(store.connectionPool, { schema }), systemClock, {
          name: 'replica-test',
          rpm: M,
        })
      ).key;
    }, 90_000);

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      await store?.close();
      await mock.close();
      const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    });

    it(`admits exactly ${M} of ${REQUESTS} concurrent requests, records each once, and every chain verifies`, async () => {
      const agent = new Agent({ connections: 64 });
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: REQUESTS }, async (_, i) => {
          const res = await request(`${replicas[i % 3]!.url}/v1/chat/completions`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: `hello ${i}` }] }),
          });
          const body = (await res.body.json()) as { error?: { code?: string } };
          return {
            status: res.statusCode,
            code: body.error?.code ?? null,
            eventId: String(res.headers['x-tollgate-event-id']),
          };
        }),
      );
      const elapsed = Date.now() - started;
      await agent.close();
      // The bucket refills one request every 60 000 / M ms; the burst must fit inside that.
      expect(elapsed).toBeLessThan(60_000 / M);

      const admitted = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 429);
      // On failure, the replicas' error log says whether Redis calls failed (TG_ERR_STATE_UNAVAILABLE).
      expect(
        admitted.length,
        replicas
          .map((r) => r.stderr())
          .join('\n')
          .slice(-3000),
      ).toBe(M);
      expect(refused).toHaveLength(REQUESTS - M);
      expect(new Set(refused.map((r) => r.code))).toEqual(new Set(['TG_ERR_POLICY_RATE_LIMIT']));
      expect(mock.requests.length).toBe(M);
      const ids = results.map((r) => r.eventId);
      expect(new Set(ids).size).toBe(REQUESTS);

      // Writers flush off the request path: wait until all events are in the shared store.
      await until('every event in the shared store', async () => (await store.count()) >= REQUESTS, 10_000);
      expect(await store.count()).toBe(REQUESTS);
      const rows = await store.query({ order: 'asc' });
      expect(rows.map((e) => e.id).sort()).toEqual([...ids].sort());
      const byId = new Map(rows.map((e) => [e.id, e]));
      for (const r of admitted) expect(byId.get(r.eventId)!.status).toBe('SUCCESS');
      for (const r of refused)
        expect(byId.get(r.eventId)).toMatchObject({
          status: 'BLOCKED',
          error_code: 'TG_ERR_POLICY_RATE_LIMIT',
        });

      const chains = await store.chains();
      expect(chains.map((c) => c.chain_id)).toEqual(['replica-1', 'replica-2', 'replica-3']);
      expect(chains.map((c) => c.count)).toEqual([REQUESTS / 3, REQUESTS / 3, REQUESTS / 3]);

      // Stop the replicas (final checkpoints are written on shutdown), then verify every chain.
      expect(await Promise.all(replicas.map((r) => r.stop()))).toEqual([0, 0, 0]);
      const verify = await cli(['verify', '--db', dbUrl, '--json'], { TOLLGATE_DATA_DIR: dir });
      expect(verify.code, verify.err).toBe(0);
      const report = JSON.parse(verify.out) as {
        ok: boolean;
        chains: { chain_id: string; damage: unknown }[];
        events_checked: number;
      };
      expect(report.ok).toBe(true);
      expect(report.events_checked).toBe(REQUESTS);
      expect(report.chains.map((c) => c.chain_id)).toEqual(['replica-1', 'replica-2', 'replica-3']);
    }, 60_000);
  },
);
