/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai`, `@ai-sdk/anthropic`), unchanged: `generateText` and
 * `streamText` with the default `openai()` model (the Responses API), with `openai.chat()` (Chat
 * Completions) and with `anthropic()` (Messages), through the gateway and through the SDK's
 * audited fetch (the providers' `fetch` option). Each call's event is complete.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, type LanguageModel } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { createAuditedFetch, type FetchFunction } from '../../src/sdk/index.js';
import { sdkEvents } from '../sdk/sdk-support.js';
import { REPLY, USAGE } from '../support/dialect-upstreams.js';
import {
  ANTHROPIC_KEY,
  expectAuditedCall,
  OPENAI_KEY,
  PROMPT,
  startRealClientGateway,
  type ExpectedEvent,
  type RealClientSetup,
  startRealClientSdk,
  type RealClientSdkSetup,
} from '../support/real-client-audit.js';

interface Case {
  name: string;
  model(base: string, fetch?: { openai: FetchFunction; anthropic: FetchFunction }): LanguageModel;
  expected: Omit<ExpectedEvent, 'stream'>;
}

// gpt-4.1: $2 in / $8 out, claude-sonnet-4.5: $3 in / $15 out per million tokens (prices/catalog.yaml).
const OPENAI_EVENT = {
  provider: 'openai',
  model: 'gpt-4.1',
  key: OPENAI_KEY,
  authMethod: 'bearer',
  input: USAGE.input,
  output: USAGE.output,
  cost: USAGE.input * 2 + USAGE.output * 8,
};

const CASES: Case[] = [
  {
    name: 'openai() — the Responses API',
    model: (base, f) =>
      createOpenAI({ apiKey: OPENAI_KEY, baseURL: `${base}/v1`, ...(f ? { fetch: f.openai } : {}) })(
        'gpt-4.1',
      ),
    expected: { ...OPENAI_EVENT, endpoint: '/responses', finishReason: 'completed' },
  },
  {
    name: 'openai.chat() — Chat Completions',
    model: (base, f) =>
      createOpenAI({ apiKey: OPENAI_KEY, baseURL: `${base}/v1`, ...(f ? { fetch: f.openai } : {}) }).chat(
        'gpt-4.1',
      ),
    expected: { ...OPENAI_EVENT, endpoint: '/chat/completions', finishReason: 'stop' },
  },
  {
    name: 'anthropic() — Messages',
    model: (base, f) =>
      createAnthropic({ apiKey: ANTHROPIC_KEY, baseURL: `${base}/v1`, ...(f ? { fetch: f.anthropic } : {}) })(
        'claude-sonnet-4-5',
      ),
    expected: {
      provider: 'anthropic',
      endpoint: '/messages',
      model: 'claude-sonnet-4-5',
      key: ANTHROPIC_KEY,
      authMethod: 'x-api-key',
      // Not streamed: the dialect upstream reports cache reads and writes (see anthropic-sdk.test.ts).
      input: USAGE.input,
      output: USAGE.output,
      cost: USAGE.input * 3 + USAGE.output * 15,
      finishReason: 'end_turn',
    },
  },
];

/** generateText then streamText with one model; both must give the reply text. */
async function generateAndStream(model: LanguageModel): Promise<void> {
  const generated = await generateText({ model, prompt: PROMPT });
  expect(generated.text).toBe(REPLY);
  expect(generated.usage.outputTokens).toBe(USAGE.output);

  const streamed = streamText({ model, prompt: PROMPT });
  let text = '';
  for await (const piece of streamed.textStream) text += piece;
  expect(text).toBe(REPLY);
  expect((await streamed.usage).outputTokens).toBe(USAGE.output);
}

function expectPair(events: AuditEvent[], c: Case): void {
  expect(events).toHaveLength(2);
  const [generated, streamed] = events;
  if (c.expected.provider === 'anthropic') {
    // The non-streamed Anthropic answer carries prompt caching: 1000 uncached + 2000 written + 4000 read.
    expectAuditedCall(generated, {
      ...c.expected,
      stream: false,
      input: 7000,
      cached: 4000,
      cacheWrite: 2000,
      cost: 1000 * 3 + 2000 * 3.75 + 4000 * 0.3 + USAGE.output * 15,
    });
    expectAuditedCall(streamed, { ...c.expected, stream: true, cacheWrite: 0 });
  } else {
    expectAuditedCall(generated, { ...c.expected, stream: false });
    expectAuditedCall(streamed, { ...c.expected, stream: true });
  }
}

describe('Vercel AI SDK through the gateway', () => {
  let s: RealClientSetup;
  beforeEach(async () => {
    s = await startRealClientGateway();
  });
  afterEach(async () => s.close());

  for (const c of CASES) {
    it(`${c.name}: generateText and streamText work unchanged, each one complete event`, async () => {
      await generateAndStream(c.model(s.origin));
      expectPair(await s.h.events(), c);
    });
  }
});

describe('Vercel AI SDK with the audited fetch', () => {
  let sdk: RealClientSdkSetup;
  beforeEach(async () => {
    sdk = await startRealClientSdk();
  });
  afterEach(() => sdk.close());

  for (const c of CASES) {
    it(`${c.name}: generateText and streamText, each one complete event`, async () => {
      const fetch = {
        openai: createAuditedFetch({ auditor: sdk.auditor, provider: 'openai' }),
        anthropic: createAuditedFetch({ auditor: sdk.auditor, provider: 'anthropic' }),
      };
      await generateAndStream(c.model(sdk.up.origin, fetch));
      expectPair(await sdkEvents(sdk.auditor), c);
    });
  }
});
