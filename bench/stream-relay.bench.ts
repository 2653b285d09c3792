/**
 * CPU of relaying one streamed answer through the SSE assembler, per stream, with no network: the
 * bytes of the mock's chat, Responses and Anthropic streams (the ones bench/gateway.bench.ts
 * sends), fed to `relayStreamChunk` as the gateway does (one upstream read holding the whole
 * stream, as on loopback, and one read per event), then `finish()`. `chat-obfuscated` is the chat
 * stream as OpenAI sends it since 2025: each chunk with a different `obfuscation` string. Each
 * stream is relayed with the text-delta templates the gateway shares between streams, and, on
 * the line after, with none (every stream learns its own, as before the gateway kept them).
 *
 *   npx tsx bench/stream-relay.bench.ts
 *     RELAY_STREAMS=N          streams per cell (default 20000)
 *     RELAY_MODES=chat,chat-obfuscated,responses,anthropic
 *
 * For load-independent A/B decisions, run it under callgrind with one mode and compare
 * instruction counts between two N (the difference is per-stream work, without Node's start):
 *   RELAY_MODES=anthropic RELAY_STREAMS=0 valgrind --tool=callgrind node .bench-build/bench/stream-relay.bench.js
 */
import { relayStreamChunk } from '../src/capture/stream-relay.js';
import { TemplateCache } from '../src/capture/delta-template.js';
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
  /** Rewrites the mock's events into another provider's shape of the same API. */
  reshape?: (data: string, n: number) => string;
}
const CHAT_BODY = {
  model: 'gpt-4.1-mini',
  messages: [
    { role: 'system', content: PROMPT },
    { role: 'user', content: QUESTION },
  ],
  stream: true,
  stream_options: { include_usage: true },
};
const MODES: Mode[] = [
  {
    name: 'chat',
    api: openAIChat,
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-x' },
    body: CHAT_BODY,
    stripUsage: true,
  },
  {
    name: 'chat-obfuscated',
    api: openAIChat,
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-x' },
    body: CHAT_BODY,
    stripUsage: true,
    reshape: (data, n) =>
      data.startsWith('{') ? `${data.slice(0, -1)},"obfuscation":"${'xK9'.repeat(n % 5)}q"}` : data,
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
const wanted = (process.env.RELAY_MODES ?? 'chat,chat-obfuscated,responses,anthropic').split(',');

const mock = new MockProvider({ record: false, chunks: 8 });
await mock.listen(0);
const origin = new URL(mock.baseUrl).origin;

function relay(mode: Mode, chunks: readonly Buffer[], templates: TemplateCache | null): void {
  const a = new SseAssembler(mode.api, templates);
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
  const reshape = mode.reshape;
  const text = reshape
    ? (await res.text())
        .split(/(?<=\n\n)/)
        .map((e, n) => e.replace(/^data: (.*)\n\n$/, (_m, d: string) => `data: ${reshape(d, n)}\n\n`))
        .join('')
    : await res.text();
  const whole = Buffer.from(text);
  const events = text.split(/(?<=\n\n)/).map((e) => Buffer.from(e));
  for (const [label, chunks] of [
    ['one read', [whole]],
    ['a read per event', events],
  ] as const) {
    for (const shared of [true, false]) {
      const templates = (): TemplateCache | null => (shared ? new TemplateCache() : null);
      const warm = templates();
      for (let i = 0; i < Math.min(2000, N); i++) relay(mode, chunks, warm);
      const cache = templates();
      const c0 = process.cpuUsage();
      for (let i = 0; i < N; i++) relay(mode, chunks, cache);
      const c = process.cpuUsage(c0);
      if (N > 0)
        console.log(
          `${mode.name.padEnd(15)} ${label.padEnd(17)} ${shared ? 'shared ' : 'own    '} ${events.length} events ${whole.length} B  ${((c.user + c.system) / N).toFixed(2).padStart(6)} µs/stream`,
        );
    }
  }
}
await mock.close();
