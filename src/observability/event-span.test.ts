import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { TraceContext } from '../capture/trace-context.js';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import { spanFromEvent } from './event-span.js';
import { GENAI, spanAttributes } from './genai-attributes.js';

const resource = resourceFromAttributes({ 'service.name': 'tollgate' });

/** The ids the SDK tracer was given before spans were built from events (the old EventIdGenerator). */
class NextIds implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

/** How Tollgate built an event's span before: the SDK's tracer, a live span, then end(). */
function sdkSpan(e: AuditEvent, caller: TraceContext | null): ReadableSpan {
  const ids = new NextIds();
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({
    resource,
    idGenerator: ids,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  }).getTracer('tollgate');
  const start = Date.parse(e.timestamp);
  let parent: Context = ROOT_CONTEXT;
  if (caller && e.trace_id === caller.traceId)
    parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: caller.traceId,
      spanId: caller.parentSpanId,
      traceFlags: parseInt(caller.flags, 16) & TraceFlags.SAMPLED,
      isRemote: true,
    });
  else ids.traceId = e.id.replace(/-/g, '');
  ids.spanId = e.span_id!;
  const attributes = spanAttributes(e, { address: 'api.openai.com', port: 443 });
  const span = tracer.startSpan(
    `${String(attributes[GENAI.operationName])}${e.model_requested ? ` ${e.model_requested}` : ''}`,
    { kind: SpanKind.CLIENT, startTime: start, attributes },
    parent,
  );
  if (e.status !== 'SUCCESS') span.setStatus({ code: SpanStatusCode.ERROR, message: e.status });
  span.end(start + (e.latency_ms ?? 0));
  return exporter.getFinishedSpans()[0]!;
}

/** What the OTLP exporter reads from a span. */
function exported(s: ReadableSpan): Record<string, unknown> {
  return {
    name: s.name,
    kind: s.kind,
    context: s.spanContext(),
    parent: s.parentSpanContext
      ? { ...s.parentSpanContext, traceState: s.parentSpanContext.traceState?.serialize() }
      : undefined,
    startTime: s.startTime,
    endTime: s.endTime,
    duration: s.duration,
    status: s.status,
    attributes: s.attributes,
    links: s.links,
    events: s.events,
    dropped: [s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount],
    scope: s.instrumentationScope.name,
  };
}

function event(i: number): AuditEvent {
  const e = blankEvent({
    id: `0194b2c0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(1_765_000_000_000 + i * 7).toISOString(),
    source: 'gateway',
  });
  e.trace_id = e.id.replace(/-/g, '');
  e.span_id = (0x1000_0000 + i * 104729).toString(16).padStart(16, '0');
  e.api_provider = 'openai';
  e.endpoint = i % 3 === 0 ? '/embeddings' : '/chat/completions';
  e.model_requested = i % 5 === 0 ? null : 'gpt-4.1';
  e.model_used = 'gpt-4.1-2025-04-14';
  e.stream = i % 2 === 0;
  e.input_tokens = 100 + i;
  e.output_tokens = 20 + i;
  e.latency_ms = 120.25 + i * 1.001;
  e.time_to_first_token_ms = 80;
  e.status = i % 4 === 1 ? 'SERVER_ERROR' : 'SUCCESS';
  e.http_status_code = e.status === 'SUCCESS' ? 200 : 500;
  e.finish_reason = 'stop';
  e.cost_micro_usd = 1250 + i;
  e.redactions = i % 2 ? [{ type: 'email', count: 1 }] : [];
  return e;
}

describe('spanFromEvent', () => {
  it('builds the span the SDK tracer built from the same event: ids, parent, times, status, attributes', () => {
    const caller: TraceContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      flags: '01',
    };
    for (let i = 0; i < 40; i++) {
      const e = event(i);
      const withCaller = i % 3 === 2;
      if (withCaller) e.trace_id = caller.traceId;
      const c = withCaller ? caller : null;
      const ours = spanFromEvent(
        e,
        c,
        spanAttributes(e, { address: 'api.openai.com', port: 443 }),
        resource,
      )!;
      expect(exported(ours), `event ${i}`).toEqual(exported(sdkSpan(e, c)));
    }
  });

  it('gives no span for an event without a usable timestamp', () => {
    const e = event(1);
    e.timestamp = 'not a time';
    expect(spanFromEvent(e, null, {}, resource)).toBeNull();
  });
});
