import type { Attributes } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TraceContext } from '../capture/trace-context.js';
import type { AuditEvent } from '../core/audit-event.js';
import { GenAiMetrics } from './genai-metrics.js';
import { ALWAYS_ON, isSampled, type TraceSampling } from './trace-sampling.js';
import { isAdminEvent } from './event-kind.js';
import { serverAddressOf, type ServerAddress } from './genai-attributes.js';
import { SpanEncoder } from './span-encoder.js';

/** OTLP export settings; the CLI builds them from the standard `OTEL_*` variables. */
export interface OtelConfig {
  /**
   * OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4318`); the
   * signal paths `/v1/traces` and `/v1/metrics` are appended (OTLP spec, "OTLP/HTTP Request").
   */
  endpoint: string;
  /** Signal-specific URLs, used as given (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `…_METRICS_ENDPOINT`). */
  tracesEndpoint?: string;
  metricsEndpoint?: string;
  /** Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. a collector's API key. */
  headers?: Record<string, string>;
  /** `service.name` (default `tollgate`, or `OTEL_SERVICE_NAME`). */
  serviceName?: string;
  serviceVersion?: string;
  /** `service.instance.id`: the gateway's instance (chain) id. */
  instanceId?: string;
  /** The provider's base URL, for `server.address` and `server.port`. */
  upstreamUrl?: string;
  /**
   * Adds `gen_ai.input.messages` / `gen_ai.output.messages` to spans. Off by default; when on,
   * only events whose stored content is redacted contribute (never full or raw content).
   */
  captureContent?: boolean;
  /** Traces and metrics can be turned off one by one (both on by default). */
  traces?: boolean;
  metrics?: boolean;
  /** Metric export interval (default 60 s, `OTEL_METRIC_EXPORT_INTERVAL`). */
  metricIntervalMs?: number;
  /**
   * Spans sent in one export request at most: min(512, this) (default 2048, `OTEL_BSP_MAX_QUEUE_SIZE`).
   * Requests in flight are bounded by the SDK's export delegate; past it a batch is dropped, never blocking.
   */
  maxQueueSize?: number;
  /** Span batch delay (default 5 s, `OTEL_BSP_SCHEDULE_DELAY`). */
  scheduleDelayMs?: number;
  /** Export request timeout (default 10 s). */
  timeoutMs?: number;
  /** Distinct model values kept in metric attributes; others become `other` (default 50). */
  maxModels?: number;
  /**
   * The catalog name of a model, or null when the catalog does not know it. When given, a model
   * attribute is only ever a catalog name, `other` or `unknown` (the model is whatever a client sent).
   */
  modelName?: (model: string) => string | null;
  /**
   * Which events become spans (default: every one, a caller's unsampled trace excepted). Metrics
   * count every event whatever this says. From `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`.
   */
  sampling?: TraceSampling;
  /** Events waiting to become spans at most (default 20 000); past it they are counted as skipped. */
  maxBacklog?: number;
  /** How long events wait to be turned into spans in one batch (default 50 ms). */
  batchDelayMs?: number;
  /** Told when a flush or shutdown could not deliver (an error name only, never payloads). */
  onError?: (err: string) => void;
}

/** A running OTLP exporter fed by audit events. */
export interface OtelExport {
  /** The pipeline listener: one span and its metrics per finished event. Never throws, never waits. */
  readonly listener: (event: AuditEvent, caller?: TraceContext | null) => void;
  /** Sends whatever is buffered now (tests, shutdown). Resolves even when the collector is down. */
  forceFlush(): Promise<void>;
  /** Flushes and stops both providers. Resolves even when the collector is down. */
  shutdown(): Promise<void>;
}

/**
 * Starts OTLP/HTTP (protobuf) export of traces and metrics following the GenAI semantic
 * conventions. Spans are built from finished events (start = `timestamp`, end = start +
 * `latency_ms`), under the caller's trace when the request carried a `traceparent`, and written
 * as protobuf as they are built (span-encoder.ts). Delivery is the SDK's OTLP/HTTP export delegate
 * (bounded concurrent requests, retries); nothing is thrown here.
 */
