import type { Attributes, Histogram } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type MetricReaderOptions,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { blankEvent, type AuditEvent, type EventStatus } from '../core/audit-event.js';
import { BoundedLabels, catalogModel } from './bounded-labels.js';
import { errorType, GENAI, operationName, type ServerAddress } from './genai-attributes.js';
import { GENAI_HISTOGRAMS, GenAiMetrics } from './genai-metrics.js';

/** A reader that collects on demand (the periodic reader does the same on its timer). */
class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

const SERVER: ServerAddress = { address: 'api.example.test', port: 443 };
const resource = resourceFromAttributes({ 'service.name': 'tollgate' });

/**
 * The per-request recording Tollgate did before GenAiMetrics: one SDK `record()` per measurement,
 * each with a freshly built attribute set. Kept here as the reference the aggregation must match.
 */
function sdkReference(
  maxModels: number,
  modelName: (m: string) => string | null,
  options?: MetricReaderOptions,
) {
  const reader = new ManualReader(options);
  const provider = new MeterProvider({ resource, readers: [reader] });
  const m = provider.getMeter('tollgate');
  const h = (k: keyof typeof GENAI_HISTOGRAMS): Histogram => {
    const d = GENAI_HISTOGRAMS[k];
    return m.createHistogram(d.name, {
      unit: d.unit,
      description: d.description,
      advice: { explicitBucketBoundaries: [...d.boundaries] },
    });
  };
  const tokens = h('tokens');
  const duration = h('duration');
  const firstChunk = h('firstChunk');
  const models = new BoundedLabels(maxModels);
  const modelLabel = (x: string | null): string => models.label(catalogModel(x, modelName));
  const operations = new BoundedLabels(16, ['chat', 'text_completion', 'embeddings']);
  const record = (e: AuditEvent): void => {
    const attrs: Attributes = {
      [GENAI.operationName]: operations.label(operationName(e)),
      [GENAI.providerName]: e.api_provider ?? 'unknown',
      [GENAI.requestModel]: modelLabel(e.model_requested),
    };
    if (e.model_used !== null) attrs[GENAI.responseModel] = modelLabel(e.model_used);
    attrs[GENAI.serverAddress] = SERVER.address;
    attrs[GENAI.serverPort] = SERVER.port;
    if (e.input_tokens !== null) tokens.record(e.input_tokens, { ...attrs, [GENAI.tokenType]: 'input' });
    if (e.output_tokens !== null) tokens.record(e.output_tokens, { ...attrs, [GENAI.tokenType]: 'output' });
    if (e.stream === true && e.time_to_first_token_ms !== null)
      firstChunk.record(e.time_to_first_token_ms / 1000, attrs);
    const err = errorType(e);
    if (e.latency_ms !== null)
      duration.record(e.latency_ms / 1000, err === null ? attrs : { ...attrs, [GENAI.errorType]: err });
  };
  return { record, reader };
}

/** Everything an exported histogram point says, keyed by metric and attribute set. */
function points(rm: ResourceMetrics): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const sm of rm.scopeMetrics)
    for (const metric of sm.metrics)
      for (const p of metric.dataPoints) {
        const attrs = Object.fromEntries(Object.entries(p.attributes).sort(([a], [b]) => a.localeCompare(b)));
        out.set(`${metric.descriptor.name} ${JSON.stringify(attrs)}`, {
          unit: metric.descriptor.unit,
          description: metric.descriptor.description,
          temporality: metric.aggregationTemporality,
          type: metric.dataPointType,
          value: p.value,
        });
      }
  return out;
}

const MODELS = ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'o3', 'made-up-1', 'made-up-2', 'claude-sonnet-4'];
const STATUSES: Array<[EventStatus, number | null, string | null]> = [
  ['SUCCESS', 200, null],
  ['SERVER_ERROR', 500, null],
  ['RATE_LIMITED', 429, null],
  ['TIMEOUT', null, 'TG_ERR_UPSTREAM_TIMEOUT'],
  ['CANCELLED', null, null],
];
const ENDPOINTS = [
  '/chat/completions',
  '/responses',
  '/embeddings',
  '/completions',
  '/images/generations',
  null,
];

