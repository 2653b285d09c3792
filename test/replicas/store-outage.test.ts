/**
 * PostgreSQL becomes unreachable mid-load (a TCP proxy in front of it is cut, then restored):
 * a fail-open replica keeps answering, spools to its local disk buffer and replays when the store
 * returns, with zero events lost or duplicated; a fail-closed replica answers 503 and calls no
 * provider while the store is down.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { cli } from '../support/run-cli.js';
import { postgresService, uniqueName } from '../support/services.js';
import { CuttableProxy, startReplica, type ReplicaProcess } from './replica-process.js';
import { until } from '../support/until.js';

const pgService = await postgresService();
const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';

interface Outcome {
  status: number;
  code: string | null;
  eventId: string | null;
}

describe.skipIf(!pgService.available)('PostgreSQL outage under load', () => {
  const schema = uniqueName('tg_outage');
  const target = new URL(pgService.url);
  const proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
  const dirs = {
    open: mkdtempSync(join(tmpdir(), 'tollgate-outage-open-')),
    closed: mkdtempSync(join(tmpdir(), 'tollgate-outage-closed-')),
  };
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  const agent = new Agent({ connections: 32 });
  let viaProxy = '';
  let failOpen: ReplicaProcess;
  let failClosed: ReplicaProcess;
  let store: PostgresEventStore;

  beforeAll(async () => {
    const upstream = await mock.listen();
    const port = await proxy.start();
    const u = new URL(pgService.url);
    u.port = String(port);
    u.searchParams.set('schema', schema);
    viaProxy = u.toString();
    const env = (policy: string, dir: string): Record<string, string> => ({
      TOLLGATE_DB: viaProxy,
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_INSTANCE_ID: `outage-${policy}`,
      TOLLGATE_FAILURE_POLICY: policy,
      TOLLGATE_UPSTREAM_URL: upstream,
    });
    failOpen = await startReplica(env('fail-open', dirs.open));
    failClosed = await startReplica(env('fail-closed', dirs.closed));
    // The test reads the store directly, not through the proxy.
    store = await PostgresEventStore.open({ url: pgService.url, schema });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([failOpen?.stop(), failClosed?.stop()]);
    await proxy.stop();
    await store?.close();
    await agent.close();
    await mock.close();
    const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  });

  const call = async (replica: ReplicaProcess, i: number, user = 'load'): Promise<Outcome> => {
    const res = await request(`${replica.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${PROVIDER_KEY}`,
        'x-tollgate-user': user,
      },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: `request ${i}` }] }),
    });
    const body = (await res.body.json()) as { error?: { code?: string } };
    const id = res.headers['x-tollgate-event-id'];
    return {
      status: res.statusCode,
      code: body.error?.code ?? null,
      eventId: typeof id === 'string' ? id : null,
    };
  };

  /** `n` requests, `concurrency` at a time. */
  const load = async (replica: ReplicaProcess, n: number, concurrency = 8): Promise<Outcome[]> => {
    const out: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) out.push(await call(replica, next++));
      }),
    );
    return out;
  };

  it('fail-open: keeps serving through the outage, then every event is in the store exactly once; fail-closed: 503 and no provider call while down', async () => {
    const before = await load(failOpen, 80);
    const closedBefore = await load(failClosed, 10);

    await proxy.stop(); // PostgreSQL unreachable from the replicas
    const during = await load(failOpen, 120);
    // fail-closed learns of the outage from its first failed write; from then on it refuses
    // before any upstream call.
    // That first request reached the provider, but its event could not be committed, so the
    // client gets a broken connection, never a completed response (src/proxy/gateway.ts); its
    // event is spooled and must arrive later like the others (found by its user below).
    await expect(call(failClosed, 0, 'trigger')).rejects.toThrow();
    const upstreamCalls = mock.requests.length;
    const closedDuring = await load(failClosed, 20);
    expect(mock.requests.length).toBe(upstreamCalls);
    expect(closedDuring.map((o) => o.status)).toEqual(Array(20).fill(503));
    expect(new Set(closedDuring.map((o) => o.code))).toEqual(new Set(['TG_ERR_AUDIT_UNAVAILABLE']));
    await sleep(1500); // at least one failed replay attempt while down

    await proxy.start(); // restored, same port
    const after = await load(failOpen, 80);
    // fail-closed accepts again once its retry finds the store.
    // Every attempt counts: a 503 refused before the retry found the store is an event too.
    const closedAfter: Outcome[] = [];
    for (let t = 0; t < 50; t++) {
      closedAfter.push(...(await load(failClosed, 1, 1)));
      if (closedAfter.at(-1)!.status === 200) break;
      await sleep(200);
    }
    expect(closedAfter.at(-1)!.status).toBe(200);
    expect(closedAfter.slice(0, -1).every((o) => o.status === 503)).toBe(true);

    const open = [...before, ...during, ...after];
    expect(open.every((o) => o.status === 200)).toBe(true);
    const closed = [...closedBefore, ...closedDuring, ...closedAfter];
    const ids = [...open, ...closed].map((o) => o.eventId);
    expect(ids.every((id) => id !== null)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    // Both writers replay their spools (retry every second) into the shared store.
    await until('both spools replayed', async () => (await store.count()) >= ids.length + 1, 15_000);
    const rows = await store.query({ order: 'asc' });
    const triggered = rows.filter((e) => e.user_id === 'trigger');
    expect(triggered).toHaveLength(1);
    expect(rows.length).toBe(ids.length + 1); // nothing lost, nothing twice
    expect(
      rows
        .filter((e) => e.user_id !== 'trigger')
        .map((e) => e.id)
        .sort(),
    ).toEqual([...(ids as string[])].sort());
    expect(existsSync(join(dirs.open, 'spool-outage-fail-open.jsonl.replayed'))).toBe(true);

    expect(await failOpen.stop()).toBe(0);
    expect(await failClosed.stop()).toBe(0);
    const chains = await store.chains();
    expect(chains.map((c) => [c.chain_id, c.count])).toEqual([
      ['outage-fail-closed', closed.length + 1],
      ['outage-fail-open', open.length],
    ]);
    const verify = await cli(
      [
        'verify',
        '--db',
        new URL(`?schema=${schema}`, pgService.url).toString(),
        '--json',
        '--chain',
        'outage-fail-open',
      ],
      {
        TOLLGATE_DATA_DIR: dirs.open,
      },
    );
    expect(verify.code, verify.out + verify.err).toBe(0);
    expect((JSON.parse(verify.out) as { events_checked: number }).events_checked).toBe(open.length);
  }, 90_000);
});
