import type { OtelConfig } from './otel.js';
import { samplingFromEnv } from './trace-sampling.js';

/**
 * OTLP settings from the standard OpenTelemetry environment variables (OpenTelemetry
 * specification, "OTLP Exporter Configuration" and "Environment Variable Specification"). The CLI
 * passes its environment in; nothing here reads `process.env`. Returns null — export off — unless
 * an OTLP endpoint is set, or when `OTEL_SDK_DISABLED=true`.
 */
export function otelConfigFromEnv(env: Record<string, string | undefined>): OtelConfig | null {
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return null;
  const endpoint = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const traces = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const metrics = get('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  if (!endpoint && !traces && !metrics) return null;
  const config: OtelConfig = {
    // The spec's default when only a signal-specific endpoint is given.
    endpoint: endpoint ?? 'http://localhost:4318',
    traces: get('OTEL_TRACES_EXPORTER') !== 'none',
    metrics: get('OTEL_METRICS_EXPORTER') !== 'none',
    captureContent: [
      get('TOLLGATE_OTEL_CAPTURE_CONTENT'),
      get('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'),
    ].some((v) => v?.toLowerCase() === 'true'),
  };
  if (traces) config.tracesEndpoint = traces;
  if (metrics) config.metricsEndpoint = metrics;
  const headers = parseHeaders(get('OTEL_EXPORTER_OTLP_HEADERS'));
  if (headers) config.headers = headers;
  const service = get('OTEL_SERVICE_NAME');
  if (service) config.serviceName = service;
  const interval = positive(get('OTEL_METRIC_EXPORT_INTERVAL'));
  if (interval) config.metricIntervalMs = interval;
  const delay = positive(get('OTEL_BSP_SCHEDULE_DELAY'));
  if (delay) config.scheduleDelayMs = delay;
  const queue = positive(get('OTEL_BSP_MAX_QUEUE_SIZE'));
  if (queue) config.maxQueueSize = queue;
  const timeout = positive(get('OTEL_EXPORTER_OTLP_TIMEOUT'));
  if (timeout) config.timeoutMs = timeout;
  // An unknown sampler name keeps the default (the specification: a warning, not a failure;
  // `serve` logs it, see unknownTraceSampler).
  const sampling = samplingFromEnv(get('OTEL_TRACES_SAMPLER'), get('OTEL_TRACES_SAMPLER_ARG'));
  if (sampling) config.sampling = sampling;
  return config;
}

/** `key1=value1,key2=value2`, values percent-encoded (W3C Baggage-like, per the OTLP exporter spec). */
function parseHeaders(raw: string | undefined): Record<string, string> | null {
  if (!raw) return null;
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      // a malformed pair is skipped, never echoed (it may hold a credential)
    }
  }
  return Object.keys(out).length ? out : null;
}

function positive(raw: string | undefined): number | null {
  const n = Number(raw);
  return raw !== undefined && Number.isFinite(n) && n > 0 ? n : null;
}

/** The `OTEL_TRACES_SAMPLER` value when Tollgate does not know it (it then samples every trace). */
export function unknownTraceSampler(env: Record<string, string | undefined>): string | null {
  const name = env.OTEL_TRACES_SAMPLER?.trim();
  return name && samplingFromEnv(name, undefined) === null ? name : null;
}
