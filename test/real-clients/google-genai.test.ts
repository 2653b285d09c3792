/**
 * The Google GenAI SDK (`@google/genai`), unchanged, on its default API version (`v1beta`) with
 * its key in `x-goog-api-key`: `generateContent` and `generateContentStream`, through the gateway
 * and with the SDK's audited fetch (`httpOptions.fetch`). Each call's event is complete.
 */
import { GoogleGenAI } from '@google/genai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { createAuditedFetch } from '../../src/sdk/index.js';
import { sdkEvents } from '../sdk/sdk-support.js';
import { REPLY, USAGE } from '../support/dialect-upstreams.js';
import {
  expectAuditedCall,
  GEMINI_KEY,
  PROMPT,
  startRealClientGateway,
  type RealClientSetup,
  startRealClientSdk,
  type RealClientSdkSetup,
} from '../support/real-client-audit.js';

const MODEL = 'gemini-2.5-flash';

async function generateAndStream(ai: GoogleGenAI): Promise<void> {
  const answer = await ai.models.generateContent({ model: MODEL, contents: PROMPT });
  expect(answer.text).toBe(REPLY);
  expect(answer.usageMetadata?.candidatesTokenCount).toBe(USAGE.output);

  let text = '';
  for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: PROMPT }))
    text += chunk.text ?? '';
  expect(text).toBe(REPLY);
}

function expectPair(events: AuditEvent[]): void {
  expect(events).toHaveLength(2);
  // gemini-2.5-flash: $0.30 in / $2.50 out per million tokens (prices/catalog.yaml).
  const expected = {
    provider: 'gemini',
    model: MODEL,
    key: GEMINI_KEY,
    authMethod: 'x-goog-api-key',
    input: USAGE.input,
    output: USAGE.output,
    cost: USAGE.input * 0.3 + USAGE.output * 2.5,
    finishReason: 'STOP',
  };
  expectAuditedCall(events[0], { ...expected, endpoint: `/models/${MODEL}:generateContent`, stream: false });
  expectAuditedCall(events[1], {
    ...expected,
    endpoint: `/models/${MODEL}:streamGenerateContent`,
    stream: true,
  });
}

describe('@google/genai through the gateway', () => {
  let s: RealClientSetup;
  beforeEach(async () => {
    s = await startRealClientGateway();
  });
  afterEach(async () => s.close());

  it('generateContent and generateContentStream work unchanged, each one complete event', async () => {
    await generateAndStream(new GoogleGenAI({ apiKey: GEMINI_KEY, httpOptions: { baseUrl: s.origin } }));
    expectPair(await s.h.events());
    // The default API version reached Gemini as sent, with the key in its header.
    expect(s.up.seen.map((r) => r.url)).toEqual([
      `/v1beta/models/${MODEL}:generateContent`,
      `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
    ]);
    expect(s.up.seen[0]!.headers['x-goog-api-key']).toBe(GEMINI_KEY);
  });
});

describe('@google/genai with the audited fetch', () => {
  let sdk: RealClientSdkSetup;
  beforeEach(async () => {
    sdk = await startRealClientSdk();
  });
  afterEach(() => sdk.close());

  it('generateContent and generateContentStream, each one complete event', async () => {
    const fetch = createAuditedFetch({ auditor: sdk.auditor, provider: 'gemini' });
    await generateAndStream(
      new GoogleGenAI({ apiKey: GEMINI_KEY, httpOptions: { baseUrl: sdk.up.origin, fetch } }),
    );
    expectPair(await sdkEvents(sdk.auditor));
  });
});
