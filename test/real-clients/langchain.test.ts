/**
 * LangChain's `ChatOpenAI` (`@langchain/openai`), unchanged: `invoke` and `stream`, through the
 * gateway and with the SDK's audited fetch (its `configuration.fetch`). Each call's event is
 * complete.
 */
import { ChatOpenAI } from '@langchain/openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { createAuditedFetch, type Auditor } from '../../src/sdk/index.js';
import { sdkEvents } from '../sdk/sdk-support.js';
import { REPLY, USAGE, startDialectUpstream, type DialectUpstream } from '../support/dialect-upstreams.js';
import {
  expectAuditedCall,
  OPENAI_KEY,
  PROMPT,
  realClientAuditor,
  startRealClientGateway,
  type RealClientSetup,
} from '../support/real-client-audit.js';

async function invokeAndStream(chat: ChatOpenAI): Promise<void> {
  const answer = await chat.invoke(PROMPT);
  expect(answer.content).toBe(REPLY);
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
  let up: DialectUpstream;
  let auditor: Auditor;
  beforeEach(async () => {
    up = await startDialectUpstream();
    auditor = await realClientAuditor();
  });
  afterEach(async () => {
    await auditor.close();
    await up.close();
  });

  it('invoke and stream, each one complete event', async () => {
    await invokeAndStream(
      new ChatOpenAI({
        model: 'gpt-4.1',
        apiKey: OPENAI_KEY,
        maxRetries: 0,
        configuration: {
          baseURL: `${up.origin}/v1`,
          fetch: createAuditedFetch({ auditor, provider: 'openai' }),
        },
      }),
    );
    expectPair(await sdkEvents(auditor));
  });
});
