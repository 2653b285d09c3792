import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type AggregationTemporalitySelector,
  type CollectionResult,
  type HistogramMetricData,
  type MetricDescriptor,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { AuditEvent } from '../core/audit-event.js';
import { BoundedLabels, catalogModel } from './bounded-labels.js';
import { errorType, GENAI, operationName, type ServerAddress } from './genai-attributes.js';

// GenAI conventions, "ExplicitBucketBoundaries" advice for each histogram.
export const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
export const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
export const CHUNK_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The three GenAI client histograms: name, unit and description as the conventions give them. */
export const GENAI_HISTOGRAMS = {
  tokens: {
    name: GENAI.metricTokenUsage,
    unit: '{token}',
    description: 'Number of input and output tokens used.',
    boundaries: TOKEN_BUCKETS,
  },
  duration: {
    name: GENAI.metricOperationDuration,
    unit: 's',
    description: 'GenAI operation duration.',
    boundaries: DURATION_BUCKETS,
  },
  firstChunk: {
    name: GENAI.metricTimeToFirstChunk,
    unit: 's',
    description: 'Time to receive the first chunk of a streamed response.',
    boundaries: CHUNK_BUCKETS,
  },
} as const;

type HistogramName = keyof typeof GENAI_HISTOGRAMS;

/**
 * One explicit-bucket histogram data point, recorded as the SDK's own aggregator does
 * (`HistogramAccumulation.record`: NaN ignored; bucket i holds values in (b[i-1], b[i]]).
 * Cumulative: it only grows. Delta: `reset` after each collection that reported it.
 */
class HistogramPoint {
  readonly counts: number[];
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Start of the reported interval: first record, or (delta) the collection that last reported it. */
  startTime: HrTime;
  /** Delta: whether the previous collection reported this point. */
  reported = false;

  constructor(
    readonly attributes: Attributes,
    private readonly now: () => number,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
    this.startTime = hrTime(now());
  }

  record(value: number): void {
    if (Number.isNaN(value)) return;
    // Delta, first record since a collection that did not report this point: the SDK starts the
    // interval at that record (once per point and interval, not per record).
    if (this.count === 0 && !this.reported) this.startTime = hrTime(this.now());
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const b = this.boundaries;
    let i = 0;
    while (i < b.length && b[i]! < value) i++;
    this.counts[i]!++;
  }

  /** Delta, after a collection: an empty interval starting at that collection. */
  reset(collectionTime: HrTime): void {
    this.reported = this.count > 0;
    if (!this.reported) return;
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.startTime = collectionTime;
  }
}

/** The histograms of one attribute set (operation, provider, models, server), made on first use. */
class Series {
  tokensIn: HistogramPoint | null = null;
  tokensOut: HistogramPoint | null = null;
  firstChunk: HistogramPoint | null = null;
  duration: HistogramPoint | null = null;
  /** `gen_ai.client.operation.duration` of failures, by `error.type` (a bounded set). */
  readonly failed = new Map<string, HistogramPoint>();

  constructor(readonly attributes: Attributes) {}
}

export interface GenAiMetricsOptions {
  resource: Resource;
  server: ServerAddress | null;
  /** Distinct model values kept; others become `other` (default 50). */
  maxModels?: number;
  /** The catalog name of a model, or null when the catalog does not know it. */
  modelName?: (model: string) => string | null;
  /** Wall clock in ms (tests). */
  now?: () => number;
  /**
   * The exporter's temporality choice (`OTLPMetricExporter.selectAggregationTemporality`, which
   * follows OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE), asked for histograms at the first
   * collection as the SDK does for its own instruments. Default: cumulative.
   */
  temporality?: AggregationTemporalitySelector;
}

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/**
 * The GenAI client metrics (`gen_ai.client.token.usage`, `gen_ai.client.operation.duration`,
 * `gen_ai.client.operation.time_to_first_chunk`), aggregated here and handed to the SDK's metric
 * reader as a `MetricProducer` at each export. The SDK's instruments hash every record's attribute
 * set (sort its keys, JSON.stringify them: the top cost of OTLP in a busy gateway); here the labels
 * are bounded (catalog models or `other`, operations, providers, error types), so each attribute set
 * is built once and found again through a few map lookups. The exported data is what the SDK's own
 * histograms would have exported for the same records: explicit-bucket histograms with count, sum,
 * min and max, under the same attribute sets, in the temporality the exporter selects (a
 * MetricProducer's data is exported as produced, so the producer must follow it): cumulative, or
 * delta (each collection reports the points recorded since the previous one, started at it).
 */
export class GenAiMetrics implements MetricProducer {
  private readonly models: BoundedLabels;
  private readonly operations = new BoundedLabels(16, ['chat', 'text_completion', 'embeddings']);
  /** operation → provider → request model → response model ('' for none) → series. */
  private readonly series = new Map<string, Map<string, Map<string, Map<string, Series>>>>();
  private readonly points: Record<HistogramName, HistogramPoint[]> = {
    tokens: [],
    duration: [],
    firstChunk: [],
  };
  private readonly now: () => number;
  /** Chosen at the first collection, then fixed (as the SDK's TemporalMetricProcessor does). */
  private temporality: AggregationTemporality | null = null;

