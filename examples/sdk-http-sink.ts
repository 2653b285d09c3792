/**
 * The HTTP sink: app instances ship their events to one central store through the ingest route
 * (which `tollgate serve` mounts at /ingest behind the admin token). Here the central side is a
 * bare HTTP server with that route, and two auditors stand in for two app processes.
 * Run: npx tsx examples/sdk-http-sink.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { MockProvider } from '../src/mock-provider/mock-provider.js';
import { createAuditor, createIngestRoute, MemoryEventStore, wrapOpenAI } from '../src/sdk/index.js';

const TOKEN = 'tga-example-admin-token';
const mock = new MockProvider({ record: false });
const baseURL = await mock.listen();

// Central side.
const central = new MemoryEventStore();
const ingest = createIngestRoute({ store: central, token: TOKEN });
const server = createServer((req, res) => void ingest.handle(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;

// Two app instances, each with its own chain.
for (const app of ['checkout', 'support']) {
  const auditor = await createAuditor({
    store: { kind: 'http', url, token: TOKEN },
    attribution: { feature: app },
  });
  const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-example-not-a-real-key-0123456789abcdef', baseURL }), {
    auditor,
  });
  for (let i = 0; i < 3; i++)
    await openai.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: `${app} question ${i}` }],
    });
  await auditor.close(); // flushes the last batch
  const s = auditor.stats();
  console.log(`${app}: chain ${auditor.instanceId}, written ${s.written}, dropped ${s.dropped}`);
}

for (const head of await central.chains())
  console.log(`central store: chain ${head.chain_id} has ${head.count} events, head seq ${head.seq}`);
server.close();
await mock.close();
