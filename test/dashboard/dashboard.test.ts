/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against a gateway
 * filled with the demo traffic: login, filters, an event's chain mark, a chart's totals against
 * the cost report, an injected incident's alert acknowledged (and found as an admin event in the
 * store), verify, and a wrong token refused. Screenshots of each view go to a temporary folder,
 * or to docs/screenshots/ with TOLLGATE_UPDATE_SCREENSHOTS=1.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerGapEvent } from '../../src/integrity/gap-event.js';
import { systemClock } from '../../src/core/clock.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { costReport } from '../../src/reports/cost-report.js';
import { usd } from '../../src/dashboard/value-format.js';
import { eventually } from '../support/gateway-harness.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startSeededGateway, type SeededGateway } from './seeded-gateway.js';

const canRun = chromiumAvailable();
const shotsDir =
  process.env.TOLLGATE_UPDATE_SCREENSHOTS === '1'
    ? join(import.meta.dirname, '../../docs/screenshots')
    : mkdtempSync(join(tmpdir(), 'tollgate-shots-'));

describe.skipIf(!canRun)('dashboard in Chromium', () => {
  let g: SeededGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  async function shot(name: string): Promise<void> {
    mkdirSync(shotsDir, { recursive: true });
    await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    g = await startSeededGateway();
    browser = await launchChromium();
    // A laptop screen.
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
    // CSP violations and script errors surface here; the dashboard must have none.
    page.on('console', (m) => {
      // (The refused login and the forged post answer 401/403 on purpose; the browser logs those.)
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await g?.close();
  });

  it('refuses a wrong token, records the attempt, and sets no session', async () => {
    await page.goto(`${g.tg.url}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await shot('login');
    await page.getByLabel('Admin token').fill('tga-wrong-token-0123456789');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/ui/login')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(response.status()).toBe(401);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid');
    expect(await context.cookies()).toHaveLength(0);
    // Failed logins are counted per address and minute; recorded now rather than at the minute's end.
    g.tg.admin.console.unauthenticated.flush();
    await g.tg.writer.drain();
    const failures = (await g.tg.store.query({ feature: 'admin' })).filter(
      (e) => e.endpoint === 'admin:login' && e.status === 'AUTH_FAILED',
    );
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures[0])).not.toContain('tga-wrong-token');
  });

  it('logs in with the token into an HttpOnly, SameSite=Strict session cookie that is not the token', async () => {
    await page.getByLabel('Admin token').fill(g.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/ui/events');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'tg_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.value).not.toContain(g.token);
    expect(await page.locator('#events-body tr[data-event-id]').count()).toBe(50);
    await shot('events');
  });

  it('filters events by user and status', async () => {
    await page.getByLabel('User').fill('bob');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/user=bob/);
    // The list is newest first by event time (the store's page order), not in the order events were written.
    const bob = (await g.tg.store.page({ user: 'bob', limit: 50 }, null)).events;
    const rows = page.locator('#events-body tr[data-event-id]');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id')))).toEqual(
      bob.map((e) => e.id),
    );
    for (const text of await rows.locator('td .user').allTextContents()) expect(text).toBe('bob');
    await page.goto(`${g.tg.url}/ui/events?status=AUTH_FAILED`);
    const failed = await g.tg.store.query({ status: 'AUTH_FAILED', limit: 50 });
    expect(await rows.count()).toBe(failed.length);
    for (const text of await rows.locator('.status').allTextContents()) expect(text).toBe('AUTH_FAILED');
  });

  it('opens an event: every field, its redactions and a verified chain mark', async () => {
    const [leak] = (await g.tg.store.query({ user: 'bob', feature: 'support-bot' })).filter(
      (e) => e.redactions.length > 0,
    );
    expect(leak).toBeDefined();
    await page.goto(`${g.tg.url}/ui/events?user=bob`);
    await page.locator(`tr[data-event-id="${leak!.id}"] td:first-child a`).click();
    await page.waitForURL(`**/ui/events/${leak!.id}`);
    await expect(page.locator('[data-verified]').getAttribute('data-verified')).resolves.toBe('true');
    expect(await page.locator('[data-field="seq"]').textContent()).toBe(String(leak!.seq));
    expect(await page.locator('[data-field]').count()).toBeGreaterThan(50);
    const types = await page
      .getByRole('table', { name: 'Redactions' })
      .locator('tbody td:first-child')
      .allTextContents();
    expect(types.sort()).toEqual(leak!.redactions.map((r) => r.type).sort());
    // The stored prompt is the redacted one: the pasted secret never reaches the page.
    expect(await page.content()).not.toContain('AKIAQ3EGRSW7NPJT6XZK');
    await shot('event');
  });

  it('cost view by session: one page of the dearest sessions, then the next pages by their link, through all of them', async () => {
    const now = Date.now();
    const all = await costReport(g.tg.rollups, {
      by: 'session',
      sinceMs: now - 3_600_000,
      untilMs: now + 60_000,
      limit: 1000,
    });
    const ids = all.rows.filter((r) => r.key !== null).map((r) => r.key);
    expect(ids.length).toBeGreaterThan(2);
    await page.goto(`${g.tg.url}/ui/cost?by=session&since=1h&limit=2`);
    await expect(page.locator('[data-pager="sessions"]').textContent()).resolves.toMatch(
      new RegExp(`Sessions 1–2 of ${ids.length} by spend`),
    );
    expect(await page.locator('[data-page="first"]').count()).toBe(0);
    const seen: string[] = [];
    for (let pages = 1; ; pages++) {
      const keys = await page.locator('table[data-table="groups"] tbody td:first-child').allTextContents();
      const sessions = keys.filter((k) => k !== '(none)');
      expect(sessions.length).toBeLessThanOrEqual(2);
      seen.push(...sessions);
      const next = page.locator('[data-page="next"]');
      if ((await next.count()) === 0) break;
      if (pages === 1) await shot('cost-sessions');
      await Promise.all([page.waitForURL(/after=/), next.click()]);
      expect(await page.locator('[data-page="first"]').count()).toBe(1);
    }
    expect(seen).toEqual(ids);
  });

  it('cost view: the spend chart and the cards total what the cost report says', async () => {
    await page.goto(`${g.tg.url}/ui/cost?by=model&since=1h`);
    const now = Date.now();
    const report = await costReport(g.tg.rollups, {
      by: 'model',
      sinceMs: now - 3_600_000,
      untilMs: now + 60_000,
    });
    expect(report.totals.cost_micro_usd).toBeGreaterThan(0);
    const chart = page.locator('figure[data-chart="spend"]');
    await expect(chart.locator('svg rect.bar').count()).resolves.toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-total'))).toBe(report.totals.cost_micro_usd);
    expect(await chart.locator('.chart-total').textContent()).toBe(usd(report.totals.cost_micro_usd));
    const tokens = page.locator('figure[data-chart="tokens"]');
    expect(Number(await tokens.getAttribute('data-total'))).toBe(
      report.totals.input_tokens + report.totals.output_tokens,
    );
    expect(await page.locator('[data-card="spend"] .value').textContent()).toBe(
      usd(report.totals.cost_micro_usd),
    );
    expect(await page.locator('[data-card="requests"] .value').textContent()).toBe(
      report.totals.requests.toLocaleString('en-US'),
    );
    const models = await page.locator('table[data-table="groups"] tbody td:first-child').allTextContents();
    expect(models).toEqual(report.rows.map((r) => r.key ?? '(none)'));
    // The injected runaway session shows as leaking.
    await expect(page.locator('table[data-table="sessions"]').textContent()).resolves.toMatch(
      /dave-runaway-tab\s*LEAKING/,
    );
    await shot('cost');
  });

  it('security view: the credential-stuffing alert with its evidence; acknowledging it is an audited action', async () => {
    await eventually(async () => (await g.tg.alerts.list({ ruleId: 'auth.repeated-failures' })).length > 0);
    await page.goto(`${g.tg.url}/ui/security?since=1h`);
    const row = page.locator('tr[data-rule="auth.repeated-failures"]').first();
    await expect(row.textContent()).resolves.toContain('OPEN');
    const alertId = (await row.getAttribute('data-alert-id'))!;
    expect(Number(await page.locator('[data-card="auth-failures"] .value').textContent())).toBe(
      (await g.tg.store.query({ status: 'AUTH_FAILED', sinceMs: Date.now() - 3_600_000 })).length,
    );
    // The provider's quota per provider key fingerprint, from the readings stored in the events.
    const quota = page.locator('table[data-table="provider-quota"] tr[data-kind="requests"]');
    await expect(quota.count()).resolves.toBeGreaterThan(0);
    const quotaKey = (await quota.first().getAttribute('data-key'))!;
    expect(quotaKey).toMatch(/^[0-9a-f]{16}$/);
    const withReadings = (await g.tg.store.query({ sinceMs: Date.now() - 3_600_000 })).filter(
      (e) => e.provider_key_id === quotaKey && e.provider_requests_remaining !== null,
    );
    expect(withReadings.length).toBeGreaterThan(0);
    const lowest = Math.min(...withReadings.map((e) => e.provider_requests_remaining!));
    const cells = await quota.first().locator('td').allTextContents();
    expect(cells[2]).toBe('requests');
    expect(cells[4]).toBe('1,000,000');
    expect(cells[7]).toBe(`${((lowest / 1_000_000) * 100).toFixed(1)}%`);
    expect(Number(cells[9]!.replace(/,/g, ''))).toBe(withReadings.length);
    await shot('security');
    await row.getByRole('button', { name: /Acknowledge/ }).click();
    await page.waitForURL('**/ui/security');
    await expect(page.locator(`tr[data-alert-id="${alertId}"]`).textContent()).resolves.toContain(
      'ACKNOWLEDGED',
    );
    expect((await g.tg.alerts.get(alertId))?.status).toBe('acknowledged');
    await g.tg.writer.drain();
    const audit = (await g.tg.store.query({ feature: 'admin' })).find(
      (e) => e.endpoint === 'admin:alerts.ack' && e.request_source === 'dashboard',
    );
    expect(audit).toMatchObject({
      status: 'SUCCESS',
      auth_result: 'SUCCESS',
      chain_id: 'dashboard-test',
      ip_address: '127.0.0.1',
    });
  });

  it('integrity view: runs verify from the button and shows the result per chain', async () => {
    await page.goto(`${g.tg.url}/ui/integrity`);
    await page.getByRole('button', { name: 'Run verify now' }).click();
    await page.waitForURL('**/ui/integrity');
    await expect(page.locator('#verify-result').getAttribute('data-ok')).resolves.toBe('true');
    await expect(page.locator('tr[data-chain="dashboard-test"]').textContent()).resolves.toContain(
      'signature valid',
    );
    // The newest checkpoint's age, and the anchors verify compared the store with.
    await expect(
      page.locator('tr[data-chain="dashboard-test"] [data-age-ms]').textContent(),
    ).resolves.toMatch(/ old$/);
    await expect(page.locator('#anchors').textContent()).resolves.toMatch(
      /Anchors:\s+\S+tollgate-anchors\/checkpoints-[0-9a-f]{12}\.jsonl — \d+ anchored checkpoint\(s\), 1 pinned key\(s\)/,
    );
    await shot('integrity');
  });

  it('integrity view: accounted gaps are listed with their range, count, reason and record', async () => {
    // A chain as the writer leaves it after losing events 4..6: 1..3 stored, the gap record at 7
    // naming 4..6 and the last lost hash, then event 8 (written straight to the store here).
    const chainer = createChainer({ chainId: 'gap-demo' });
    const events = Array.from({ length: 6 }, (_, i) => sampleEvent(i));
    for (const e of events) chainer.link(e);
    const lost = events.slice(3);
    const record = writerGapEvent(
      {
        chain_id: 'gap-demo',
        first_seq: 4,
        last_seq: 6,
        count: 3,
        reason: 'spool_full',
        at: new Date().toISOString(),
        last_hash: lost[2]!.hash!,
      },
      systemClock,
    );
    chainer.link(record);
    const after = sampleEvent(7);
    chainer.link(after);
    await g.tg.store.append([...events.slice(0, 3), record, after]);

    await page.goto(`${g.tg.url}/ui/integrity`);
    await page.getByRole('button', { name: 'Run verify now' }).click();
    await page.waitForURL('**/ui/integrity');
    await expect(page.locator('#verify-result').getAttribute('data-ok')).resolves.toBe('true');
    await expect(page.locator('#verify-result').textContent()).resolves.toMatch(
      /1 accounted gap: 3\s+events not stored/,
    );
    const chainRow = page.locator('tr[data-chain="gap-demo"]');
    await expect(chainRow.textContent()).resolves.toContain('1 accounted gap');
    // 5 events stored of 8 seqs (3 lost), not 8 events.
    await expect(chainRow.locator('td.num').first().textContent()).resolves.toMatch(/^\s*5of 8 seqs\s*$/);
    const row = page.locator('tr[data-gap="gap-demo:4"]');
    await expect(row.textContent()).resolves.toMatch(/4\.\.6.*3.*store down, spool full.*seq 7/s);
    await expect(row.locator('a').getAttribute('href')).resolves.toBe(`/ui/events/${record.id}`);
    await shot('integrity-gaps');
  });

  it('the live view refreshes itself with new events', async () => {
    await page.goto(`${g.tg.url}/ui/events?feature=admin`);
    const before = await page.locator('#events-body tr[data-event-id]').count();
    // A new admin action (a verify over the API) lands in the chain; the page picks it up.
    await fetch(`${g.tg.url}/admin/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${g.token}` },
    });
    await expect
      .poll(() => page.locator('#events-body tr[data-event-id]').count(), { timeout: 15_000, interval: 500 })
      .toBeGreaterThan(before);
  });

  it('a forged form without the CSRF token is refused and logging out ends the session', async () => {
    const res = await page.request.post(`${g.tg.url}/ui/verify`, { form: { csrf: 'forged' } });
    expect(res.status()).toBe(403);
    await page.goto(`${g.tg.url}/ui/events`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/ui/login');
    await page.goto(`${g.tg.url}/ui/cost`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    expect(pageErrors).toEqual([]);
  });
});
