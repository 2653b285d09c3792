import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';

describe('config budgets per user, enforced and alerted', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('refuses alice past her daily budget (BLOCKED), leaves bob alone, alerts, and remembers spend across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-budget-'));
    dirs.push(dir);
    const mock = new MockProvider({ record: false });
    const upstream = await mock.listen();
    // gpt-4.1 at $2/$8 per M: the mock answers 2 input + 6 output tokens → 4 + 48 = 52 µ$ per call,
    // and each call reserves its worst case first (~25 input tokens of body + max_tokens 6 → ~100 µ$):
    // a 1000 µ$ daily budget admits calls while what is left holds a worst case, then refuses.
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        port: 0,
        upstream_url: upstream,
        instance_id: 'budget',
        budgets: [{ scope: 'user', subject: 'alice', period: 'day', limit_usd: 0.001, enforce: true }],
      },
    });
    const call = async (url: string, user: string) => {
      const res = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-test-0123456789abcdefghijklmn',
          'x-tollgate-user': user,
        },
        body: JSON.stringify({
          model: 'gpt-4.1',
          max_tokens: 6,
          messages: [{ role: 'user', content: 'hello budget' }],
        }),
      });
      const text = await res.body.text();
      return { status: res.statusCode, text, id: String(res.headers['x-tollgate-event-id']) };
    };
    let tg = await startTollgate({ config, log: createLogger('silent') });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await call(tg.url, 'alice')).status);
    const admitted = statuses.indexOf(429);
    expect(admitted).toBeGreaterThanOrEqual(3);
    expect(statuses.slice(0, admitted).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(admitted).every((s) => s === 429)).toBe(true);
    const refused = await call(tg.url, 'alice');
    expect(refused.text).toContain('TG_ERR_POLICY_BUDGET_EXCEEDED');
    expect(refused.text).toContain('budget: user alice (daily)');
    expect((await call(tg.url, 'bob')).status).toBe(200);
    await tg.writer.drain();
    expect((await tg.store.get(refused.id))!.status).toBe('BLOCKED');
    await tg.close();
    // The cost.budget detector saw the crossing.
    tg = await startTollgate({ config, log: createLogger('silent') });
    const alerts = await tg.alerts.list({ ruleId: 'cost.budget' });
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    // Spend was seeded from the stored events: still refused after the restart.
    expect((await call(tg.url, 'alice')).status).toBe(429);
    await tg.close();
    await mock.close();
  }, 60_000);
});
