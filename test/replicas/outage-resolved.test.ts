/**
 * The pager that fired for a Redis outage is told when it ends: a gateway whose Redis sits behind
 * a TCP proxy the test cuts and restores sends the `state.unavailable` alert to a real webhook
 * (an HTTP server on 127.0.0.1) when the outage starts, and a signed `resolved` delivery of the
 * same alert when Redis answers again; both deliveries are recorded on the stored alert.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/access/virtual-keys.js';
import type { Alert, AlertChange } from '../../src/alerting/alert.js';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/clock.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createRedisClient, waitForRedis } from '../../src/state/redis-connection.js';
import { closeTestClients } from '../../src/state/redis-test-kit.js';
import { redisService, uniqueName } from '../support/services.js';
import { until as untilEvery } from '../support/until.js';
import { webhookReceiver, type ReceivedAlert } from '../support/webhook-receiver.js';
import { CuttableProxy } from './replica-process.js';

const redis = await redisService();

const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';
const WEBHOOK_SECRET = 'outage-webhook-secret-0123456789';

/** Polls every 50 ms (this test's pace). */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> =>
  untilEvery(what, check, timeoutMs, 50);

describe.skipIf(!redis.available)('Redis outage: the alert sinks are told when it ends', () => {
  const prefix = `${uniqueName('tgresolved')}:`;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-outage-resolved-'));
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY] });
  const target = new URL(redis.url);
  const proxy = new CuttableProxy(target.hostname, Number(target.port || 6379));
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let tg: RunningTollgate;

  beforeAll(async () => {
    hook = await webhookReceiver(WEBHOOK_SECRET);
    await proxy.start();
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        data_dir: dir,
        port: 0,
        upstream_url: await mock.listen(),
        instance_id: 'gw-outage',
        mode: 'managed',
        'managed.provider_key': PROVIDER_KEY,
        redis_url: `redis://127.0.0.1:${proxy.port}/?prefix=${encodeURIComponent(prefix)}`,
        redis_failure_policy: 'fail-open',
        'alerts.webhook_url': hook.url,
        'alerts.webhook_secret': WEBHOOK_SECRET,
      },
    });
    tg = await startTollgate({ config, log: createLogger('silent') });
  }, 30_000);

  afterAll(async () => {
    await tg?.close();
    await proxy.start().catch(() => undefined);
    const client = createRedisClient(`redis://127.0.0.1:${proxy.port}`);
    if (await waitForRedis(client, 3000)) await closeTestClients([client], prefix);
    else client.disconnect();
    await proxy.stop();
    await hook?.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the outage alert when Redis goes, a resolved delivery of the same alert when it is back, and records both', async () => {
    const { key } = await createKey(tg.keys, systemClock, { name: 'outage', rpm: 100 });
    const chat = async (): Promise<number> => {
      const res = await request(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
      });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await chat()).toBe(200);
    const outage = (change: AlertChange): ReceivedAlert[] =>
      hook.got.filter((g) => g.alert.rule_id === 'state.unavailable' && g.change === change);

    await proxy.stop();
    expect(await chat()).toBe(200); // fail-open: served without the shared limits
    await until('the outage alert at the webhook', () => outage('new').length === 1);
    expect(outage('resolved')).toHaveLength(0);

    await proxy.start();
    await until('the resolved delivery at the webhook', () => outage('resolved').length > 0, 20_000);
    const [opened] = outage('new');
    const resolved = outage('resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.alert.id).toBe(opened!.alert.id);
    expect(resolved[0]!.alert.description).toContain('Sharing has resumed');
    expect(resolved[0]!.signed).toBe(true);
    expect(opened!.signed).toBe(true);

    // Both deliveries are on the stored alert: the outage's and the resolution's, per sink.
    await tg.dispatcher.drain();
    let stored: Alert | null = null;
    await until('both deliveries recorded', async () => {
      stored = await tg.alerts.get(opened!.alert.id);
      const delivered = new Set(
        (stored?.deliveries ?? []).filter((d) => d.status === 'delivered').map((d) => d.sink),
      );
      return delivered.has('webhook') && delivered.has('webhook:resolved');
    });
    expect(stored!.description).toContain('Sharing has resumed');
    expect(await chat()).toBe(200);
  }, 60_000);
});
