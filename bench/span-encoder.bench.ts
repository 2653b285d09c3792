/**
 * CPU per span of writing OTLP protobuf spans from audit events, two ways in one run, in turns:
 * the SDK path Tollgate used before (spanAttributes + spanFromEvent + the SDK's
 * ProtobufTraceSerializer, per batch of 512) and SpanEncoder (the same bytes, written straight from
 * the event; span-encoder.test.ts checks they are equal). No network: serialisation only.
 *
 *   npx tsx bench/span-encoder.bench.ts [ROUNDS]
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { spanFromEvent } from '../src/observability/event-span.js';
import { spanAttributes } from '../src/observability/genai-attributes.js';
import { SpanEncoder } from '../src/observability/span-encoder.js';
import { benchEvent } from './verify-store.js';

const ROUNDS = Number(process.argv[2] ?? 30);
const WARMUP = 5;
const BATCH = 512;
const resourceAttributes = { 'service.name': 'tollgate', 'service.instance.id': 'bench' };
const resource = resourceFromAttributes(resourceAttributes);
const server = { address: 'api.openai.com', port: 443 };
const events = Array.from({ length: 2048 }, (_, i) => benchEvent(i));
const encoder = new SpanEncoder(resourceAttributes, 'tollgate', server, false);
let bytes = 0;

const ways = {
  'SDK (ReadableSpan + serializer)': (): void => {
    for (let b = 0; b < events.length; b += BATCH) {
      const spans: ReadableSpan[] = [];
      for (let i = b; i < b + BATCH; i++) {
        const e = events[i]!;
        spans.push(spanFromEvent(e, null, spanAttributes(e, server), resource)!);
      }
      bytes += ProtobufTraceSerializer.serializeRequest(spans)!.length;
    }
  },
  SpanEncoder: (): void => {
    for (let b = 0; b < events.length; b += BATCH) {
      for (let i = b; i < b + BATCH; i++) encoder.add(events[i]!, null);
      bytes += encoder.take().length;
    }
  },
};
const cpu = new Map<string, number>();
for (let r = 0; r < ROUNDS + WARMUP; r++) {
  for (const [name, run] of Object.entries(ways)) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    if (r >= WARMUP) cpu.set(name, (cpu.get(name) ?? 0) + c.user + c.system);
  }
}
console.log(`${events.length} events × ${ROUNDS} rounds per way, in turns (${bytes} bytes written)`);
for (const [name, us] of cpu)
  console.log(`  ${name.padEnd(32)} ${(us / ROUNDS / events.length).toFixed(2).padStart(6)} µs CPU per span`);