/** A deterministic spread of events: models past the bound, failures, streams, missing figures. */
function events(n: number): AuditEvent[] {
  let seed = 42;
  const rnd = (k: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % k;
  };
  return Array.from({ length: n }, (_, i) => {
    const e = blankEvent({
      id: `ev-${i}`,
      timestamp: new Date(1_765_000_000_000 + i).toISOString(),
      source: 'gateway',
    });
    e.api_provider = rnd(5) === 0 ? 'anthropic' : rnd(20) === 0 ? null : 'openai';
    e.endpoint = ENDPOINTS[rnd(ENDPOINTS.length)]!;
    e.model_requested = rnd(15) === 0 ? null : MODELS[rnd(MODELS.length)]!;
    e.model_used = rnd(4) === 0 ? null : `${e.model_requested ?? 'x'}-2025`;
    const [status, http, code] = STATUSES[rnd(8) < 4 ? 0 : rnd(STATUSES.length)]!;
    e.status = status;
    e.http_status_code = http;
    e.error_code = code;
    e.stream = rnd(3) === 0 ? null : rnd(2) === 0;
    e.input_tokens = rnd(10) === 0 ? null : rnd(200_000);
    e.output_tokens = rnd(10) === 0 ? null : rnd(5_000);
    e.latency_ms = rnd(12) === 0 ? null : rnd(90_000) / 7;
    e.time_to_first_token_ms = rnd(5) === 0 ? null : rnd(12_000) / 3;
    return e;
  });
}

