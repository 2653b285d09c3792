/**
 * Redaction cost. Prints p50/p99 for a 32 KiB prompt (realistic mix: prose, code, JSON,
 * logs, a few secrets and personal data) and for a typical 1 KiB clean prompt, and the
 * throughput in MB/s. Run: npx tsx bench/redaction.bench.ts
 */
import { blankEvent } from '../src/core/audit-event.js';
import { createRedactor } from '../src/redaction/redactor.js';
import { FakeData, seededRandom } from '../test/redaction-corpus/fake-secrets.js';

const fake = new FakeData(seededRandom(99));
const paragraphs = [
  'You are a helpful assistant for the billing team. Answer briefly and cite the relevant policy section.',
  'The customer says the invoice total is wrong: they were charged for 3 seats but only use 2 since 2025-11-03.',
  '```ts\nexport async function retry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {\n  for (let i = 0; i < attempts; i++) {\n    try { return await fn(); } catch (err) { if (i === attempts - 1) throw err; }\n  }\n  throw new Error("unreachable");\n}\n```',
  '{"order_id": "ord_8f2k1", "items": [{"sku": "A-1001", "qty": 2, "price": 19.99}], "status": "shipped", "max_tokens": 800}',
  '2026-01-12T10:22:31.123Z INFO worker-3 processed batch 8812 in 153 ms (version 4.2.1, region eu-west-1)',
  'Please rewrite the following paragraph in a friendlier tone, keeping the technical details about the rate limiter and its token bucket.',
];
function prompt(bytes: number, withSecrets: boolean): string {
  let s = '';
  let i = 0;
  while (s.length < bytes) {
    s += paragraphs[i % paragraphs.length] + '\n\n';
    i++;
    if (withSecrets && i % 40 === 0) {
      s += `config: OPENAI_API_KEY=${fake.openaiKey()} and contact ${fake.email()} or ${fake.phone()}\n`;
      s += `DATABASE_URL=postgres://svc:${fake.password()}@db.internal:5432/app\n`;
    }
  }
  return s.slice(0, bytes);
}

function measure(name: string, text: string, iterations: number): void {
  const redactor = createRedactor();
  const event = blankEvent({ id: 'bench', timestamp: '2026-01-01T00:00:00.000Z', source: 'gateway' });
  for (let i = 0; i < 200; i++) redactor.apply({ ...event }, { prompt: text, response: null });
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < iterations; i++) {
    const e = { ...event };
    const t = performance.now();
    redactor.apply(e, { prompt: text, response: null });
    times.push(performance.now() - t);
    found = e.redactions.reduce((a, r) => a + r.count, 0);
  }
  times.sort((a, b) => a - b);
  const p = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const total = times.reduce((a, b) => a + b, 0);
  const mbps = (text.length * iterations) / 1e6 / (total / 1000);
  console.log(
    `${name.padEnd(28)} size=${text.length}B redactions=${found} p50=${p(0.5).toFixed(3)}ms (${(p(0.5) * 1000).toFixed(1)}µs) ` +
      `p99=${p(0.99).toFixed(3)}ms (${(p(0.99) * 1000).toFixed(1)}µs) throughput=${mbps.toFixed(1)}MB/s`,
  );
}

console.log(`node ${process.version}`);
measure('32 KiB prompt, few secrets', prompt(32 * 1024, true), 3000);
measure('32 KiB prompt, clean', prompt(32 * 1024, false), 3000);
measure('1 KiB prompt, clean', prompt(1024, false), 20000);
