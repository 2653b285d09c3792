/**
 * The investigator's views in Chromium against the demo traffic: the event list's columns, flags,
 * preview and time range; the conversation with redaction markers and tool calls; search in
 * stored content; a session's timeline; an alert to the subject's activity and the other subjects
 * of the incident; keyboard use; dark mode; a 390 px phone. Each page is shot at 1280 and 390 px
 * (docs/screenshots/ with TOLLGATE_UPDATE_SCREENSHOTS=1).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GOOD_KEY } from '../../src/cli/demo/demo-traffic.js';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startSeededGateway, type SeededGateway } from './seeded-gateway.js';

const canRun = chromiumAvailable();
const shotsDir =
  process.env.TOLLGATE_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '../../docs/screenshots')
    : mkdtempSync(join(tmpdir(), 'tollgate-shots-'));

const SECRET = 'AKIAQ3EGRSW7NPJT6XZK';

describe.skipIf(!canRun)('investigator views in Chromium', () => {
  let g: SeededGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let toolEventId: string;
  const pageErrors: string[] = [];

  /** The current page at 1280 px and at 390 px (a phone), full height. */
  async function shots(name: string): Promise<void> {
    mkdirSync(shotsDir, { recursive: true });
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      // Readable on a phone: the page itself never scrolls sideways (wide tables scroll in their box).
      expect(
        await page.evaluate<number>('document.documentElement.scrollWidth'),
        `${name} at ${width}px`,
      ).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(shotsDir, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  beforeAll(async () => {
    g = await startSeededGateway();
    // One agent exchange with a system prompt and a tool call, for the conversation view.
    const res = await request(`${g.tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${DEMO_GOOD_KEY}`,
        'x-tollgate-user': 'frank',
        'x-tollgate-session': 'frank-agent',
      },
      body: JSON.stringify({
        model: 'gpt-4.1',
        messages: [
          { role: 'system', content: 'You are a travel agent.' },
          { role: 'user', content: 'Weather in Paris? Reply to frank@example.com' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'c1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '18C and sunny' },
        ],
      }),
    });
    toolEventId = String(res.headers['x-tollgate-event-id']);
    await res.body.dump();
    await g.tg.writer.drain();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await g?.close();
  });

  it('signs in with a one-time link (the second use is refused)', async () => {
    const link = `${g.tg.url}/ui/login?link=${g.tg.admin.console.loginLinks.issue()}`;
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/ui/events');
    const again = await (await browser.newContext()).newPage();
    const res = await again.goto(link);
    expect(res?.status()).toBe(401);
    await again.context().close();
    await page.goto(`${g.tg.url}/ui/events?session=none`);
    await page.goto(`${g.tg.url}/ui/login`);
    await shots('login');
  });

  it('event list: latency, TTFT, tokens, cost, flags and a prompt preview; a time range', async () => {
    await page.goto(`${g.tg.url}/ui/events?limit=200`);
    const headers = await page.locator('table thead th').allTextContents();
    expect(headers).toEqual([
      'Time (UTC)',
      'Status',
      'Model',
      'User / session',
      'Latency',
      'TTFT',
      'Tokens in / out',
      'Cost',
      'Flags',
      'Prompt',
    ]);
    const [leak] = (await g.tg.store.query({ user: 'bob', feature: 'support-bot' })).filter(
      (e) => e.redactions.length,
    );
    const row = page.locator(`tr[data-event-id="${leak!.id}"]`);
    await expect(row.locator('.flag-redacted').textContent()).resolves.toBe('redacted');
    await expect(row.locator('td.preview').textContent()).resolves.toContain('[REDACTED:aws_access_key]');
    await expect(row.locator('td:nth-child(5)').textContent()).resolves.toMatch(/^\d[\d,]* ms$/);
    const stream = (await g.tg.store.query({ limit: 200 })).find(
      (e) => e.stream && e.time_to_first_token_ms !== null,
    );
    await expect(
      page.locator(`tr[data-event-id="${stream!.id}"] td:nth-child(6)`).textContent(),
    ).resolves.toMatch(/^\d[\d,]* ms$/);
    // Credential stuffing is flagged anomalous.
    const anomalous = (await g.tg.store.query({ limit: 200 })).filter(
      (e) => e.is_anomalous || e.threat_indicators.length,
    );
    expect(anomalous.length).toBeGreaterThan(0);
    expect(await page.locator('tr .flag-anomalous').count()).toBe(anomalous.length);
    await page.goto(`${g.tg.url}/ui/events`);
    await shots('events');
    // A time range that ends before any traffic: nothing.
    await page.goto(`${g.tg.url}/ui/events?until=2h`);
    await expect(page.locator('#events-body').textContent()).resolves.toContain('No events match');
  });

  it('event page: the conversation as messages with redaction markers and tool calls, then the fields', async () => {
    await page.goto(`${g.tg.url}/ui/events/${toolEventId}`);
    const roles = await page
      .locator('ol.conversation > li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-role')));
    expect(roles).toEqual(['system', 'user', 'assistant', 'tool_call', 'tool', 'response']);
    await expect(page.locator('li[data-role="tool_call"] .role').textContent()).resolves.toContain(
      'get_weather',
    );
    await expect(page.locator('li[data-role="user"] mark.redacted').textContent()).resolves.toBe(
      '[REDACTED:email]',
    );
    expect(await page.content()).not.toContain('frank@example.com');
    // Conversation first, then the chain and every field.
    const headings = await page.locator('main h2').allTextContents();
    expect(headings.indexOf('Conversation')).toBeLessThan(headings.indexOf('All fields'));
    const [leak] = (await g.tg.store.query({ user: 'bob', feature: 'support-bot' })).filter(
      (e) => e.redactions.length,
    );
    await page.goto(`${g.tg.url}/ui/events/${leak!.id}`);
    expect(await page.locator('li[data-role="user"] mark.redacted').allTextContents()).toEqual([
      '[REDACTED:aws_access_key]',
      '[REDACTED:generic_secret]',
      '[REDACTED:email]',
    ]);
    expect(await page.content()).not.toContain(SECRET);
    await shots('event');
  });

  it('search: "/" opens it; finds redacted content by its marker, never by the secret', async () => {
    await page.goto(`${g.tg.url}/ui/events`);
    await page.keyboard.press('/');
    await page.waitForURL('**/ui/search');
    await page.keyboard.press('/');
    await expect(page.evaluate<string | undefined>('document.activeElement?.id')).resolves.toBe('search-q');
    await page.keyboard.type('aws_access_key');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=aws_access_key/);
    const ids = await page
      .locator('table[aria-label="Search results"] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')));
    const leaks = (await g.tg.store.query({ limit: 500 })).filter((e) =>
      e.prompt?.includes('[REDACTED:aws_access_key]'),
    );
    expect(ids.sort()).toEqual(leaks.map((e) => e.id).sort());
    await expect(page.locator('mark.hit').first().textContent()).resolves.toMatch(/^aws_access_key$/i);
    await shots('search');
    await page.goto(`${g.tg.url}/ui/search?q=${SECRET}`);
    await expect(page.locator('#search-count').textContent()).resolves.toContain('No event matches');
    // Fields are searched too: a session id.
    await page.goto(`${g.tg.url}/ui/search?q=frank-agent`);
    await expect(page.locator(`tr[data-event-id="${toolEventId}"]`).count()).resolves.toBe(1);
  });

  it('session: requests on a timeline with input tokens per request, cost so far and its alert', async () => {
    await page.goto(`${g.tg.url}/ui/events?session=dave-runaway-tab`);
    await page.locator('a[href="/ui/sessions/dave-runaway-tab"]').first().click();
    await page.waitForURL('**/ui/sessions/dave-runaway-tab');
    const inputs = await page
      .locator('#session-requests td[data-input]')
      .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-input'))));
    const stored = (await g.tg.store.query({ session: 'dave-runaway-tab', order: 'asc' })).map(
      (e) => e.input_tokens ?? 0,
    );
    expect(inputs).toEqual(stored);
    // The leak as a picture: input grows request after request.
    expect(inputs[inputs.length - 1]!).toBeGreaterThan(inputs[0]! * 10);
    await expect(page.locator('[data-chart="session-input"]').count()).resolves.toBe(1);
    await expect(page.locator('.alerts-list').textContent()).resolves.toContain('session.context-growth');
    await shots('session');
  });

  it('from an alert, one click to the subject’s activity ± 1 h and to the other subjects of the incident', async () => {
    await page.goto(`${g.tg.url}/ui/security`);
    await page.locator('tr[data-rule="auth.repeated-failures"] a.activity-link').click();
    await page.waitForURL(/\/ui\/activity\?alert=/);
    const [alert] = await g.tg.alerts.list({ ruleId: 'auth.repeated-failures' });
    await expect(page.locator('#activity-alert').textContent()).resolves.toContain(alert!.title);
    // The subject is the client IP: every request from it in the window.
    const fromIp = (await g.tg.store.query({ limit: 1000 })).filter(
      (e) => e.ip_address === alert!.subject.value && e.http_method !== 'ADMIN',
    );
    const shown = await page
      .locator('table[aria-label="Activity of the subject"] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')));
    expect(Number(await page.locator('#activity-count').textContent())).toBe(shown.length);
    // Every request from the IP is there (and its admin actions, e.g. these logins, too).
    expect(shown).toEqual(expect.arrayContaining(fromIp.map((e) => e.id)));
    // The other subjects of the incident: the keys that failed.
    const keys = page.locator('#related a', { hasText: 'key' });
    expect(await keys.count()).toBeGreaterThanOrEqual(4);
    await shots('activity');
    await keys.first().click();
    await page.waitForURL(/kind=api_key/);
    await expect(page.locator('#activity-count').textContent()).resolves.toBe('1');
    await expect(page.locator('tbody .status').first().textContent()).resolves.toBe('AUTH_FAILED');
  });

  it('keyboard, dark mode, the other pages at both widths, and no script or CSP error anywhere', async () => {
    await page.goto(`${g.tg.url}/ui/events`);
    await page.keyboard.press('Tab');
    await expect(page.evaluate<string | undefined>('document.activeElement?.textContent')).resolves.toBe(
      'Skip to content',
    );
    await page.keyboard.press('g');
    await page.keyboard.press('s');
    await page.waitForURL('**/ui/security');
    await shots('security');
    await page.goto(`${g.tg.url}/ui/cost?since=1h`);
    await shots('cost');
    await page.goto(`${g.tg.url}/ui/integrity`);
    await shots('integrity');
    const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 900 } });
    await dark.addCookies(await context.cookies());
    const p = await dark.newPage();
    await p.goto(`${g.tg.url}/ui/events`);
    const bg = await p.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(13, 17, 23)');
    await p.screenshot({ path: join(shotsDir, 'events-dark-1280.png') });
    await dark.close();
    expect(pageErrors).toEqual([]);
  });
});
