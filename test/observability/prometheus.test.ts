import { afterEach, describe, expect, it } from 'vitest';
import { blankEvent } from '../../src/core/audit-event.js';
import { createPrometheusMetrics, type TollgateMetrics } from '../../src/observability/prometheus.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { sendChat, TEST_KEY } from './send-chat.js';

/** One sample of the exposition text: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsed exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of one series (0 when absent, as Prometheus treats a missing counter). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  if (hits.length > 1) throw new Error(`ambiguous series ${name}`);
  return hits[0]?.value ?? 0;
}

function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

describe('GET /metrics after known traffic', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('counts requests, tokens, cost, retries, latency and TTFT exactly as the events say', async () => {
    const metrics: TollgateMetrics = createPrometheusMetrics({
      writerStats: () => h!.tg.writer.stats(),
      maxModels: 2,
    });
    h = await startHarness({
      mock: { validKeys: [TEST_KEY], chunks: 3, chunkDelayMs: 1 },
      listeners: [metrics.listener],
    });

    // 3 plain + 2 streamed successes on gpt-4.1, 1 stream on gpt-4o-mini, one 500 (retried twice),
    // one 400, one 401, and a third model that must fold into `other` (maxModels: 2).
    for (let i = 0; i < 3; i++) expect((await sendChat(h.baseURL, { model: 'gpt-4.1' })).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await sendChat(h.baseURL, { model: 'gpt-4.1', stream: true })).status).toBe(200);
    expect((await sendChat(h.baseURL, { model: 'gpt-4o-mini', stream: true })).status).toBe(200);
    expect((await sendChat(h.baseURL, { model: 'mock-error-500' })).status).toBe(500);
    expect((await sendChat(h.baseURL, { model: 'mock-bad-request' })).status).toBe(400);
    expect(
      (
        await sendChat(h.baseURL, {
          model: 'gpt-4.1',
          headers: { authorization: 'Bearer sk-wrong-key-000000000000' },
        })
      ).status,
    ).toBe(401);

    const events = await h.events();
    expect(events).toHaveLength(9);
    metrics.alertRaised('auth.repeated_failures', 'HIGH');
    metrics.alertRaised('auth.repeated_failures', 'HIGH');
    metrics.alertRaised('cost.budget', 'MEDIUM');

    const text = await metrics.text();
    // Nothing personal or secret in the exposition.
    expect(text).not.toContain(TEST_KEY);
    expect(text).not.toContain('sk-wrong-key');
    const s = parseExposition(text);

    const gpt41 = events.find((e) => e.model_requested === 'gpt-4.1' && e.status === 'SUCCESS')!.model_used!;
    const mini = events.find((e) => e.model_requested === 'gpt-4o-mini')!.model_used!;
    expect(value(s, 'tollgate_requests_total', { status: 'SUCCESS', model: gpt41 })).toBe(5);
    expect(value(s, 'tollgate_requests_total', { status: 'SUCCESS', model: mini })).toBe(1);
    // Model labels are bounded: the first two models keep theirs, the rest are `other`.
    expect(value(s, 'tollgate_requests_total', { status: 'SERVER_ERROR', model: 'other' })).toBe(1);
    expect(value(s, 'tollgate_requests_total', { status: 'CLIENT_ERROR', model: 'other' })).toBe(1);
    expect(sum(s, 'tollgate_requests_total', { status: 'AUTH_FAILED' })).toBe(1);
    expect(sum(s, 'tollgate_requests_total')).toBe(9);
    expect(
      new Set(s.filter((x) => x.name === 'tollgate_requests_total').map((x) => x.labels.model)).size,
    ).toBeLessThanOrEqual(3);

    const tokensIn = events.reduce((a, e) => a + (e.input_tokens ?? 0), 0);
    const tokensOut = events.reduce((a, e) => a + (e.output_tokens ?? 0), 0);
    expect(tokensIn).toBeGreaterThan(0);
    expect(sum(s, 'tollgate_tokens_total', { type: 'input' })).toBe(tokensIn);
    expect(sum(s, 'tollgate_tokens_total', { type: 'output' })).toBe(tokensOut);
    const cost41 = events
      .filter((e) => e.model_used === gpt41)
      .reduce((a, e) => a + (e.cost_micro_usd ?? 0), 0);
    expect(cost41).toBeGreaterThan(0);
    expect(value(s, 'tollgate_cost_micro_usd_total', { model: gpt41 })).toBe(cost41);

    // The 500 was retried twice (harness policy: 2 retries on 5xx); the mock saw every attempt.
    expect(events.find((e) => e.model_requested === 'mock-error-500')!.retry_count).toBe(2);
    expect(sum(s, 'tollgate_upstream_retries_total')).toBe(2);

    expect(sum(s, 'tollgate_request_duration_seconds_count')).toBe(9);
    expect(sum(s, 'tollgate_time_to_first_token_seconds_count')).toBe(3);
    const latencySum = events.reduce((a, e) => a + (e.latency_ms ?? 0) / 1000, 0);
    expect(sum(s, 'tollgate_request_duration_seconds_sum')).toBeCloseTo(latencySum, 9);

    expect(value(s, 'tollgate_alerts_total', { rule: 'auth.repeated_failures', severity: 'HIGH' })).toBe(2);
    expect(value(s, 'tollgate_alerts_total', { rule: 'cost.budget', severity: 'MEDIUM' })).toBe(1);

    const w = h.tg.writer.stats();
    expect(value(s, 'tollgate_events_written_total')).toBe(w.written);
    expect(w.written).toBe(9);
    expect(value(s, 'tollgate_events_spooled_total')).toBe(0);
    expect(value(s, 'tollgate_events_dropped_total')).toBe(0);
    expect(value(s, 'tollgate_writer_queue_depth')).toBe(0);
    expect(value(s, 'tollgate_store_available')).toBe(1);
  });

  it('serves the registry at GET /metrics through the gateway, and refuses other methods', async () => {
    const metrics = createPrometheusMetrics();
    h = await startHarness({ listeners: [metrics.listener], routes: [metrics.route] });
    expect((await sendChat(h.baseURL, { model: 'gpt-4.1' })).status).toBe(200);
    const origin = h.baseURL.replace(/\/v1$/, '');
    const res = await fetch(`${origin}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseExposition(await res.text());
    expect(sum(s, 'tollgate_requests_total', { status: 'SUCCESS' })).toBe(1);
    expect((await fetch(`${origin}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('labels users only when configured, and then bounded', () => {
    const off = createPrometheusMetrics();
    const on = createPrometheusMetrics({ userLabel: true, maxUsers: 2 });
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const e = blankEvent({ id: `id-${user}`, timestamp: '2026-11-26T00:00:00.000Z', source: 'gateway' });
      e.user_id = user;
      off.listener(e);
      on.listener(e);
    }
    return Promise.all([off.text(), on.text()]).then(([a, b]) => {
      expect(a).not.toContain('alice');
      const s = parseExposition(b);
      expect(value(s, 'tollgate_requests_by_user_total', { user: 'alice' })).toBe(1);
      expect(value(s, 'tollgate_requests_by_user_total', { user: 'bob' })).toBe(1);
      expect(value(s, 'tollgate_requests_by_user_total', { user: 'other' })).toBe(2);
      expect(b).not.toContain('carol');
    });
  });

  it('bounds the quota gauges’ key label: the first max_quota_keys keys keep theirs, later ones share other', async () => {
    // Passthrough mode: each client key is a provider key, so without the bound one series per key, forever.
    const m = createPrometheusMetrics({ maxQuotaKeys: 2 });
    for (let i = 0; i < 500; i++) m.providerQuota(`fp-${i}`, 'openai', 'requests', 1000 - i, 1000);
    m.providerQuota('fp-0', 'openai', 'requests', 42, 1000);
    const s = parseExposition(await m.text());
    const keys = new Set(
      s.filter((x) => x.name === 'tollgate_provider_quota_remaining').map((x) => x.labels.key),
    );
    expect([...keys].sort()).toEqual(['fp-0', 'fp-1', 'other']);
    expect(
      value(s, 'tollgate_provider_quota_remaining', { key: 'fp-0', provider: 'openai', kind: 'requests' }),
    ).toBe(42);
    // other: the latest reading of a key past the bound.
    expect(
      value(s, 'tollgate_provider_quota_remaining', { key: 'other', provider: 'openai', kind: 'requests' }),
    ).toBe(501);
    expect(
      value(s, 'tollgate_provider_quota_limit', { key: 'other', provider: 'openai', kind: 'requests' }),
    ).toBe(1000);
    // The default bound is 20.
    const d = createPrometheusMetrics();
    for (let i = 0; i < 100; i++) d.providerQuota(`fp-${i}`, 'anthropic', 'tokens', i, null);
    const ds = parseExposition(await d.text()).filter((x) => x.name === 'tollgate_provider_quota_remaining');
    expect(ds).toHaveLength(21);
  });

  it('with a catalog, a model label is a catalog name or other, never what a client sent', async () => {
    const { loadPriceCatalog } = await import('../../src/pricing/catalog.js');
    const catalog = loadPriceCatalog();
    const m = createPrometheusMetrics({
      modelName: (name) => catalog.resolve(name, Number.MAX_SAFE_INTEGER)?.model ?? null,
    });
    const secretish = 'sk-proj-' + 'Zq3'.repeat(20);
    for (const model of ['gpt-4o-mini', secretish, 'x'.repeat(500), 'gpt-4o-mini-2024-07-18', null]) {
      const e = blankEvent({ id: 'e', timestamp: new Date(0).toISOString(), source: 'gateway' });
      e.status = 'SUCCESS';
      e.model_requested = model;
      m.listener(e);
    }
    const text = await m.text();
    expect(text).not.toContain('Zq3Zq3');
    expect(text).not.toContain('xxxxxxxx');
    const samples = parseExposition(text);
    expect(value(samples, 'tollgate_requests_total', { status: 'SUCCESS', model: 'gpt-4o-mini' })).toBe(2);
    expect(value(samples, 'tollgate_requests_total', { status: 'SUCCESS', model: 'other' })).toBe(2);
    expect(value(samples, 'tollgate_requests_total', { status: 'SUCCESS', model: 'unknown' })).toBe(1);
  });

  it('a listener never throws, even on a malformed event', () => {
    const m = createPrometheusMetrics();
    expect(() => m.listener({} as never)).not.toThrow();
  });

  it('two instances in one process keep separate registries', async () => {
    const a = createPrometheusMetrics();
    const b = createPrometheusMetrics();
    a.listener(blankEvent({ id: 'x', timestamp: '2026-11-26T00:00:00.000Z', source: 'sdk' }));
    expect(sum(parseExposition(await a.text()), 'tollgate_requests_total')).toBe(1);
    expect(sum(parseExposition(await b.text()), 'tollgate_requests_total')).toBe(0);
  });
});
