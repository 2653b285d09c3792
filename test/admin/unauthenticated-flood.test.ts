/**
 * Unauthenticated requests to /admin and /ui cannot flood the audit trail: 10,000 of them (no
 * token, a wrong token, 15 KB paths, form posts) grow the store by a few events that carry the
 * count; broken percent-encoding under /admin is a clear 400 with an event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';

let dir: string;
let mock: MockProvider;
let tg: RunningTollgate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-flood-'));
  mock = new MockProvider({ record: false });
  const upstream = await mock.listen();
  const config = loadConfig({
    file: null,
    env: {},
    overrides: { db: join(dir, 'tollgate.db'), port: 0, upstream_url: upstream, instance_id: 'flood' },
  });
  tg = await startTollgate({ config, log: createLogger('silent') });
}, 60_000);
afterAll(async () => {
  await tg?.close();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('unauthenticated admin requests', () => {
  it('10,000 refused requests add a few events that count them', async () => {
    await tg.writer.drain();
    const before = await tg.store.count();
    const pool = new Pool(tg.url, { connections: 16, pipelining: 1 });
    const longPath = '/admin/' + 'A'.repeat(15_000);
    const N = 10_000;
    let next = 0;
    const statuses = new Map<number, number>();
    const worker = async (): Promise<void> => {
      while (next < N) {
        const i = next++;
        const kind = i % 4;
        const res = await pool.request(
          kind === 0
            ? { path: '/admin/whoami', method: 'GET' }
            : kind === 1
              ? { path: '/admin/events', method: 'GET', headers: { authorization: 'Bearer tga-wrong' } }
              : kind === 2
                ? { path: longPath, method: 'GET' }
                : {
                    path: `/ui/keys/${i}`,
                    method: 'POST',
                    headers: { 'content-type': 'application/x-www-form-urlencoded' },
                    body: 'csrf=x',
                  },
        );
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await pool.close();
    expect(Object.fromEntries(statuses)).toEqual({ 401: N });
    tg.admin.console.unauthenticated.flush();
    await tg.writer.drain();
    const added = (await tg.store.query({ feature: 'admin', order: 'asc' })).filter(
      (e) => e.error_code === 'TG_ERR_ADMIN_UNAUTHORIZED',
    );
    // admin:auth and admin:ui, once per minute the run spanned (at most two minutes).
    expect(added.length).toBeGreaterThanOrEqual(2);
    expect(added.length).toBeLessThanOrEqual(4);
    expect((await tg.store.count()) - before).toBe(added.length);
    const counted = added.reduce(
      (n, e) => n + Number(/^(\d+) unauthenticated/.exec(e.error_message!)![1]),
      0,
    );
    expect(counted).toBe(N);
    for (const e of added) {
      expect(['admin:auth', 'admin:ui']).toContain(e.endpoint);
      expect(e.ip_address).toBe('127.0.0.1');
      expect(JSON.stringify(e)).not.toContain('AAAAAAAAAA');
    }
  }, 120_000);

  it('broken percent-encoding under /admin is a 400 with an event, not a 502', async () => {
    const res = await fetch(`${tg.url}/admin/events/%zz%`, {
      headers: { authorization: `Bearer ${tg.admin.token.token}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TG_ERR_REQUEST_BAD_PATH');
    await tg.writer.drain();
    const events = (await tg.store.query({ feature: 'admin', order: 'asc' })).filter(
      (e) => e.endpoint === 'admin:bad_path',
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.error_code).toBe('TG_ERR_REQUEST_BAD_PATH');
  });
});
