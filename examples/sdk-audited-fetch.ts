/**
 * createAuditedFetch: any OpenAI-compatible HTTP call, audited; events go to a JSONL file.
 * Run: npx tsx examples/sdk-audited-fetch.ts
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { MockProvider } from '../src/mock-provider/mock-provider.js';
import { createAuditedFetch, createAuditor } from '../src/sdk/index.js';

const mock = new MockProvider({ record: false });
const baseURL = await mock.listen();
const file = join(mkdtempSync(join(tmpdir(), 'tollgate-example-')), 'audit.jsonl');

const auditor = await createAuditor({
  store: { kind: 'jsonl', path: file },
  // The same typed timeouts/retries object as the gateway's upstream client.
  upstream: { timeouts: { firstByteMs: 5_000, totalMs: 30_000 }, retry: { maxRetries: 2 } },
});
const auditedFetch = createAuditedFetch({ auditor, attribution: { feature: 'embeddings-job' } });

// 1. A raw call.
const res = await auditedFetch(`${baseURL}/embeddings`, {
  method: 'POST',
  headers: {
    authorization: 'Bearer sk-example-not-a-real-key-0123456789abcdef',
    'content-type': 'application/json',
  },
  body: JSON.stringify({ model: 'text-embedding-3-small', input: ['first text', 'second text'] }),
});
console.log('status', res.status, 'event', res.headers.get('x-tollgate-event-id'));
await res.json();

// 2. Handed to the openai client (leave retries to the auditor: maxRetries 0).
const openai = new OpenAI({
  apiKey: 'sk-example-not-a-real-key-0123456789abcdef',
  baseURL,
  fetch: auditedFetch,
  maxRetries: 0,
});
await openai.chat.completions.create(
  { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] },
  { headers: { 'x-tollgate-user': 'u-1' } },
);

// 3. A failing call is audited too.
await openai.chat.completions
  .create({ model: 'mock-bad-request', messages: [{ role: 'user', content: 'oops' }] })
  .catch((err: unknown) => {
    console.log('failed as expected:', (err as { status?: number }).status);
  });

await auditor.close();
console.log(`\n${file}:`);
for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
  const e = JSON.parse(line) as {
    seq: number;
    status: string;
    endpoint: string;
    total_tokens: number | null;
    user_id: string | null;
    feature_name: string | null;
  };
  console.log(
    `${e.seq} ${e.status} ${e.endpoint} tokens=${e.total_tokens} user=${e.user_id} feature=${e.feature_name}`,
  );
}
await mock.close();