describe('GenAiMetrics', () => {
  it('exports exactly what per-request SDK recording exports for the same 5,000 events', async () => {
    const modelName = (m: string): string | null => (m.startsWith('made-up') ? null : m);
    const ref = sdkReference(4, modelName);
    const ours = new GenAiMetrics({ resource, server: SERVER, maxModels: 4, modelName });
    const reader = new ManualReader({ metricProducers: [ours] });
    new MeterProvider({ resource, readers: [reader] });
    const all = events(5_000);
    for (const e of all) {
      ref.record(e);
      ours.record(e);
    }
    const expected = points((await ref.reader.collect()).resourceMetrics);
    const got = points((await reader.collect()).resourceMetrics);
    expect(expected.size).toBeGreaterThan(100);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, v] of expected) expect(got.get(k), k).toEqual(v);

    // The totals add up to the per-request figures: every latency, token count and first chunk.
    const total = (metric: string): { count: number; sum: number } => {
      let count = 0;
      let sum = 0;
      for (const [k, v] of got)
        if (k.startsWith(`${metric} `)) {
          const value = (v as { value: { count: number; sum: number } }).value;
          count += value.count;
          sum += value.sum;
        }
      return { count, sum };
    };
    const withLatency = all.filter((e) => e.latency_ms !== null);
    expect(total(GENAI.metricOperationDuration).count).toBe(withLatency.length);
    expect(total(GENAI.metricOperationDuration).sum).toBeCloseTo(
      withLatency.reduce((s, e) => s + e.latency_ms! / 1000, 0),
      6,
    );
    const tokens = all.reduce((s, e) => s + (e.input_tokens ?? 0) + (e.output_tokens ?? 0), 0);
    expect(total(GENAI.metricTokenUsage).sum).toBe(tokens);
  });

  it('follows a delta temporality selector as the SDK does: each collection has only the new records', async () => {
    const modelName = (m: string): string | null => (m.startsWith('made-up') ? null : m);
    const delta = { aggregationTemporalitySelector: () => AggregationTemporality.DELTA };
    const ref = sdkReference(4, modelName, delta);
    let clock = 1_765_000_000_000;
    const ours = new GenAiMetrics({
      resource,
      server: SERVER,
      maxModels: 4,
      modelName,
      now: () => clock,
      temporality: delta.aggregationTemporalitySelector,
    });
    const reader = new ManualReader({ metricProducers: [ours] });
    new MeterProvider({ resource, readers: [reader] });
    const all = events(3_000);
    const collectBoth = async (batch: AuditEvent[]) => {
      for (const e of batch) {
        ref.record(e);
        ours.record(e);
      }
      const expected = points((await ref.reader.collect()).resourceMetrics);
      const got = (await reader.collect()).resourceMetrics;
      const gotPoints = points(got);
      expect([...gotPoints.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [k, v] of expected) expect(gotPoints.get(k), k).toEqual(v);
      return { got, size: expected.size };
    };
    const first = await collectBoth(all.slice(0, 2_000));
    expect(first.size).toBeGreaterThan(100);
    clock += 60_000; // collection 1 at t0 + 60 s
    // Collection 2 sees only its 200 events: fewer series, counts of the second batch alone.
    const second = await collectBoth(all.slice(2_000, 2_200));
    expect(second.size).toBeLessThan(first.size);
    const durations = second.got.scopeMetrics[0]!.metrics.find(
      (x) => x.descriptor.name === GENAI.metricOperationDuration,
    )!;
    expect(durations.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    const n = all.slice(2_000, 2_200).filter((e) => e.latency_ms !== null).length;
    expect(durations.dataPoints.reduce((s, p) => s + (p.value as { count: number }).count, 0)).toBe(n);
    // A point reported by collection 1 starts at collection 1 (t0); a new one at its first record.
    const starts = new Set(durations.dataPoints.map((p) => p.startTime.join(':')));
    expect(starts).toEqual(new Set(['1765000000:0']));
    for (const p of durations.dataPoints) expect(p.endTime).toEqual([1_765_000_060, 0]);
    clock += 60_000;
    // Nothing recorded: nothing exported.
    expect((await reader.collect()).resourceMetrics.scopeMetrics).toEqual([]);
    // The same series after an empty interval starts at its first new record, not at collection 1.
    clock += 5_000;
    const again = await collectBoth(all.slice(2_200, 2_201));
    const p = again.got.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
    expect(p.startTime).toEqual([1_765_000_125, 0]);
  });

  it('stays cumulative across collections by default', async () => {
    let clock = 1_765_000_000_000;
    const m = new GenAiMetrics({ resource, server: null, now: () => clock });
    const e = events(1)[0]!;
    e.status = 'SUCCESS';
    e.latency_ms = 10;
    m.record(e);
    const duration = async () =>
      (await m.collect()).resourceMetrics.scopeMetrics[0]!.metrics.find(
        (x) => x.descriptor.name === GENAI.metricOperationDuration,
      )!;
    expect((await duration()).dataPoints[0]!.value).toMatchObject({ count: 1 });
    clock += 60_000;
    m.record({ ...e, latency_ms: 20 });
    const d = await duration();
    expect(d.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(d.dataPoints[0]!.value).toMatchObject({ count: 2, sum: 0.03 });
    expect(d.dataPoints[0]!.startTime).toEqual([1_765_000_000, 0]);
  });

  it('records of one attribute set share one data point (one attribute object)', () => {
    const m = new GenAiMetrics({ resource, server: null });
    const e = events(1)[0]!;
    e.status = 'SUCCESS';
    e.latency_ms = 10;
    m.record(e);
    m.record({ ...e, latency_ms: 20 });
    return m.collect().then(({ resourceMetrics }) => {
      const duration = resourceMetrics.scopeMetrics[0]!.metrics.find(
        (x) => x.descriptor.name === GENAI.metricOperationDuration,
      )!;
      expect(duration.dataPoints).toHaveLength(1);
      const tokens = resourceMetrics.scopeMetrics[0]!.metrics.find(
        (x) => x.descriptor.name === GENAI.metricTokenUsage,
      )!;
      expect(tokens.dataPoints.map((p) => p.attributes[GENAI.tokenType]).sort()).toEqual(['input', 'output']);
      expect(duration.dataPoints[0]!.value).toMatchObject({ count: 2, sum: 0.03, min: 0.01, max: 0.02 });
    });
  });

  it('exports nothing before the first event', async () => {
    const m = new GenAiMetrics({ resource, server: SERVER });
    expect((await m.collect()).resourceMetrics.scopeMetrics).toEqual([]);
  });
});
