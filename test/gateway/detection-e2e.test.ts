import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { verifyWebhookSignature } from '../../src/alerting/webhook-signature.js';
import { until } from '../support/until.js';

describe('detection end to end through the gateway', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a burst of 401s raises one auth.repeated-failures alert, marks the events, and reaches a signed webhook', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-detect-'));
    dirs.push(dir);
    const received: Array<{ body: string; signature: string }> = [];
    const hook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['x-tollgate-signature']) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const mock = new MockProvider({ validKeys: ['sk-good-0123456789abcdefghijklmnopqrstuv'] });
    const upstream = await mock.listen();
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        port: 0,
        upstream_url: upstream,
        instance_id: 'detect',
        'alerts.webhook_url': `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
        'alerts.webhook_secret': 'hook-secret',
      },
    });
    const tg = await startTollgate({ config, log: createLogger('silent') });
    for (let i = 0; i < 8; i++) {
      const res = await request(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer sk-stolen-${i}-0123456789abcdefghijklmnopqr`,
        },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.statusCode).toBe(401);
      await res.body.dump();
    }
    await tg.close();
    await mock.close();

    const alerts = await (async () => {
      const { openSqlite } = await import('../../src/store/sqlite/open-sqlite.js');
      const { createSqliteAlertStore } = await import('../../src/store/sqlite/sqlite-alerts.js');
      const db = openSqlite(join(dir, 'tollgate.db'));
      const list = await createSqliteAlertStore(db).list({ ruleId: 'auth.repeated-failures' });
      db.close();
      return list;
    })();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.severity).toBe('HIGH');
    expect(alerts[0]!.evidence.event_ids.length).toBeGreaterThanOrEqual(5);
    const { SqliteEventStore } = await import('../../src/store/sqlite/sqlite-event-store.js');
    const { openSqlite } = await import('../../src/store/sqlite/open-sqlite.js');
    const store = new SqliteEventStore(openSqlite(join(dir, 'tollgate.db')));
    const marked = await store.get(alerts[0]!.evidence.event_ids.at(-1)!);
    expect(marked!.is_anomalous).toBe(true);
    expect(marked!.threat_indicators).toContain('auth.repeated-failures');
    await store.close();
    // The webhook got it, signed with the shared secret; the body carries no key material.
    await until('the webhook delivery', () => received.length >= 1, 5_000, 20);
    hook.close();
    expect(received.length).toBeGreaterThanOrEqual(1);
    const first = received[0]!;
    expect(verifyWebhookSignature('hook-secret', first.signature, first.body, Date.now())).toBe(true);
    expect(first.body).not.toMatch(/sk-stolen/);
  }, 60_000);
});
