import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { TraceContext } from '../capture/trace-context.js';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import { spanFromEvent } from './event-span.js';
import { contentAttributes, spanAttributes, type ServerAddress } from './genai-attributes.js';
import { SpanEncoder } from './span-encoder.js';

const resourceAttributes = {
  'service.name': 'tollgate',
  'service.version': '1.2.3',
  'service.instance.id': 'gw-1',
};
const resource = resourceFromAttributes(resourceAttributes);
const server: ServerAddress = { address: 'api.openai.com', port: 443 };
const caller: TraceContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  parentSpanId: '00f067aa0ba902b7',
  flags: '01',
};

/** Varied events: every optional attribute present in some, absent in others; long and non-ASCII text. */
function event(i: number): AuditEvent {
  const e = blankEvent({
    id: `0194b2c0-${(i % 65536).toString(16).padStart(4, '0')}-7000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(1_765_000_000_000 + i * 7_919).toISOString(),
    source: 'gateway',
  });
  e.trace_id = e.id.replace(/-/g, '');
  e.span_id = i % 29 === 3 ? null : (0x1000_0000 + i * 104729).toString(16).padStart(16, '0');
  e.api_provider = i % 7 === 0 ? null : 'openai';
  e.endpoint = ['/embeddings', '/chat/completions', '/responses', '/images/generations', null][i % 5]!;
  e.model_requested = i % 5 === 0 ? null : i % 11 === 0 ? '' : 'gpt-4.1';
  e.model_used = i % 6 === 0 ? null : 'gpt-4.1-2025-04-14';
  e.stream = i % 9 === 0 ? null : i % 2 === 0;
  e.input_tokens = i % 8 === 0 ? null : 100 + i * 997;
  e.output_tokens = i % 10 === 0 ? null : 20 + i;
  e.cached_input_tokens = i % 3 === 0 ? 64 : null;
  e.cache_write_tokens = i % 13 === 0 ? 5 : null;
  e.latency_ms = i % 17 === 0 ? null : 120.25 + i * 1.001;
  e.time_to_first_token_ms = i % 4 === 0 ? null : 80 + i / 3;
  e.status = (['SUCCESS', 'SERVER_ERROR', 'RATE_LIMITED', 'BLOCKED', 'CANCELLED'] as const)[i % 5]!;
  e.http_status_code = e.status === 'SUCCESS' ? 200 : e.status === 'BLOCKED' ? null : 500 + (i % 3);
  e.error_code = e.status === 'BLOCKED' ? 'TG_ERR_POLICY_BUDGET' : null;
  e.retry_count = i % 3;
  e.finish_reason = i % 7 === 1 ? null : 'stop';
  e.usage_source = i % 4 === 2 ? 'estimated' : 'reported';
  e.cost_micro_usd = i % 6 === 1 ? null : i % 50 === 0 ? 9_000_000_000 + i : 1250 + i;
  e.request_id = i % 2 ? `req-${i}` : null;
  e.feature_name = i % 3 === 1 ? 'support-bot' : null;
  e.team = i % 4 === 3 ? 'équipe-café' : null;
  e.virtual_key_id = i % 5 === 4 ? `vk_${i}` : null;
  e.is_anomalous = i % 19 === 0;
  e.threat_indicators = i % 19 === 0 ? ['prompt_injection', 'rate_spike'] : [];
  e.redactions =
    i % 2
      ? [
          { type: 'email', count: 1 },
          { type: 'api_key', count: 2 },
        ]
      : [];
  e.content_mode = i % 3 === 0 ? 'redacted' : 'full';
  e.prompt = i % 3 === 0 ? `user: where is my order ${'x'.repeat(i * 13)} — merci` : 'raw';
  e.response = i % 6 === 0 ? 'assistant: [EMAIL] it ships today' : null;
  return e;
}

/** The SDK's protobuf request for the spans event-span.ts builds (the path SpanEncoder replaces). */
function sdkRequest(events: Array<[AuditEvent, TraceContext | null]>, withContent: boolean): Uint8Array {
  const spans: ReadableSpan[] = [];
  for (const [e, c] of events) {
    const attributes = withContent
      ? { ...spanAttributes(e, server), ...contentAttributes(e) }
      : spanAttributes(e, server);
    const s = spanFromEvent(e, c, attributes, resource);
    if (s) spans.push(s);
  }
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}

function batch(from: number, n: number): Array<[AuditEvent, TraceContext | null]> {
  return Array.from({ length: n }, (_, k) => {
    const e = event(from + k);
    if ((from + k) % 3 === 2) {
      e.trace_id = caller.traceId;
      return [e, caller];
    }
    return [e, (from + k) % 10 === 4 ? caller : null]; // a caller whose trace the event did not take
  });
}

describe('SpanEncoder', () => {
  it('writes the bytes the SDK serializer writes for the spans built from the same events', () => {
    for (const withContent of [false, true]) {
      const encoder = new SpanEncoder(resourceAttributes, 'tollgate', server, withContent);
      for (const [from, n] of [
        [0, 1],
        [1, 40],
        [41, 600],
      ] as const) {
        const events = batch(from, n).filter(([e]) => e.span_id !== null);
        for (const [e, c] of events) encoder.add(e, c);
        expect(encoder.count).toBe(events.length);
        expect(
          Buffer.from(encoder.take()).equals(Buffer.from(sdkRequest(events, withContent))),
          `${from}+${n}`,
        ).toBe(true);
        expect(encoder.count).toBe(0);
      }
    }
  });

  it('gives a random span id when the event has none, and skips an event without a usable timestamp', () => {
    const encoder = new SpanEncoder(resourceAttributes, 'tollgate', server, false);
    const e = event(3);
    expect(e.span_id).toBeNull();
    expect(encoder.add(e, null)).toBe(true);
    const bad = event(1);
    bad.timestamp = 'not a time';
    expect(encoder.add(bad, null)).toBe(false);
    expect(encoder.count).toBe(1);
    const out = encoder.take();
    // Same length as the SDK's for a span with some 8-byte id.
    e.span_id = '0123456789abcdef';
    expect(out.length).toBe(sdkRequest([[e, null]], false).length);
  });
});
