import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { TollgateError } from '../../src/core/errors.js';
import { costReport } from '../../src/reports/cost-report.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { eventually } from '../support/gateway-harness.js';
import { startSeededGateway, type SeededGateway } from '../dashboard/seeded-gateway.js';

let g: SeededGateway;

async function admin(
  path: string,
  init: { method?: string; token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  const token = init.token === undefined ? g.token : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${g.tg.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers,
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    text,
  };
}

/** Admin action events recorded in the store (after the writer drained). */
async function adminEvents(action: string): Promise<AuditEvent[]> {
  await g.tg.writer.drain();
  return (await g.tg.store.query({ feature: 'admin', order: 'asc' })).filter((e) => e.endpoint === action);
}

beforeAll(async () => {
  g = await startSeededGateway();
}, 60_000);
afterAll(async () => {
  await g?.close();
});

describe('admin API', () => {
  it('refuses a missing or wrong token with 401 TG_ERR_ADMIN_UNAUTHORIZED and records each refusal', async () => {
    const before = (await adminEvents('admin:auth')).length;
    const missing = await admin('/admin/whoami', { token: null });
    expect(missing.status).toBe(401);
    expect((missing.json.error as { code: string }).code).toBe('TG_ERR_ADMIN_UNAUTHORIZED');
    const wrong = await admin('/admin/whoami', { token: 'tga-not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('tga-not-the-token');
    // Refusals are counted per address and minute, and recorded as one event with the count.
    g.tg.admin.console.unauthenticated.flush();
    const recorded = (await adminEvents('admin:auth')).slice(before);
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    expect(
      recorded.reduce((n, e) => n + Number(/^(\d+) unauthenticated/.exec(e.error_message!)![1]), 0),
    ).toBe(2);
    for (const e of recorded) {
      expect(e.status).toBe('AUTH_FAILED');
      expect(e.error_code).toBe('TG_ERR_ADMIN_UNAUTHORIZED');
      expect(e.chain_id).toBe('dashboard-test');
      expect(e.ip_address).toBe('127.0.0.1');
      expect(JSON.stringify(e)).not.toContain(g.token);
    }
  });

  it('sets the security headers on every response', async () => {
    const r = await admin('/admin/whoami');
    expect(r.status).toBe(200);
    expect(r.json.auth).toBe('token');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('lists events with the tollgate events filters and pages without repeats or gaps', async () => {
    const all = await g.tg.store.query({ user: 'alice', order: 'desc' });
    expect(all.length).toBeGreaterThan(5);
    const seen: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 50; i++) {
      const r = await admin(`/admin/events?user=alice&limit=4${before ? `&before=${before}` : ''}`);
      expect(r.status).toBe(200);
      const page = r.json as { events: AuditEvent[]; next_before: string | null };
      for (const e of page.events) expect(e.user_id).toBe('alice');
      seen.push(...page.events.map((e) => e.id));
      before = page.next_before;
      if (!before) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(all.map((e) => e.id)));
    const failed = await admin('/admin/events?status=auth_failed&limit=500');
    expect((failed.json.events as AuditEvent[]).every((e) => e.status === 'AUTH_FAILED')).toBe(true);
    const bad = await admin('/admin/events?status=NOPE');
    expect(bad.status).toBe(400);
    expect((bad.json.error as { code: string }).code).toBe('TG_ERR_ADMIN_BAD_REQUEST');
  });

  it('shows one event with its chain position verified, and an inclusion proof on request', async () => {
    const [e] = await g.tg.store.query({ feature: 'chat', limit: 1, order: 'asc' });
    const r = await admin(`/admin/events/${e!.id}?proof=1`);
    expect(r.status).toBe(200);
    const d = r.json as {
      event: AuditEvent;
      chain: { verified: boolean; hash_ok: boolean; link_ok: boolean; seq: number };
      proof: { document: { event_id: string } | null };
    };
    expect(d.event.id).toBe(e!.id);
    expect(d.chain).toMatchObject({ verified: true, hash_ok: true, link_ok: true, seq: e!.seq });
    expect(d.proof.document?.event_id).toBe(e!.id);
    expect((await admin('/admin/events/nope')).status).toBe(404);
  });

  it('tampering with a stored event makes its detail unverified', async () => {
    const [e] = await g.tg.store.query({ feature: 'search', limit: 1, order: 'asc' });
    // An attacker with access to the file: a second connection, outside the gateway.
    const file = openSqlite(g.tg.config.db);
    file.prepare('UPDATE events SET total_tokens = total_tokens + 1 WHERE id = ?').run(e!.id);
    try {
      const d = (await admin(`/admin/events/${e!.id}`)).json as {
        chain: { verified: boolean; hash_ok: boolean };
      };
      expect(d.chain.verified).toBe(false);
      expect(d.chain.hash_ok).toBe(false);
    } finally {
      file.prepare('UPDATE events SET total_tokens = total_tokens - 1 WHERE id = ?').run(e!.id);
      file.close();
    }
  });

  it('cost report equals the CLI report from the same rollups', async () => {
    const r = await admin('/admin/reports/cost?by=model&since=1h');
    expect(r.status).toBe(200);
    const report = (r.json as { report: { totals: { cost_micro_usd: number; requests: number } } }).report;
    const now = Date.now();
    const cli = await costReport(g.tg.rollups, {
      by: 'model',
      sinceMs: now - 3_600_000,
      untilMs: now + 60_000,
    });
    expect(report.totals).toEqual(cli.totals);
    // Every stored request is in the report; administrative actions are stored but not rolled up.
    const stored = await g.tg.store.query({ sinceMs: now - 3_600_000, limit: 100_000 });
    expect(stored.some((e) => e.http_method === 'ADMIN')).toBe(true);
    expect(report.totals.requests).toBe(stored.filter((e) => e.http_method !== 'ADMIN').length);
    const overTime = (r.json as { over_time: { cost_micro_usd: number }[] }).over_time;
    expect(overTime.reduce((s, p) => s + p.cost_micro_usd, 0)).toBe(cli.totals.cost_micro_usd);
  });

  it('cost by session: pages of `limit` sessions by spend through `after`, the window totals on each, 400 for a bad limit or cursor', async () => {
    type Report = {
      rows: { key: string | null; cost_micro_usd: number }[];
      totals: unknown;
      sessions: { total: number; offset: number; limit: number; next_cursor: string | null };
    };
    const all = (await admin('/admin/reports/cost?by=session&since=1h&limit=1000')).json.report as Report;
    const ids = all.rows.filter((r) => r.key !== null).map((r) => r.key);
    expect(ids.length).toBeGreaterThan(2);
    expect(all.sessions).toMatchObject({ total: ids.length, next_cursor: null });
    const byDefault = (await admin('/admin/reports/cost?by=session&since=1h')).json.report as Report;
    expect(byDefault.sessions.limit).toBe(100);
    const seen: (string | null)[] = [];
    let path = '/admin/reports/cost?by=session&since=1h&limit=2';
    for (;;) {
      const r = await admin(path);
      expect(r.status).toBe(200);
      const report = r.json.report as Report;
      expect(report.totals).toEqual(all.totals);
      expect(report.sessions.offset).toBe(seen.length);
      const keys = report.rows.filter((x) => x.key !== null).map((x) => x.key);
      expect(keys.length).toBeLessThanOrEqual(2);
      seen.push(...keys);
      if (!report.sessions.next_cursor) break;
      path = `/admin/reports/cost?by=session&since=1h&limit=2&after=${encodeURIComponent(report.sessions.next_cursor)}`;
    }
    expect(seen).toEqual(ids);
    for (const bad of ['limit=0', 'limit=1001', 'limit=ten', 'after=%21%21', 'after=e30']) {
      const r = await admin(`/admin/reports/cost?by=session&since=1h&${bad}`);
      expect(r.status, bad).toBe(400);
      expect((r.json.error as { code: string }).code).toBe('TG_ERR_ADMIN_BAD_REQUEST');
    }
  });

  it('security summary counts the credential-stuffing failures by IP and the redaction hits by type', async () => {
    const r = await admin('/admin/reports/security?since=1h');
    const s = r.json as {
      auth_failures: { total: number; by_ip: { ip: string; failures: number; distinct_keys: number }[] };
      redactions: { hits: { type: string; hits: number }[] };
    };
    const expected = (await g.tg.store.query({ status: 'AUTH_FAILED', sinceMs: Date.now() - 3_600_000 }))
      .length;
    expect(expected).toBeGreaterThanOrEqual(8);
    expect(s.auth_failures.total).toBe(expected);
    expect(s.auth_failures.by_ip[0]).toMatchObject({ ip: '127.0.0.1' });
    const hits = new Map<string, number>();
    for (const e of await g.tg.store.query({ sinceMs: Date.now() - 3_600_000 }))
      for (const x of e.redactions) hits.set(x.type, (hits.get(x.type) ?? 0) + x.count);
    expect(hits.size).toBeGreaterThan(0);
    expect(new Map(s.redactions.hits.map((h) => [h.type, h.hits]))).toEqual(hits);
  });

  it('acknowledges an alert as an audited admin action', async () => {
    const alerts = await eventually(async () => {
      const list = (await admin('/admin/alerts?status=open')).json.alerts as {
        id: string;
        rule_id: string;
      }[];
      return list.length > 0 ? list : null;
    });
    const target = alerts[0]!;
    const r = await admin(`/admin/alerts/${target.id}/ack`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: target.id, status: 'acknowledged', acknowledged_by: 'admin-api' });
    const recorded = (await adminEvents('admin:alerts.ack')).find(
      (e) => e.request_source === 'admin-api' && e.auth_result === 'SUCCESS',
    );
    expect(recorded).toBeDefined();
    expect((await admin('/admin/alerts/nope/ack', { method: 'POST' })).status).toBe(404);
  });

  it('creates a key (shown once), lists it without its hash, revokes it — each recorded', async () => {
    const created = await admin('/admin/keys', {
      method: 'POST',
      body: { name: 'ci bot', budget_usd: 5, period: 'day', models: ['gpt-4.1'] },
    });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    expect(key).toMatch(/^tg-/);
    const list = await admin('/admin/keys');
    expect(list.text).not.toContain(key);
    expect(list.text).not.toContain('keyHash');
    const id = created.json.id as string;
    expect((list.json.keys as { id: string; status: string }[]).find((k) => k.id === id)?.status).toBe(
      'active',
    );
    expect((await admin(`/admin/keys/${id}/revoke`, { method: 'POST' })).status).toBe(200);
    expect(
      ((await admin('/admin/keys')).json.keys as { id: string; status: string }[]).find((k) => k.id === id)
        ?.status,
    ).toBe('revoked');
    const events = [...(await adminEvents('admin:keys.create')), ...(await adminEvents('admin:keys.revoke'))];
    expect(events.map((e) => e.virtual_key_id)).toEqual([id, id]);
    for (const e of events) expect(JSON.stringify(e)).not.toContain(key);
    expect((await admin('/admin/keys', { method: 'POST', body: { rpm: 3 } })).status).toBe(400);
  });

  it('updates a key in place with PATCH (null clears), refuses bad bodies and revoked keys, each recorded', async () => {
    const created = await admin('/admin/keys', {
      method: 'POST',
      body: { name: 'svc', rpm: 10, budget_usd: 1 },
    });
    const id = created.json.id as string;
    const patched = await admin(`/admin/keys/${id}`, {
      method: 'PATCH',
      body: {
        rpm: null,
        tpm: 900,
        budget_usd: 2.5,
        period: 'day',
        models: ['gpt-4.1', 'gpt-4o'],
        user: 'ana',
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      id,
      rpm: null,
      tpm: 900,
      budget_micro_usd: 2_500_000,
      budget_period: 'day',
      user: 'ana',
      status: 'active',
    });
    expect(patched.text).not.toContain(created.json.key as string);
    const listed = (await admin('/admin/keys')).json.keys as Array<Record<string, unknown>>;
    expect(listed.find((k) => k.id === id)).toMatchObject({
      rpm: null,
      tpm: 900,
      models: ['gpt-4.1', 'gpt-4o'],
    });

    for (const body of [
      {},
      { rpm: 0 },
      { budget_usd: 'lots' },
      { period: 'week' },
      { nmae: 'typo' },
      { expires: '2020-01-01' },
    ])
      expect((await admin(`/admin/keys/${id}`, { method: 'PATCH', body })).status, JSON.stringify(body)).toBe(
        400,
      );
    expect((await admin('/admin/keys/vk_nope', { method: 'PATCH', body: { rpm: 1 } })).status).toBe(404);
    expect((await admin(`/admin/keys/${id}/revoke`, { method: 'POST' })).status).toBe(200);
    const late = await admin(`/admin/keys/${id}`, { method: 'PATCH', body: { rpm: 1 } });
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ error: { code: 'TG_ERR_ADMIN_CONFLICT' } });

    const events = await adminEvents('admin:keys.update');
    expect(events.map((e) => [e.virtual_key_id, e.error_code])).toEqual([
      [id, null],
      ...Array.from({ length: 6 }, () => [id, 'TG_ERR_ADMIN_BAD_REQUEST']),
      ['vk_nope', 'TG_ERR_ADMIN_NOT_FOUND'],
      [id, 'TG_ERR_ADMIN_CONFLICT'],
    ]);
  });

  it('runs verify on demand, remembers the result and records the run', async () => {
    const r = await admin('/admin/verify', { method: 'POST' });
    expect(r.status).toBe(200);
    expect((r.json as { report: { ok: boolean } }).report.ok).toBe(true);
    const status = (await admin('/admin/integrity')).json as {
      chains: { chain_id: string; last_checkpoint: { signature_ok: boolean } | null }[];
      last_verify: { report: { ok: boolean } } | null;
    };
    expect(status.last_verify?.report.ok).toBe(true);
    expect(status.chains.find((c) => c.chain_id === 'dashboard-test')?.last_checkpoint?.signature_ok).toBe(
      true,
    );
    expect((await adminEvents('admin:verify')).at(-1)?.status).toBe('SUCCESS');
  });

  it('answers 202 for a verify still running after `wait` seconds; the run goes on and is recorded', async () => {
    const runs = (await adminEvents('admin:verify')).length;
    const r = await admin('/admin/verify?wait=0', { method: 'POST' });
    expect(r.status).toBe(202);
    expect(r.headers.location).toBe('/admin/integrity');
    expect(r.json).toEqual({ verify_running: true, status: '/admin/integrity', waited_ms: 0 });
    // The run ends on its own: its result is the integrity status's, and its audit event is stored.
    const done = await eventually(async () => {
      const s = (await admin('/admin/integrity')).json as {
        verify_running: boolean;
        last_verify: { report: { ok: boolean } } | null;
      };
      return !s.verify_running && (await adminEvents('admin:verify')).length === runs + 1 ? s : null;
    });
    expect(done.last_verify?.report.ok).toBe(true);
    expect((await adminEvents('admin:verify')).at(-1)?.status).toBe('SUCCESS');
    // A short store answers within the default wait, with the report.
    const waited = await admin('/admin/verify?wait=30', { method: 'POST' });
    expect(waited.status).toBe(200);
    expect((waited.json as { report: { ok: boolean } }).report.ok).toBe(true);
  });

  it('refuses a bad verify `wait` and records a verify that fails', async () => {
    for (const bad of ['abc', '-1', '3601', '1.5', '00000'])
      expect(await admin(`/admin/verify?wait=${bad}`, { method: 'POST' })).toMatchObject({
        status: 400,
        json: { error: { code: 'TG_ERR_ADMIN_BAD_REQUEST' } },
      });
    const integrity = g.tg.admin.console.integrity;
    const real = integrity.verify.bind(integrity);
    integrity.verify = () => Promise.reject(new TollgateError('TG_ERR_STORE_UNAVAILABLE'));
    try {
      const r = await admin('/admin/verify', { method: 'POST' });
      expect(r.status).toBeGreaterThanOrEqual(500);
    } finally {
      integrity.verify = real;
    }
    const failed = (await adminEvents('admin:verify')).at(-1);
    // The admin was authenticated: a failure of the store is a server error, not an auth failure.
    expect(failed).toMatchObject({
      error_code: 'TG_ERR_STORE_UNAVAILABLE',
      status: 'SERVER_ERROR',
      auth_result: 'SUCCESS',
    });
  });

  it('refuses a session-authenticated change without the CSRF token', async () => {
    const session = g.tg.admin.console.sessions.create();
    const cookie = `tg_session=${session.id}`;
    const who = await admin('/admin/whoami', { token: null, headers: { cookie } });
    expect(who.json).toMatchObject({ auth: 'session', csrf_token: session.csrf });
    const refused = await admin('/admin/verify', { method: 'POST', token: null, headers: { cookie } });
    expect(refused.status).toBe(403);
    expect((refused.json.error as { code: string }).code).toBe('TG_ERR_ADMIN_CSRF');
    const wrongOrigin = await admin('/admin/verify', {
      method: 'POST',
      token: null,
      headers: { cookie, 'x-csrf-token': session.csrf, origin: 'http://evil.example' },
    });
    expect(wrongOrigin.status).toBe(403);
    const ok = await admin('/admin/verify', {
      method: 'POST',
      token: null,
      headers: { cookie, 'x-csrf-token': session.csrf },
    });
    expect(ok.status).toBe(200);
  });
});

describe('admin API: investigation', () => {
  it('search, a session timeline and an alert subject’s activity, as the dashboard shows them', async () => {
    const search = await admin('/admin/search?q=aws_access_key&since=1h');
    expect(search.status).toBe(200);
    const found = search.json.events as AuditEvent[];
    expect(found.length).toBeGreaterThan(0);
    for (const e of found) expect(e.prompt).toContain('[REDACTED:aws_access_key]');
    expect(search.text).not.toContain('AKIAQ3EGRSW7NPJT6XZK');
    expect((await admin('/admin/search?q=x&limit=0')).json).toMatchObject({
      error: { code: 'TG_ERR_ADMIN_BAD_REQUEST' },
    });

    const session = await admin('/admin/sessions/dave-runaway-tab');
    expect(session.status).toBe(200);
    const events = session.json.events as AuditEvent[];
    const costSoFar = session.json.costSoFar as number[];
    expect(events.map((e) => e.id)).toEqual(
      (await g.tg.store.query({ session: 'dave-runaway-tab', order: 'asc' })).map((e) => e.id),
    );
    expect(costSoFar[costSoFar.length - 1]).toBe(events.reduce((s, e) => s + (e.cost_micro_usd ?? 0), 0));
    expect((session.json.alerts as Array<{ rule_id: string }>).map((a) => a.rule_id)).toContain(
      'session.context-growth',
    );

    const [stuffing] = await g.tg.alerts.list({ ruleId: 'auth.repeated-failures' });
    const activity = await admin(`/admin/activity?alert=${stuffing!.id}`);
    expect(activity.status).toBe(200);
    expect(activity.json.subject).toEqual(stuffing!.subject);
    // The keys of the incident are the distinct keys of its evidence events.
    const evidence = await Promise.all(stuffing!.evidence.event_ids.map((id) => g.tg.store.get(id)));
    const keys = new Set(evidence.map((e) => e?.api_key_id).filter((k): k is string => !!k));
    const related = activity.json.related as Array<{ subject: { kind: string; value: string } }>;
    const relatedKeys = related.filter((r) => r.subject.kind === 'api_key').map((r) => r.subject.value);
    // Every key of the evidence (and possibly keys of other alerts in the window).
    expect(relatedKeys).toEqual(expect.arrayContaining([...keys]));
    expect(keys.size).toBeGreaterThan(0);
    expect((await admin('/admin/activity?kind=nope&value=x')).status).toBe(400);
  });
});
