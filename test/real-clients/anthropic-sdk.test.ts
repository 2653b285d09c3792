/**
 * The official `@anthropic-ai/sdk` client, unchanged, through the gateway and wrapped in-process
 * with `wrapAnthropic`: `messages.create` streamed and not, and `messages.stream`. Each call's
 * stored event carries the Anthropic usage (prompt-caching reads and writes priced at their
 * rates), the stop reason, the key fingerprint and the redacted prompt. Calls that are not a
 * message (models.list, messages.countTokens) work through the wrapped client and are audited too.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wrapAnthropic } from '../../src/sdk/index.js';
import { sdkEvents } from '../sdk/sdk-support.js';
import { ANTHROPIC_CACHE, MISSING_MODEL, REPLY, USAGE } from '../support/dialect-upstreams.js';
import {
  ANTHROPIC_KEY,
  expectAuditedCall,
  PROMPT,
  startRealClientGateway,
  type ExpectedEvent,
  type RealClientSetup,
  startRealClientSdk,
  type RealClientSdkSetup,
} from '../support/real-client-audit.js';

const MODEL = 'claude-sonnet-4-5';
const params = { model: MODEL, max_tokens: 256, messages: [{ role: 'user' as const, content: PROMPT }] };

/**
 * claude-sonnet-4.5: $3 input, $3.75 cache write, $0.30 cache read, $15 output per million tokens
 * (prices/catalog.yaml) = µ$ per token.
 */
const NOT_STREAMED: Omit<ExpectedEvent, 'provider'> = {
  endpoint: '/messages',
  model: MODEL,
  stream: false,
  key: ANTHROPIC_KEY,
  // @anthropic-ai/sdk 1.x sends its API key as a bearer token (0.x used x-api-key).
  authMethod: 'bearer',
  input: ANTHROPIC_CACHE.uncached + ANTHROPIC_CACHE.write + ANTHROPIC_CACHE.read,
  cached: ANTHROPIC_CACHE.read,
  cacheWrite: ANTHROPIC_CACHE.write,
  output: USAGE.output,
  cost:
    ANTHROPIC_CACHE.uncached * 3 +
    ANTHROPIC_CACHE.write * 3.75 +
    ANTHROPIC_CACHE.read * 0.3 +
    USAGE.output * 15,
  finishReason: 'end_turn',
};
const STREAMED: Omit<ExpectedEvent, 'provider'> = {
  ...NOT_STREAMED,
  stream: true,
  input: USAGE.input,
  cached: 0,
  cacheWrite: 0,
  cost: USAGE.input * 3 + USAGE.output * 15,
};

/** The three ways to call: create, create({ stream: true }), messages.stream(). */
async function callAllThree(client: Anthropic): Promise<void> {
  const message = await client.messages.create(params);
  expect(message.content).toEqual([{ type: 'text', text: REPLY }]);
  expect(message.usage.cache_read_input_tokens).toBe(ANTHROPIC_CACHE.read);

  let text = '';
  const stream = await client.messages.create({ ...params, stream: true });
  for await (const event of stream)
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  expect(text).toBe(REPLY);

  const final = await client.messages.stream(params).finalMessage();
  expect(final.content).toEqual([{ type: 'text', text: REPLY }]);
  expect(final.stop_reason).toBe('end_turn');
  expect(final.usage.output_tokens).toBe(USAGE.output);
}

describe('@anthropic-ai/sdk through the gateway', () => {
  let s: RealClientSetup;
  beforeEach(async () => {
    s = await startRealClientGateway();
  });
  afterEach(async () => s.close());

  it('messages.create (streamed and not) and messages.stream work unchanged, each one complete event', async () => {
    await callAllThree(new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: s.origin, maxRetries: 0 }));
    const [plain, streamed, helper] = await s.h.events();
    expectAuditedCall(plain, { provider: 'anthropic', ...NOT_STREAMED });
    expectAuditedCall(streamed, { provider: 'anthropic', ...STREAMED });
    expectAuditedCall(helper, { provider: 'anthropic', ...STREAMED });
    // The client's key and version header reached the provider as sent.
    expect(s.up.seen[0]!.headers.authorization).toBe(`Bearer ${ANTHROPIC_KEY}`);
    expect(s.up.seen[0]!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(s.up.seen[0]!.url).toBe('/v1/messages');
  });
});

describe('wrapAnthropic(new Anthropic()) in-process', () => {
  let sdk: RealClientSdkSetup;
  beforeEach(async () => {
    sdk = await startRealClientSdk();
  });
  afterEach(() => sdk.close());

  it('audits the same three calls through the Anthropic Messages spec', async () => {
    const client = wrapAnthropic(new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: sdk.up.origin }), {
      auditor: sdk.auditor,
    });
    expect(client).toBeInstanceOf(Anthropic);
    await callAllThree(client);
    const [plain, streamed, helper] = await sdkEvents(sdk.auditor);
    for (const e of [plain, streamed, helper]) expect(e!.source).toBe('sdk');
    expectAuditedCall(plain, { provider: 'anthropic', ...NOT_STREAMED });
    expectAuditedCall(streamed, { provider: 'anthropic', ...STREAMED });
    expectAuditedCall(helper, { provider: 'anthropic', ...STREAMED });
    expect(sdk.up.seen).toHaveLength(3);
  });

  it('passes the calls that are not a message through, working and audited (models.list, count_tokens)', async () => {
    const client = wrapAnthropic(new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: sdk.up.origin }), {
      auditor: sdk.auditor,
    });
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toEqual(['claude-sonnet-4-5-20250929']);
    const count = await client.messages.countTokens({ model: MODEL, messages: params.messages });
    expect(count.input_tokens).toBe(USAGE.input);
    // Every call through the wrapped client leaves its event (docs/sdk.md: the audited fetch
    // records any API), with no price for an answer that bills nothing.
    const [list, counted] = await sdkEvents(sdk.auditor);
    expect(list).toMatchObject({
      source: 'sdk',
      status: 'SUCCESS',
      http_status_code: 200,
      http_method: 'GET',
      api_provider: 'anthropic',
      endpoint: '/models',
    });
    expect(counted).toMatchObject({
      source: 'sdk',
      status: 'SUCCESS',
      http_status_code: 200,
      http_method: 'POST',
      api_provider: 'anthropic',
      endpoint: '/messages/count_tokens',
      model_requested: MODEL,
      output_tokens: null,
    });
    for (const e of [list!, counted!]) {
      expect(e.cost_micro_usd).not.toBe(0);
      expect(JSON.stringify(e)).not.toContain(ANTHROPIC_KEY);
    }
    expect(sdk.up.seen.map((r) => r.url)).toEqual(['/v1/models', '/v1/messages/count_tokens']);
  });

  it('records a provider error as the client sees it, under the provider name given', async () => {
    const client = wrapAnthropic(
      new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: sdk.up.origin, maxRetries: 5 }),
      {
        auditor: sdk.auditor,
        provider: 'anthropic-eu',
      },
    );
    await expect(client.messages.create({ ...params, model: MISSING_MODEL })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const [e] = await sdkEvents(sdk.auditor);
    expect(e!.status).toBe('CLIENT_ERROR');
    expect(e!.http_status_code).toBe(404);
    expect(e!.api_provider).toBe('anthropic-eu');
    expect(e!.retry_count).toBe(0);
    expect(sdk.up.seen).toHaveLength(1);
  });
});
