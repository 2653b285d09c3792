import { afterEach, describe, expect, it } from 'vitest';
import type { TraceContext } from '../../src/capture/trace-context.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { createOtelExport, type OtelConfig, type OtelExport } from '../../src/observability/otel.js';
import { createRedactor } from '../../src/redaction/redactor.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { OtlpReceiver, type ReceivedPoint, type ReceivedSpan } from './otlp-receiver.js';
import { sendChat, TEST_KEY } from './send-chat.js';

// A realistic project key planted in the prompt: it must be redacted before anything is exported.
const PLANTED = 'sk-proj-Zq8Lm2Nv4Tb6Xw1Rc3Yd5Hf7Kj9Pa0Ge2Us4Io6By8Ct1Dr3Fs5';
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('OTLP export to a real receiver on loopback', () => {
  let h: Harness | undefined;
  let otel: OtelExport | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await otel?.shutdown();
    await h?.close();
    await receiver?.close();
    h = undefined;
    otel = undefined;
    receiver = undefined;
  });

  async function start(
    captureContent: boolean,
    extra: Partial<OtelConfig> = {},
  ): Promise<{ h: Harness; otel: OtelExport; receiver: OtlpReceiver }> {
    const r = new OtlpReceiver();
    const endpoint = await r.listen();
    // The listener is handed to the gateway before the exporter knows the mock's URL.
    const box: { otel?: OtelExport } = {};
    const forward = (e: AuditEvent, caller?: TraceContext | null): void => box.otel?.listener(e, caller);
    const started = await startHarness({
      mock: { validKeys: [TEST_KEY], chunks: 4, chunkDelayMs: 2 },
      redactor: createRedactor({ mode: 'redacted', detectors: {} }),
      listeners: [forward],
    });
    const o = createOtelExport({
      endpoint,
      upstreamUrl: started.mock.baseUrl,
      instanceId: 'test-instance',
      captureContent,
      ...extra,
      scheduleDelayMs: 60_000,
      metricIntervalMs: 60_000,
    });
    box.otel = o;
    h = started;
    otel = o;
    receiver = r;
    return { h: started, otel: o, receiver: r };
  }

  const point = (points: ReceivedPoint[], metric: string, attrs: Record<string, unknown>): ReceivedPoint[] =>
    points.filter(
      (p) => p.metric === metric && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
    );

  it('exports GenAI spans and metrics for a streamed and a failed request, continuing the caller trace, with no secret in the bytes', async () => {
    const { h, otel, receiver } = await start(true);
    const streamed = await sendChat(h.baseURL, {
      model: 'gpt-4.1',
      stream: true,
      prompt: `please rotate my key ${PLANTED} today`,
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    expect(streamed.status).toBe(200);
    const failed = await sendChat(h.baseURL, { model: 'mock-error-500', prompt: `again ${PLANTED}` });
    expect(failed.status).toBe(500);
    const events = await h.events();
    const se = events.find((e) => e.id === streamed.eventId)!;
    const fe = events.find((e) => e.id === failed.eventId)!;
    expect(se.stream).toBe(true);
    expect(se.prompt).toContain('[REDACTED:openai_key]');

    await otel.forceFlush();
    expect([...receiver.contentTypes]).toEqual(['application/x-protobuf']);
    expect(receiver.spans).toHaveLength(2);
    const port = Number(new URL(h.mock.baseUrl).port);

    // The streamed request: a child of the caller's span, ids and timing from the event.
    const s = receiver.spans.find((x) => x.attributes['tollgate.event.id'] === se.id) as ReceivedSpan;
    expect(s.name).toBe('chat gpt-4.1');
    expect(s.kind).toBe(3); // SPAN_KIND_CLIENT
    expect(s.traceId).toBe(CALLER_TRACE);
    expect(s.parentSpanId).toBe(CALLER_SPAN);
    expect(s.spanId).toBe(se.span_id);
    expect(s.startMs).toBeCloseTo(Date.parse(se.timestamp), 3);
    expect(s.endMs - s.startMs).toBeCloseTo(se.latency_ms!, 2);
    expect(s.status.code).toBe(0);
    expect(s.resource['service.name']).toBe('tollgate');
    expect(s.resource['service.instance.id']).toBe('test-instance');
    expect(s.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4.1',
      'gen_ai.response.model': se.model_used,
      'gen_ai.usage.input_tokens': se.input_tokens,
      'gen_ai.usage.output_tokens': se.output_tokens,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.response.time_to_first_chunk': se.time_to_first_token_ms! / 1000,
      'server.address': '127.0.0.1',
      'server.port': port,
      'tollgate.status': 'SUCCESS',
      'tollgate.stream': true,
      'tollgate.cost_micro_usd': se.cost_micro_usd,
      'tollgate.redactions': se.redactions.map((r) => `${r.type}:${r.count}`),
    });
    expect(s.attributes['error.type']).toBeUndefined();
    // Content is exported because it was enabled, and it is the stored, redacted form.
    expect(String(s.attributes['gen_ai.input.messages'])).toContain('[REDACTED:openai_key]');
    expect(JSON.parse(String(s.attributes['gen_ai.input.messages']))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: se.prompt }] },
    ]);
    expect(s.attributes['gen_ai.output.messages']).toBeDefined();

    // The failed request: a root span whose trace id is the event id, marked as an error.
    const f = receiver.spans.find((x) => x.attributes['tollgate.event.id'] === fe.id) as ReceivedSpan;
    expect(f.name).toBe('chat mock-error-500');
    expect(f.traceId).toBe(fe.id.replace(/-/g, ''));
    expect(f.parentSpanId).toBe('');
    expect(f.spanId).toBe(fe.span_id);
    expect(f.status.code).toBe(2); // STATUS_CODE_ERROR
    expect(f.attributes).toMatchObject({
      'error.type': '500',
      'http.response.status_code': 500,
      'tollgate.status': 'SERVER_ERROR',
      'tollgate.retry_count': 2,
      'gen_ai.request.model': 'mock-error-500',
    });

    // Metrics: token usage by type, durations (with error.type on the failure), time to first chunk.
    const p = receiver.points;
    const base = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'server.address': '127.0.0.1',
      'server.port': port,
    };
    const inUse = point(p, 'gen_ai.client.token.usage', {
      ...base,
      'gen_ai.request.model': 'gpt-4.1',
      'gen_ai.token.type': 'input',
    });
    const outUse = point(p, 'gen_ai.client.token.usage', {
      ...base,
      'gen_ai.request.model': 'gpt-4.1',
      'gen_ai.token.type': 'output',
    });
    expect(inUse).toHaveLength(1);
    expect(inUse[0]).toMatchObject({ unit: '{token}', count: 1, sum: se.input_tokens });
    expect(outUse[0]).toMatchObject({ count: 1, sum: se.output_tokens });
    expect(inUse[0]!.attributes['gen_ai.response.model']).toBe(se.model_used);
    const okDuration = point(p, 'gen_ai.client.operation.duration', {
      ...base,
      'gen_ai.request.model': 'gpt-4.1',
    });
    expect(okDuration).toHaveLength(1);
    expect(okDuration[0]).toMatchObject({ unit: 's', count: 1 });
    expect(okDuration[0]!.sum).toBeCloseTo(se.latency_ms! / 1000, 6);
    expect(okDuration[0]!.attributes['error.type']).toBeUndefined();
    const badDuration = point(p, 'gen_ai.client.operation.duration', {
      ...base,
      'gen_ai.request.model': 'mock-error-500',
      'error.type': '500',
    });
    expect(badDuration).toHaveLength(1);
    expect(badDuration[0]!.count).toBe(1);
    const ttfc = point(p, 'gen_ai.client.operation.time_to_first_chunk', {});
    expect(ttfc).toHaveLength(1);
    expect(ttfc[0]).toMatchObject({ unit: 's', count: 1 });
    expect(ttfc[0]!.sum).toBeCloseTo(se.time_to_first_token_ms! / 1000, 6);

    // The planted secret and the client's key appear nowhere in what left the process.
    const bytes = receiver.allBytes();
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(PLANTED))).toBe(false);
    expect(bytes.includes(Buffer.from(PLANTED.slice(8, 40)))).toBe(false);
    expect(bytes.includes(Buffer.from(TEST_KEY.slice(8)))).toBe(false);
    expect(bytes.includes(Buffer.from('[REDACTED:openai_key]'))).toBe(true);
  });

  it('metric model attributes are catalog names or `other`: a client-chosen model never becomes one', async () => {
    const catalog = (m: string): string | null => (m.startsWith('gpt-4.1') ? 'gpt-4.1' : null);
    const { h, otel, receiver } = await start(false, { modelName: catalog });
    for (const model of ['gpt-4.1', 'gpt-4.1-2025-04-14', 'made-up-model-7f3a9c', 'another-one-b81e'])
      expect((await sendChat(h.baseURL, { model, prompt: 'hi' })).status).toBe(200);
    await otel.forceFlush();
    const requested = new Set(
      receiver.points
        .filter((p) => p.metric === 'gen_ai.client.operation.duration')
        .map((p) => p.attributes['gen_ai.request.model']),
    );
    expect([...requested].sort()).toEqual(['gpt-4.1', 'other']);
    // Spans still name the model the client asked for (cleaned): they are one per event, not a series.
    expect(receiver.spans.map((x) => x.attributes['gen_ai.request.model'])).toContain('made-up-model-7f3a9c');
  });

  it('a trace sampler keeps its share of spans, decided before the span is built; metrics count every event', async () => {
    const { h, otel, receiver } = await start(false, { sampling: { ratio: 0.5, parentBased: true } });
    const sent = [];
    for (let i = 0; i < 40; i++) sent.push(await sendChat(h.baseURL, { model: 'gpt-4.1', prompt: 'hi' }));
    // A caller that did not sample its trace is followed (parent-based), whatever the ratio.
    const unsampled = '0'.repeat(31) + '1';
    await sendChat(h.baseURL, {
      model: 'gpt-4.1',
      prompt: 'hi',
      headers: { traceparent: `00-${unsampled}-${CALLER_SPAN}-00` },
    });
    await otel.forceFlush();
    const kept = receiver.spans.length;
    expect(kept).toBeGreaterThan(5);
    expect(kept).toBeLessThan(35);
    expect(receiver.spans.some((x) => x.traceId === unsampled)).toBe(false);
    const durations = receiver.points.filter((p) => p.metric === 'gen_ai.client.operation.duration');
    expect(durations.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(41);
    expect(sent.every((r) => r.status === 200)).toBe(true);
  });

  it('exports no content attributes unless enabled', async () => {
    const { h, otel, receiver } = await start(false);
    expect((await sendChat(h.baseURL, { model: 'gpt-4.1', prompt: 'a quiet prompt about tea' })).status).toBe(
      200,
    );
    await h.events();
    await otel.forceFlush();
    expect(receiver.spans).toHaveLength(1);
    expect(receiver.spans[0]!.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(receiver.spans[0]!.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(receiver.allBytes().includes(Buffer.from('quiet prompt'))).toBe(false);
  });

  it('never exports full (unredacted) content even when content attributes are on', async () => {
    const r = new OtlpReceiver();
    receiver = r;
    otel = createOtelExport({
      endpoint: await r.listen(),
      captureContent: true,
      scheduleDelayMs: 60_000,
      metrics: false,
    });
    h = await startHarness({ listeners: [otel.listener] }); // the harness stores content as sent (content_mode full)
    expect((await sendChat(h.baseURL, { model: 'gpt-4.1', prompt: `raw ${PLANTED}` })).status).toBe(200);
    const [e] = await h.events();
    expect(e!.content_mode).toBe('full');
    await otel.forceFlush();
    expect(r.spans).toHaveLength(1);
    expect(r.spans[0]!.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(r.allBytes().includes(Buffer.from(PLANTED))).toBe(false);
  });

  it('a listener never throws and an unreachable collector does not break requests', async () => {
    otel = createOtelExport({
      endpoint: 'http://127.0.0.1:9',
      scheduleDelayMs: 10,
      metricIntervalMs: 60_000,
      timeoutMs: 200,
    });
    expect(() => otel!.listener({} as AuditEvent)).not.toThrow();
    h = await startHarness({ listeners: [otel.listener] });
    expect((await sendChat(h.baseURL, { model: 'gpt-4.1' })).status).toBe(200);
    await expect(otel.forceFlush()).resolves.toBeUndefined();
    expect(await h.events()).toHaveLength(1);
  });
});
