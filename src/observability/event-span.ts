import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type HrTime,
  type SpanContext,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { RandomIdGenerator, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { TraceContext } from '../capture/trace-context.js';
import type { AuditEvent } from '../core/audit-event.js';
import { GENAI } from './genai-attributes.js';

const HEX16 = /^[0-9a-f]{16}$/;
const random = new RandomIdGenerator();
const SCOPE = { name: 'tollgate' };

/** Epoch milliseconds as the SDK turns them into span times (`millisToHrTime` of @opentelemetry/core). */
function hrTime(ms: number): HrTime {
  return [Math.trunc(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

/**
 * The finished span of one audit event, built directly from it: what the SDK's tracer made from
 * `startSpan(name, { kind, startTime, attributes }, parent)` and `end(start + latency)`, without a
 * live span, a sampler run, a context or a copy of every attribute — the event is already over,
 * and the sampling decision was taken before (trace-sampling.ts). `attributes` are used as given
 * (spanAttributes: valid values only, far below the SDK's 128-attribute limit).
 *
 * Ids: the span id is the event's `span_id`; the trace is the caller's when the request carried a
 * `traceparent` (the span is then a child of the caller's span), else the event id's 32 hex digits
 * (a UUIDv7, unique) — so a trace in Grafana or Jaeger leads straight to its audit event.
 * Null when the event has no usable timestamp.
 */
export function spanFromEvent(
  e: AuditEvent,
  caller: TraceContext | null,
  attributes: Attributes,
  resource: Resource,
): ReadableSpan | null {
  const start = Date.parse(e.timestamp);
  if (!Number.isFinite(start)) return null;
  const end = start + (e.latency_ms ?? 0);
  let parentSpanContext: SpanContext | undefined;
  let traceId: string;
  if (caller && e.trace_id === caller.traceId) {
    traceId = caller.traceId;
    parentSpanContext = {
      traceId,
      spanId: caller.parentSpanId,
      // W3C Trace Context §3.2.2.5: bit 0 of trace-flags is "sampled".
      traceFlags: parseInt(caller.flags, 16) & TraceFlags.SAMPLED,
      isRemote: true,
    };
  } else {
    traceId = e.id.replace(/-/g, '');
  }
  const context: SpanContext = {
    traceId,
    spanId: e.span_id !== null && HEX16.test(e.span_id) ? e.span_id : random.generateSpanId(),
    traceFlags: TraceFlags.SAMPLED,
  };
  const model = e.model_requested;
  const startTime = hrTime(start);
  const endTime = hrTime(end);
  // hrTimeDuration of @opentelemetry/core: seconds and non-negative nanoseconds.
  let seconds = endTime[0] - startTime[0];
  let nanos = endTime[1] - startTime[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return {
    name: `${String(attributes[GENAI.operationName])}${model ? ` ${model}` : ''}`,
    kind: SpanKind.CLIENT,
    spanContext: () => context,
    ...(parentSpanContext ? { parentSpanContext } : {}),
    startTime,
    endTime,
    status:
      e.status === 'SUCCESS'
        ? { code: SpanStatusCode.UNSET }
        : { code: SpanStatusCode.ERROR, message: e.status },
    attributes,
    links: [],
    events: [],
    duration: [seconds, nanos],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
