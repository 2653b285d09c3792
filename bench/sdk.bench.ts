/**
 * Per-call CPU of the SDK's audited fetch over a plain fetch, against the mock provider running
 * in its own process (so only the caller's CPU is counted). N sequential calls per variant,
 * process.cpuUsage() around them, best of several alternating rounds; the difference is the
 * audit's cost per call, excluding the provider round trip. Target: ≤ 50 µs per call.
 *
 *   npx tsx bench/sdk.bench.ts            (BENCH_CALLS=3000 BENCH_ROUNDS=5 to change)
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { createAuditedFetch, createAuditor, MemoryEventStore } from '../src/sdk/index.js';
import type { AuditEvent } from '../src/core/audit-event.js';

const N = Number(process.env.BENCH_CALLS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = 'sk-proj-benchkey0123456789abcdefghijklmnopqrstuvwxyz';

const child = fork(fileURLToPath(new URL('./servers/mock-upstream.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
  stdio: 'inherit',
});
const port = await new Promise<number>((resolve) =>
  child.on('message', (m: { port?: number }) => m.port && resolve(m.port)),
);
const base = `http://127.0.0.1:${port}/v1`;

/** Counts what it is given and keeps nothing: a growing heap would bill GC to the audit. */
class DiscardingStore extends MemoryEventStore {
  appended = 0;
  override async append(events: readonly AuditEvent[]): Promise<void> {
    this.appended += events.length;
  }
}
const store = new DiscardingStore();
const auditor = await createAuditor({ store, writer: { flushDelayMs: 5 } });
const audited = createAuditedFetch({ auditor, attribution: { feature: 'bench' } });
const agent = new Agent({ keepAliveTimeout: 30_000 });

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'user-agent': 'bench' };
const bodies = {
  json: JSON.stringify({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: 'Where is my order #48213? It was due on Monday.' }],
  }),
  stream: JSON.stringify({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: 'Where is my order #48213? It was due on Monday.' }],
    stream: true,
  }),
};

type Call = (body: string) => Promise<void>;
const variants: Record<string, Call> = {
  'plain fetch': async (body) => {
    const r = await fetch(`${base}/chat/completions`, { method: 'POST', headers, body });
    await r.arrayBuffer();
  },
  'audited fetch': async (body) => {
    const r = await audited(`${base}/chat/completions`, { method: 'POST', headers, body });
    await r.arrayBuffer();
  },
  'undici request (the audited fetch transport)': async (body) => {
    const r = await agent.request({
      origin: `http://127.0.0.1:${port}`,
      path: '/v1/chat/completions',
      method: 'POST',
      headers,
      body,
    });
    await r.body.arrayBuffer();
  },
  'undici request + Response wrapping, no audit': async (body) => {
    const r = await agent.request({
      origin: `http://127.0.0.1:${port}`,
      path: '/v1/chat/completions',
      method: 'POST',
      headers,
      body,
    });
    const it = (r.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const n = await it.next();
        if (n.done) controller.close();
        else controller.enqueue(n.value);
      },
    });
    await new Response(stream, { status: r.statusCode }).arrayBuffer();
  },
};

async function measure(call: Call, body: string): Promise<{ cpuUs: number; wallUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await call(body);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { cpuUs: (c.user + c.system) / N, wallUs: (wall * 1000) / N };
}

for (const [kind, body] of Object.entries(bodies)) {
  for (const call of Object.values(variants)) for (let i = 0; i < 300; i++) await call(body); // warm-up
  const best: Record<string, { cpuUs: number; wallUs: number }> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, call] of Object.entries(variants)) {
      const m = await measure(call, body);
      await auditor.flush();
      if (!best[name] || m.cpuUs < best[name].cpuUs) best[name] = m;
    }
  }
  console.log(`\n${kind} (${N} sequential calls, best of ${ROUNDS} rounds; CPU of this process per call)`);
  for (const [name, m] of Object.entries(best))
    console.log(
      `  ${name.padEnd(48)} ${m.cpuUs.toFixed(1).padStart(7)} µs CPU   ${m.wallUs.toFixed(0).padStart(5)} µs wall`,
    );
  const overhead = best['audited fetch']!.cpuUs - best['plain fetch']!.cpuUs;
  const overTransport =
    best['audited fetch']!.cpuUs - best['undici request (the audited fetch transport)']!.cpuUs;
  console.log(`  audited fetch over plain fetch: ${overhead.toFixed(1)} µs CPU per call (target ≤ 50)`);
  const overWrapped =
    best['audited fetch']!.cpuUs - best['undici request + Response wrapping, no audit']!.cpuUs;
  console.log(
    `  audited fetch over its own transport (audit + Response wrapping): ${overTransport.toFixed(1)} µs CPU per call`,
  );
  console.log(
    `  audited fetch over the same transport and wrapping (the audit alone): ${overWrapped.toFixed(1)} µs CPU per call`,
  );
}

const s = auditor.stats();
console.log(
  `\nevents given to the store ${store.appended}, written ${s.written}, dropped ${s.dropped}, audit errors ${s.auditErrors}`,
);
await auditor.close();
await agent.close();
child.send('exit');
