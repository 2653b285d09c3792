/**
 * The provider's own quota in view: a mock provider counts down x-ratelimit-remaining-requests on
 * every answer; the `provider.quota-low` alert fires before the first 429, and /metrics shows the
 * remaining quota per provider key fingerprint (never the key).
 */
import { APIError } from 'openai';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecurityReport } from '../../src/reports/security-report.js';
import { cli } from '../support/run-cli.js';
import { managedSetup, PROVIDER_KEY, type ManagedSetup } from './managed-setup.js';

describe('provider quota tracking', () => {
  let s: ManagedSetup;
  afterEach(async () => s?.close());

  it('alerts when a provider key falls below 10 % of its quota, before the first 429', async () => {
    s = await managedSetup({}, { mock: { requestQuota: 20 } });
    const { key } = await s.newKey();
    const client = s.client(key);
    let firstAlertAt: number | null = null;
    let first429At: number | null = null;
    for (let i = 0; i < 25 && first429At === null; i++) {
      try {
        await client.chat.completions.create({
          model: 'gpt-4.1',
          messages: [{ role: 'user', content: 'hi' }],
        });
      } catch (err) {
        if (!(err instanceof APIError) || err.status !== 429) throw err;
        first429At = i;
      }
      await s.tg.dispatcher.drain();
      if (firstAlertAt === null && (await s.tg.alerts.list({ ruleId: 'provider.quota-low' })).length > 0)
        firstAlertAt = i;
    }
    expect(first429At).toBe(20);
    expect(firstAlertAt).not.toBeNull();
    expect(firstAlertAt!).toBeLessThan(first429At!);
    // 1 of 20 left is the first reading under 10 %: the 19th answer (index 18).
    expect(firstAlertAt).toBe(18);
    const [alert] = await s.tg.alerts.list({ ruleId: 'provider.quota-low' });
    expect(alert!.subject.kind).toBe('api_key');
    expect(alert!.subject.value).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(alert)).not.toContain(PROVIDER_KEY);

    const metrics = await (await request(`${s.tg.url}/metrics`)).body.text();
    const k = alert!.subject.value;
    expect(metrics).toMatch(
      new RegExp(`tollgate_provider_quota_remaining\\{key="${k}",provider="[a-z]+",kind="requests"\\} 0`),
    );
    expect(metrics).toMatch(
      new RegExp(`tollgate_provider_quota_limit\\{key="${k}",provider="[a-z]+",kind="requests"\\} 20`),
    );
    expect(metrics).not.toContain(PROVIDER_KEY);

    // Every answer's reading is in its event, under the provider key's fingerprint (not the tg- key's).
    const events = await s.events();
    expect(events.map((e) => e.provider_requests_remaining)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => 19 - i),
      0,
    ]);
    expect(new Set(events.map((e) => e.provider_key_id))).toEqual(new Set([k]));
    expect(events[0]!.api_key_id).not.toBe(k);
    expect(events.every((e) => e.provider_requests_limit === 20 && e.provider_requests_reset !== null)).toBe(
      true,
    );

    // tollgate report security shows it per provider key: latest 0 of 20, lowest share 0.
    const json = await cli(['report', 'security', '--db', s.db, '--since', '1h', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as SecurityReport;
    expect(report.provider_quota.sampled).toBe(false);
    expect(report.provider_quota.rows).toEqual([
      {
        key: k,
        provider: events[20]!.api_provider,
        kind: 'requests',
        remaining: 0,
        limit: 20,
        share: 0,
        reset: events[20]!.provider_requests_reset,
        at: events[20]!.timestamp,
        lowest_share: 0,
        lowest_at: events[19]!.timestamp,
        readings: 21,
      },
    ]);
    const text = await cli(['report', 'security', '--db', s.db, '--since', '1h']);
    expect(text.code).toBe(0);
    expect(text.out).toContain('Provider quota by provider key');
    const line = text.out.split('\n').find((l) => l.trimStart().startsWith(k));
    expect(line).toMatch(new RegExp(`${k}\\s+\\S+\\s+requests\\s+0\\s+20\\s+0\\.0%\\s+\\S+\\s+0\\.0%`));
    expect(text.out + json.out).not.toContain(PROVIDER_KEY);
  });
});
