/**
 * A gateway whose Redis is unreachable when it starts: it starts anyway (after waiting up to 5 s),
 * raises the `state.unavailable` alert at once, and applies `redis_failure_policy` to requests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/access/virtual-keys.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/app/logger.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { until } from '../support/until.js';

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Redis unreachable at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-start-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  let tg: RunningTollgate | null = null;
  afterAll(async () => {
    await tg?.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, raises a CRITICAL state.unavailable alert under fail-closed, and refuses with 503 without calling the provider', async () => {
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        port: 0,
        upstream_url: await mock.listen(),
        instance_id: 'gw-start',
        mode: 'managed',
        'managed.provider_key': PROVIDER_KEY,
        redis_url: `redis://127.0.0.1:${await closedPort()}`,
        redis_failure_policy: 'fail-closed',
      },
    });
    tg = await startTollgate({ config, log: createLogger('silent') });
    await tg.dispatcher.drain();
    await until(
      'the state.unavailable alert',
      async () => (await tg!.alerts.list({ ruleId: 'state.unavailable' })).length > 0,
      5_000,
      20,
    );
    const alerts = await tg.alerts.list({ ruleId: 'state.unavailable' });
    expect(alerts.map((a) => [a.severity, a.subject.kind, a.subject.value])).toEqual([
      ['CRITICAL', 'instance', 'gw-start'],
    ]);
    const { key } = await createKey(tg.keys, systemClock, { name: 'start-test' });
    const res = await request(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe(
      'TG_ERR_STATE_UNAVAILABLE',
    );
    expect(mock.requests).toHaveLength(0);
  }, 30_000);
});