export function createOtelExport(config: OtelConfig): OtelExport {
  const base = config.endpoint.replace(/\/+$/, '');
  const headers = config.headers ?? {};
  const timeoutMillis = config.timeoutMs ?? 10_000;
  const resourceAttributes: Attributes = {
    [ATTR_SERVICE_NAME]: config.serviceName ?? 'tollgate',
    ...(config.serviceVersion ? { [ATTR_SERVICE_VERSION]: config.serviceVersion } : {}),
    ...(config.instanceId ? { 'service.instance.id': config.instanceId } : {}),
  };
  const resource = resourceFromAttributes(resourceAttributes);
  const server: ServerAddress | null = config.upstreamUrl ? serverAddressOf(config.upstreamUrl) : null;
  const captureContent = config.captureContent === true;

  // A collector that is down must not fail Tollgate's shutdown: report, then carry on.
  const settle = async (work: Array<Promise<void> | undefined>): Promise<void> => {
    for (const r of await Promise.allSettled(work.filter((p): p is Promise<void> => p !== undefined))) {
      if (r.status === 'rejected')
        config.onError?.(r.reason instanceof Error ? r.reason.name : 'export failed');
    }
  };

  // Spans are written as OTLP protobuf straight from finished events (span-encoder.ts: the bytes
  // the SDK's serializer writes for the span event-span.ts builds) into one buffer per batch, so a
  // queued span is bytes, not objects held until the export. Delivery is the SDK's OTLP/HTTP
  // export delegate (timeout, retries with backoff, bounded concurrent exports, OTEL_* settings).
  const spanDelivery =
    config.traces === false
      ? null
      : createOtlpHttpExportDelegate(
          convertLegacyHttpOptions(
            { url: config.tracesEndpoint ?? `${base}/v1/traces`, headers, timeoutMillis },
            'TRACES',
            'v1/traces',
            { 'Content-Type': 'application/x-protobuf' },
          ),
          {
            serializeRequest: (request: Uint8Array) => request,
            deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
          },
        );
  const encoder = spanDelivery
    ? new SpanEncoder(resourceAttributes, 'tollgate', server, captureContent)
    : null;
  // A batch goes out when it holds this many spans (the SDK's default maxExportBatchSize), or
  // scheduleDelayMs after its first span.
  const maxBatch = Math.min(512, config.maxQueueSize ?? 2048);
  const scheduleDelay = config.scheduleDelayMs ?? 5000;
  let spanTimer: NodeJS.Timeout | null = null;
  const sendSpans = (): Promise<void> => {
    if (spanTimer) clearTimeout(spanTimer);
    spanTimer = null;
    if (!spanDelivery || !encoder || encoder.count === 0) return Promise.resolve();
    const request = encoder.take();
    return new Promise((resolve, reject) =>
      spanDelivery.export(request, (r) =>
        // ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
        Number(r.code) === 0 ? resolve() : reject(r.error ?? new Error('export failed')),
      ),
    );
  };
  // Periodic sends report nothing (as the SDK's batch processor); forceFlush and shutdown do.
  const sendSpansQuietly = (): void => void sendSpans().catch(() => undefined);

  // Measurements are aggregated by GenAiMetrics (attribute sets built once per distinct label
  // set) and read by the SDK's periodic reader at each export; the SDK's own instruments, which
  // hash every record's attributes, are not used.
  // The exporter picks the temporality (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE:
  // cumulative, delta or lowmemory); GenAiMetrics produces its histograms in that temporality.
  const metricExporter =
    config.metrics === false
      ? null
      : new OTLPMetricExporter({
          url: config.metricsEndpoint ?? `${base}/v1/metrics`,
          headers,
          timeoutMillis,
        });
  const metrics =
    metricExporter === null
      ? null
      : new GenAiMetrics({
          resource,
          server,
          temporality: (t) => metricExporter.selectAggregationTemporality(t),
          ...(config.maxModels !== undefined ? { maxModels: config.maxModels } : {}),
          ...(config.modelName ? { modelName: config.modelName } : {}),
        });
  const meterProvider =
    metrics === null || metricExporter === null
      ? null
      : new MeterProvider({
          resource,
          readers: [
            new PeriodicExportingMetricReader({
              exporter: metricExporter,
              exportIntervalMillis: config.metricIntervalMs ?? 60_000,
              exportTimeoutMillis: Math.min(timeoutMillis, config.metricIntervalMs ?? 60_000),
              metricProducers: [metrics],
            }),
          ],
        });
  const sampling = config.sampling ?? ALWAYS_ON;
  const exportSpan = (e: AuditEvent, caller: TraceContext | null): void => {
    if (!encoder || !isSampled(sampling, e, caller)) return;
    if (!encoder.add(e, caller)) return;
    if (encoder.count >= maxBatch) sendSpansQuietly();
    else if (spanTimer === null) {
      spanTimer = setTimeout(sendSpansQuietly, scheduleDelay);
      spanTimer.unref();
    }
  };

  // Events are turned into spans and measurements in batches, off the request path: the SDK's
  // code then runs hot in a tight loop (measured several times cheaper per event than one call per
  // request in a busy gateway). The backlog is bounded; past it events are counted, not queued.
  const maxBacklog = config.maxBacklog ?? 20_000;
  let backlog: Array<[AuditEvent, TraceContext | null]> = [];
  let timer: NodeJS.Timeout | null = null;
  let skipped = 0;
  const drain = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = backlog;
    backlog = [];
    for (const [event, caller] of batch) {
      try {
        exportSpan(event, caller);
        metrics?.record(event);
      } catch {
        // telemetry never breaks the audit path
      }
    }
    if (skipped > 0) {
      config.onError?.(`backlog full: ${skipped} events not exported`);
      skipped = 0;
    }
  };

  return {
    listener(event: AuditEvent, caller?: TraceContext | null): void {
      try {
        if (isAdminEvent(event)) return;
        if (backlog.length >= maxBacklog) {
          skipped++;
          return;
        }
        backlog.push([event, caller ?? null]);
        if (timer === null) {
          timer = setTimeout(drain, config.batchDelayMs ?? 50);
          timer.unref();
        }
      } catch {
        // telemetry never breaks the audit path
      }
    },
    forceFlush: () => {
      drain();
      return settle([sendSpans().then(() => spanDelivery?.forceFlush()), meterProvider?.forceFlush()]);
    },
    shutdown: () => {
      drain();
      return settle([sendSpans().then(() => spanDelivery?.shutdown()), meterProvider?.shutdown()]);
    },
  };
}
