/**
 * wrapOpenAI: the official openai client, audited in-process. Offline: talks to the mock provider.
 * Run: npx tsx examples/sdk-wrap-openai.ts
 */
import OpenAI from 'openai';
import { MockProvider } from '../src/mock-provider/mock-provider.js';
import { createAuditor, wrapOpenAI } from '../src/sdk/index.js';

const mock = new MockProvider({ record: false });
const baseURL = await mock.listen();

// One auditor per process. Pick a store: { kind: 'sqlite', path }, { kind: 'jsonl', path },
// { kind: 'http', url, token } or { kind: 'memory' }.
const auditor = await createAuditor({ store: { kind: 'memory' }, attribution: { team: 'search' } });
const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-example-not-a-real-key-0123456789abcdef', baseURL }), {
  auditor,
});

// Attribution for everything inside: user and session of the request being served.
await auditor.withContext({ user: 'user-42', session: 'sess-7', feature: 'answer' }, async () => {
  const answer = await openai.chat.completions.create({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: 'What is an audit trail?' }],
  });
  console.log('answer:', answer.choices[0]?.message.content);

  const stream = await openai.chat.completions.create({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: 'Stream it' }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  console.log('streamed:', text);
});

await auditor.flush();
for (const e of await auditor.store.query({ order: 'asc' })) {
  console.log(
    `${e.seq} ${e.status} ${e.model_used} stream=${e.stream} tokens=${e.input_tokens}/${e.output_tokens} cost=${e.cost_micro_usd}µ$ ttft=${e.time_to_first_token_ms}ms user=${e.user_id} team=${e.team}`,
  );
}
await auditor.close();
await mock.close();
