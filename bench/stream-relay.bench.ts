/**
 * CPU of relaying one streamed answer through the SSE assembler, per stream, with no network: the
 * bytes of the mock's chat, Responses and Anthropic streams (the ones bench/gateway.bench.ts
 * sends), fed to `relayStreamChunk` as the gateway does (one upstream read holding the whole
 * stream, as on loopback, and one read per event), then `finish()`.
 *
 *   npx tsx bench/stream-relay.bench.ts
 *     RELAY_STREAMS=N          streams per cell (default 20000)
 *     RELAY_MODES=chat,responses,anthropic
 *
 * For load-independent A/B decisions, run it under callgrind with one mode and compare
 * instruction counts between two N (the difference is per-stream work, without Node's start):
 *   RELAY_MODES=anthropic RELAY_STREAMS=0 valgrind --tool=callgrind node .bench-build/bench/stream-relay.bench.js
 */
import { relayStreamChunk } from '../src/capture/stream-relay.js';
import { SseAssembler } from '../src/capture/sse-assembler.js';
import { MockProvider } from '../src/mock-provider/mock-provider.js';
import { anthropicMessages } from '../src/providers/anthropic/messages.js';
import { openAIChat } from '../src/providers/openai/chat.js';
import { openAIResponses } from '../src/providers/openai/responses.js';
import type { ProviderApi } from '../src/providers/provider-api.js';

const N = Number(process.env.RELAY_STREAMS ?? 20_000);
const PROMPT = 'You are a helpful assistant for an online shop. '.repeat(6);
const QUESTION = 'Where is my order #48213? It was due on Monday and the tracking page shows nothing.';

interface Mode {
  name: string;
  api: ProviderApi;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  stripUsage: boolean;
}
const MODES: Mode[] = [
  {
    name: 'chat',
    api: openAIChat,
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-x' },
    body: {
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: PROMPT },
        { role: 'user', content: QUESTION },
      ],
      stream: true,
      stream_options: { include_usage: true },
    },
    stripUsage: true,
  },
  {
    name: 'responses',
    api: openAIResponses,
    path: '/v1/responses',
    headers: { authorization: 'Bearer sk-x' },
    body: { model: 'gpt-4.1-mini', instructions: PROMPT, input: QUESTION, stream: true },
    stripUsage: false,
  },
  {
    name: 'anthropic',
    api: anthropicMessages,
    path: '/v1/messages',
    headers: { 'x-api-key': 'sk-ant-x', 'anthropic-version': '2023-06-01' },
    body: {
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: PROMPT,
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
    },
    stripUsage: false,
  },
];
const wanted = (process.env.RELAY_MODES ?? 'chat,responses,anthropic').split(',');

const mock = new MockProvider({ record: false, chunks: 8 });
await mock.listen(0);
const origin = new URL(mock.baseUrl).origin;

function relay(mode: Mode, chunks: readonly Buffer[]): void {
  const a = new SseAssembler(mode.api);
  const decoder = new TextDecoder('utf-8');
  for (const c of chunks) relayStreamChunk(a, decoder, c, mode.stripUsage);
  a.finish();
}

for (const mode of MODES.filter((m) => wanted.includes(m.name))) {
  const res = await fetch(origin + mode.path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...mode.headers },
    body: JSON.stringify(mode.body),
  });
  const whole = Buffer.from(await res.arrayBuffer());
  const text = whole.toString('utf8');
  const events = text.split(/(?<=\n\n)/).map((e) => Buffer.from(e));
  for (const [label, chunks] of [
    ['one read', [whole]],
    ['a read per event', events],
  ] as const) {
    for (let i = 0; i < Math.min(2000, N); i++) relay(mode, chunks); // warm-up
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) relay(mode, chunks);
    const c = process.cpuUsage(c0);
    if (N > 0)
      console.log(
        `${mode.name.padEnd(10)} ${label.padEnd(17)} ${events.length} events ${whole.length} B  ${((c.user + c.system) / N).toFixed(2).padStart(6)} µs/stream`,
      );
  }
}
await mock.close();