  constructor(private readonly o: GenAiMetricsOptions) {
    this.models = new BoundedLabels(o.maxModels ?? 50);
    this.now = o.now ?? Date.now;
  }

  private modelLabel(m: string | null): string {
    return this.models.label(catalogModel(m, this.o.modelName));
  }

  /** Records one event's measurements (the same ones, under the same attributes, as before). */
  record(e: AuditEvent): void {
    const s = this.seriesOf(e);
    if (e.input_tokens !== null)
      (s.tokensIn ??= this.point('tokens', { ...s.attributes, [GENAI.tokenType]: 'input' })).record(
        e.input_tokens,
      );
    if (e.output_tokens !== null)
      (s.tokensOut ??= this.point('tokens', { ...s.attributes, [GENAI.tokenType]: 'output' })).record(
        e.output_tokens,
      );
    if (e.stream === true && e.time_to_first_token_ms !== null)
      (s.firstChunk ??= this.point('firstChunk', s.attributes)).record(e.time_to_first_token_ms / 1000);
    if (e.latency_ms === null) return;
    const err = errorType(e);
    let d: HistogramPoint | undefined;
    if (err === null) d = s.duration ??= this.point('duration', s.attributes);
    else {
      d = s.failed.get(err);
      if (!d) {
        d = this.point('duration', { ...s.attributes, [GENAI.errorType]: err });
        s.failed.set(err, d);
      }
    }
    d.record(e.latency_ms / 1000);
  }

  private seriesOf(e: AuditEvent): Series {
    const op = this.operations.label(operationName(e));
    const provider = e.api_provider ?? 'unknown';
    const requested = this.modelLabel(e.model_requested);
    const used = e.model_used === null ? null : this.modelLabel(e.model_used);
    // Plain lookups, no closures or key strings: this runs once per event.
    let byProvider = this.series.get(op);
    if (!byProvider) this.series.set(op, (byProvider = new Map<string, Map<string, Map<string, Series>>>()));
    let byRequested = byProvider.get(provider);
    if (!byRequested) byProvider.set(provider, (byRequested = new Map<string, Map<string, Series>>()));
    let byUsed = byRequested.get(requested);
    if (!byUsed) byRequested.set(requested, (byUsed = new Map<string, Series>()));
    // '' cannot be a label (BoundedLabels gives `unknown` for null), so it stands for "no response model".
    let s = byUsed.get(used ?? '');
    if (s) return s;
    const a: Attributes = {
      [GENAI.operationName]: op,
      [GENAI.providerName]: provider,
      [GENAI.requestModel]: requested,
    };
    if (used !== null) a[GENAI.responseModel] = used;
    if (this.o.server) {
      a[GENAI.serverAddress] = this.o.server.address;
      a[GENAI.serverPort] = this.o.server.port;
    }
    s = new Series(a);
    byUsed.set(used ?? '', s);
    return s;
  }

  private point(name: HistogramName, attributes: Attributes): HistogramPoint {
    const p = new HistogramPoint(attributes, this.now, GENAI_HISTOGRAMS[name].boundaries);
    this.points[name].push(p);
    return p;
  }

  /** The SDK reader's export: a snapshot of every histogram with at least one point. */
  collect(): Promise<CollectionResult> {
    const endTime = hrTime(this.now());
    const temporality = (this.temporality ??=
      this.o.temporality?.(InstrumentType.HISTOGRAM) ?? AggregationTemporality.CUMULATIVE);
    const delta = temporality === AggregationTemporality.DELTA;
    const metrics: HistogramMetricData[] = [];
    for (const name of ['tokens', 'duration', 'firstChunk'] as const) {
      const all = this.points[name];
      // Delta: only the points recorded since the previous collection (as the SDK reports).
      const points = delta ? all.filter((p) => p.count > 0) : all;
      if (points.length === 0) {
        if (delta) for (const p of all) p.reset(endTime);
        continue;
      }
      const h = GENAI_HISTOGRAMS[name];
      const descriptor: MetricDescriptor = {
        name: h.name,
        description: h.description,
        unit: h.unit,
        valueType: ValueType.DOUBLE,
      };
      metrics.push({
        descriptor,
        aggregationTemporality: temporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: points.map((p) => ({
          attributes: p.attributes,
          startTime: p.startTime,
          endTime,
          value: {
            buckets: { boundaries: [...h.boundaries], counts: [...p.counts] },
            count: p.count,
            sum: p.sum,
            min: p.count > 0 ? p.min : undefined,
            max: p.count > 0 ? p.max : undefined,
          },
        })),
      });
      if (delta) for (const p of all) p.reset(endTime);
    }
    return Promise.resolve({
      // The SDK's reader keeps its own resource (the same one) and takes the scopes from here.
      resourceMetrics: {
        resource: this.o.resource,
        scopeMetrics: metrics.length ? [{ scope: { name: 'tollgate' }, metrics }] : [],
      },
      errors: [],
    });
  }
}
