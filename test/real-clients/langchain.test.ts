/**
 * LangChain's `ChatOpenAI` (`@langchain/openai`) and `ChatAnthropic` (`@langchain/anthropic`),
 * unchanged: `invoke` and `stream`, through the gateway and with the SDK's audited fetch
 * (`configuration.fetch`, `clientOptions.fetch`). Each call's event is complete.
 */
import { ChatAnthropic } from '@langchain/anthropic';
import { ChatOpenAI } from '@langchain/openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { createAuditedFetch } from '../../src/sdk/index.js';
import { sdkEvents } from '../sdk/sdk-support.js';
import { ANTHROPIC_CACHE, REPLY, USAGE, startDialectUpstream } from '../support/dialect-upstreams.js';
import {
  ANTHROPIC_KEY,
  expectAuditedCall,
  OPENAI_KEY,
  PROMPT,
  realClientAuditor,
  startRealClientGateway,
  type RealClientSetup,
  startRealClientSdk,
  type RealClientSdkSetup,
} from '../support/real-client-audit.js';

async function invokeAndStream(chat: ChatOpenAI | ChatAnthropic): Promise<void> {
  const answer = await chat.invoke(PROMPT);
  expect(answer.text).toBe(REPLY);
  expect(answer.usage_metadata?.output_tokens).toBe(USAGE.output);

  let text = '';
  for await (const chunk of await chat.stream(PROMPT)) text += chunk.text;
  expect(text).toBe(REPLY);
}

function expectPair(events: AuditEvent[]): void {
  expect(events).toHaveLength(2);
  // gpt-4.1: $2 in / $8 out per million tokens (prices/catalog.yaml).
  const expected = {
    provider: 'openai',
    endpoint: '/chat/completions',
    model: 'gpt-4.1',
    key: OPENAI_KEY,
    authMethod: 'bearer',
    input: USAGE.input,
    output: USAGE.output,
    cost: USAGE.input * 2 + USAGE.output * 8,
    finishReason: 'stop',
  };
  expectAuditedCall(events[0], { ...expected, stream: false });
  expectAuditedCall(events[1], { ...expected, stream: true });
}

describe('LangChain ChatOpenAI through the gateway', () => {
  let s: RealClientSetup;
  beforeEach(async () => {
    s = await startRealClientGateway();
  });
  afterEach(async () => s.close());

  it('invoke and stream work unchanged, each one complete event', async () => {
    await invokeAndStream(
      new ChatOpenAI({
        model: 'gpt-4.1',
        apiKey: OPENAI_KEY,
        maxRetries: 0,
        configuration: { baseURL: s.h.baseURL },
      }),
    );
    expectPair(await s.h.events());
  });
});

describe('LangChain ChatOpenAI with the audited fetch', () => {
  let sdk: RealClientSdkSetup;
  beforeEach(async () => {
    sdk = await startRealClientSdk();
  });
  afterEach(() => sdk.close());

  it('invoke and stream, each one complete event', async () => {
    await invokeAndStream(
      new ChatOpenAI({
        model: 'gpt-4.1',
        apiKey: OPENAI_KEY,
        maxRetries: 0,
        configuration: {
          baseURL: `${sdk.up.origin}/v1`,
          fetch: createAuditedFetch({ auditor: sdk.auditor, provider: 'openai' }),
        },
      }),
    );
    expectPair(await sdkEvents(sdk.auditor));
  });
});

/** claude-sonnet-4.5: $3 in, $3.75 cache write, $0.30 cache read, $15 out per million tokens. */
function expectAnthropicPair(events: AuditEvent[]): void {
  expect(events).toHaveLength(2);
  const base = {
    provider: 'anthropic',
    endpoint: '/messages',
    model: 'claude-sonnet-4-5',
    key: ANTHROPIC_KEY,
    authMethod: 'x-api-key', // @langchain/anthropic's bundled @anthropic-ai/sdk 0.x sends x-api-key
    output: USAGE.output,
    finishReason: 'end_turn',
  };
  const { uncached, write, read } = ANTHROPIC_CACHE;
  expectAuditedCall(events[0], {
    ...base,
    stream: false,
    input: uncached + write + read,
    cached: read,
    cacheWrite: write,
    cost: uncached * 3 + write * 3.75 + read * 0.3 + USAGE.output * 15,
  });
  expectAuditedCall(events[1], {
    ...base,
    stream: true,
    input: USAGE.input,
    cacheWrite: 0,
    cost: USAGE.input * 3 + USAGE.output * 15,
  });
}

describe('LangChain ChatAnthropic', () => {
  it('invoke and stream through the gateway, each one complete event', async () => {
    const s = await startRealClientGateway();
    try {
      await invokeAndStream(
        new ChatAnthropic({
          model: 'claude-sonnet-4-5',
          apiKey: ANTHROPIC_KEY,
          maxRetries: 0,
          anthropicApiUrl: s.origin,
        }),
      );
      expectAnthropicPair(await s.h.events());
    } finally {
      await s.close();
    }
  });

  it('invoke and stream with the audited fetch, each one complete event', async () => {
    const up = await startDialectUpstream();
    const auditor = await realClientAuditor();
    try {
      await invokeAndStream(
        new ChatAnthropic({
          model: 'claude-sonnet-4-5',
          apiKey: ANTHROPIC_KEY,
          maxRetries: 0,
          anthropicApiUrl: up.origin,
          clientOptions: { fetch: createAuditedFetch({ auditor, provider: 'anthropic' }) },
        }),
      );
      expectAnthropicPair(await sdkEvents(auditor));
    } finally {
      await auditor.close();
      await up.close();
    }
  });
});
