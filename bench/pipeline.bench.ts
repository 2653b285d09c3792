/**
 * CPU of the audit pipeline alone, per event, with no network: capture → redact → price → detect →
 * chain, then the SQLite write (with rollups) in batches. `npx tsx bench/pipeline.bench.ts`
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureEvent } from '../src/capture/capture.js';
import { newExchange } from '../src/capture/exchange.js';
import { SseAssembler } from '../src/capture/sse-assembler.js';
import { systemClock } from '../src/core/clock.js';
import { newEventId } from '../src/core/ids.js';
import { createDetectionEngine } from '../src/detection/detection-engine.js';
import { createDetectors } from '../src/detection/default-detectors.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { loadPriceCatalog } from '../src/pricing/catalog.js';
import { createPricer } from '../src/pricing/pricer.js';
import { createRedactor } from '../src/redaction/redactor.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups } from '../src/store/sqlite/sqlite-rollups.js';
import type { AuditEvent } from '../src/core/audit-event.js';

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const redactor = createRedactor({ mode: 'redacted' });
const pricer = createPricer(loadPriceCatalog());
const detection = createDetectionEngine({ detectors: createDetectors(), clock: systemClock });
const chainer = createChainer({ chainId: 'bench' });
const body = {
  model: 'gpt-4.1-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant for an online shop. '.repeat(6) },
    {
      role: 'user',
      content: 'Where is my order #48213? It was due on Monday and the tracking page shows nothing.',
    },
  ],
  stream: true,
};
const sse =
  Array.from(
    { length: 8 },
    (_, i) =>
      `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini-2025-04-14","choices":[{"index":0,"delta":{"content":"word${i} "},"finish_reason":null}]}\n\n`,
  ).join('') +
  'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini-2025-04-14","choices":[],"usage":{"prompt_tokens":80,"completion_tokens":8,"total_tokens":88}}\n\ndata: [DONE]\n\n';

function exchange(i: number) {
  const x = newExchange({
    source: 'gateway',
    instanceId: 'bench',
    eventId: newEventId(),
    startedAt: Date.now(),
    endpoint: '/chat/completions',
    method: 'POST',
  });
  x.requestBody = body;
  x.attribution.user = `u${i % 50}`;
  x.ip = '127.0.0.1';
  x.auth = {
    auth_method: 'bearer',
    auth_result: null,
    api_key_id: 'abcdef0123456789',
    api_key_prefix: 'sk-bench',
    virtual_key_id: null,
  };
  x.httpStatus = 200;
  const a = new SseAssembler();
  a.push(sse);
  x.stream = a.finish();
  x.latencyMs = 1.5;
  x.ttftMs = 0.5;
  return x;
}

function time(label: string, fn: (i: number) => void, n = N): void {
  for (let i = 0; i < Math.min(2000, n); i++) fn(i); // warm-up
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const c = process.cpuUsage(c0);
  console.log(`${label.padEnd(34)} ${((c.user + c.system) / n).toFixed(2).padStart(7)} µs/event`);
}

const xs = Array.from({ length: N + 2000 }, (_, i) => exchange(i));
let k = 0;
const events: AuditEvent[] = [];
time('capture (incl. SSE assembly done)', () => void captureEvent(xs[k++ % xs.length]!));
time('capture + redact', (i) => {
  const { event, raw } = captureEvent(xs[i % xs.length]!);
  redactor.apply(event, raw);
});
time('capture + redact + price', (i) => {
  const { event, raw } = captureEvent(xs[i % xs.length]!);
  redactor.apply(event, raw);
  pricer.price(event);
});
time('capture + redact + price + detect', (i) => {
  const { event, raw } = captureEvent(xs[i % xs.length]!);
  redactor.apply(event, raw);
  pricer.price(event);
  detection.observe(event);
});
time('... + chain (full pipeline)', (i) => {
  const { event, raw } = captureEvent(xs[i % xs.length]!);
  redactor.apply(event, raw);
  pricer.price(event);
  detection.observe(event);
  chainer.link(event);
  if (events.length < N) events.push(event);
});
time('SSE assembly of a 10-chunk stream', () => {
  const a = new SseAssembler();
  a.push(sse);
  a.finish();
});
const dir = mkdtempSync(join(tmpdir(), 'tollgate-pipe-'));
const db = openSqlite(join(dir, 'p.db'));
const store = new SqliteEventStore(db);
const rollups = createSqliteRollups(db);
store.addInTransactionHook((e) => rollups.applyRollups(e));
for (const batch of [10, 100, 500]) {
  const chainer2 = createChainer({ chainId: `w${batch}` });
  const evs = events.map((e) => {
    const c = { ...e, id: newEventId() };
    chainer2.link(c);
    return c;
  });
  const c0 = process.cpuUsage();
  for (let i = 0; i < evs.length; i += batch) store.appendSync(evs.slice(i, i + batch));
  const c = process.cpuUsage(c0);
  console.log(
    `${`SQLite append + rollups, batch ${batch}`.padEnd(34)} ${((c.user + c.system) / evs.length).toFixed(2).padStart(7)} µs/event`,
  );
}
