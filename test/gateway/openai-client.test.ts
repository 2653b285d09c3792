import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { until } from '../support/until.js';

const KEY = 'sk-proj-testkey0123456789abcdefghijklmnopqrstuvwxyzABCD';

describe('gateway driven by the official openai client', () => {
  let h: Harness;
  let client: OpenAI;
  beforeEach(async () => {
    h = await startHarness({ mock: { validKeys: [KEY] } });
    client = new OpenAI({ apiKey: KEY, baseURL: h.baseURL, maxRetries: 0 });
  });
  afterEach(async () => h.close());

  it('records a non-streaming chat completion field by field', async () => {
    const res = await client.chat.completions
      .create(
        { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello there friend' }], user: 'body-user' },
        {
          headers: {
            'x-tollgate-user': 'alice',
            'x-tollgate-session': 'sess-1',
            'x-tollgate-feature': 'chat',
            'x-tollgate-team': 'growth',
            'x-tollgate-source': 'web',
            'x-request-id': 'req-123',
            traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          },
        },
      )
      .withResponse();
    expect(res.data.choices[0]!.message.content).toMatch(/mock/);
    expect(res.response.headers.get('x-tollgate-request-id')).toBe('req-123');
    const eventId = res.response.headers.get('x-tollgate-event-id');
    const [e] = await h.events();
    expect(e).toBeDefined();
    expect(e!.id).toBe(eventId);
    expect(e!.schema_version).toBe(1);
    expect(e!.request_id).toBe('req-123');
    expect(e!.trace_id).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(e!.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(e!.chain_id).toBe('test-instance');
    expect(e!.seq).toBe(1);
    expect(e!.prev_hash).toBe('0'.repeat(64));
    expect(e!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(e!.source).toBe('gateway');
    expect(e!.instance_id).toBe('test-instance');
    expect(e!.ip_address).toBe('127.0.0.1');
    expect(e!.user_agent).toMatch(/OpenAI\/JS/);
    expect(e!.request_source).toBe('web');
    expect(e!.api_provider).toBe('openai');
    expect(e!.endpoint).toBe('/chat/completions');
    expect(e!.http_method).toBe('POST');
    expect(e!.model_requested).toBe('gpt-4.1');
    expect(e!.model_used).toBe('gpt-4.1-2025-04-14');
    expect(e!.stream).toBe(false);
    expect(e!.auth_method).toBe('bearer');
    expect(e!.auth_result).toBe('SUCCESS');
    expect(e!.api_key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(e!.api_key_prefix).toBe('sk-proj-');
    expect(e!.virtual_key_id).toBeNull();
    expect(e!.input_tokens).toBe(3); // the mock counts the words of message contents
    expect(e!.output_tokens).toBe(res.data.usage!.completion_tokens);
    expect(e!.total_tokens).toBe(res.data.usage!.total_tokens);
    expect(e!.cached_input_tokens).toBe(0);
    expect(e!.reasoning_tokens).toBe(0);
    expect(e!.usage_source).toBe('reported');
    expect(e!.latency_ms).toBeGreaterThan(0);
    expect(e!.time_to_first_token_ms).not.toBeNull();
    expect(e!.upstream_latency_ms).toBeGreaterThan(0);
    expect(e!.status).toBe('SUCCESS');
    expect(e!.http_status_code).toBe(200);
    expect(e!.error_code).toBeNull();
    expect(e!.error_message).toBeNull();
    expect(e!.retry_count).toBe(0);
    expect(e!.finish_reason).toBe('stop');
    expect(e!.user_id).toBe('alice'); // the header wins over the body's `user`
    expect(e!.session_id).toBe('sess-1');
    expect(e!.feature_name).toBe('chat');
    expect(e!.team).toBe('growth');
    expect(e!.cost_micro_usd).toBe(3 * 2 + res.data.usage!.completion_tokens * 8); // $2 / $8 per M tokens = 2 / 8 µ$ per token
    expect(e!.pricing_version).toMatch(/.+/);
    expect(e!.content_mode).toBe('full');
    expect(e!.prompt).toBe('user: hello there friend');
    expect(e!.response).toBe(res.data.choices[0]!.message.content);
    expect(e!.redactions).toEqual([]);
    expect(e!.is_anomalous).toBe(false);
    expect(e!.threat_indicators).toEqual([]);
    // Tollgate's own headers never reach the provider; the key does.
    const sent = h.mock.requests[0]!;
    expect(Object.keys(sent.headers).filter((k) => k.startsWith('x-tollgate'))).toEqual([]);
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('streams chunks, records usage it asked for, and hides that usage chunk from the client', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(sawUsage).toBe(false);
    const sentBody = JSON.parse(h.mock.requests[0]!.body);
    expect(sentBody.stream_options).toEqual({ include_usage: true });
    const [e] = await h.events();
    expect(e!.stream).toBe(true);
    expect(e!.status).toBe('SUCCESS');
    expect(e!.response).toBe(text);
    expect(e!.finish_reason).toBe('stop');
    expect(e!.usage_source).toBe('reported');
    expect(e!.input_tokens).toBe(2);
    expect(e!.output_tokens).toBe(text.trim().split(/\s+/).length);
    expect(e!.time_to_first_token_ms).not.toBeNull();
  });

  it('passes the usage chunk through when the client asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'with usage' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.prompt_tokens).toBe(2);
    const [e] = await h.events();
    expect(e!.input_tokens).toBe(2);
  });

  // Timing-sensitive (the upstream must see the close within a second): retried on a loaded machine.
  it(
    'records a client abort mid-stream as CANCELLED with estimated tokens and stops the upstream',
    { retry: 2 },
    async () => {
      await h.close();
      h = await startHarness({ mock: { validKeys: [KEY], chunks: 20, chunkDelayMs: 100 } });
      client = new OpenAI({ apiKey: KEY, baseURL: h.baseURL, maxRetries: 0 });
      const controller = new AbortController();
      const stream = await client.chat.completions.create(
        { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'long answer please' }], stream: true },
        { signal: controller.signal },
      );
      let received = '';
      let n = 0;
      try {
        for await (const chunk of stream) {
          received += chunk.choices[0]?.delta?.content ?? '';
          if (++n === 3) controller.abort();
        }
      } catch {
        // the SDK may end the iteration or throw an abort error; both are a client abort
      }
      expect(n).toBeLessThan(10);
      let events: Awaited<ReturnType<Harness['events']>> = [];
      await until('the cancelled event', async () => (events = await h.events()).length > 0, 15_000, 20);
      const e = events[0]!;
      expect(e.status).toBe('CANCELLED');
      expect(e.error_code).toBe('TG_ERR_CLIENT_CANCELLED');
      expect(e.usage_source).toBe('estimated');
      expect(e.output_tokens).toBeGreaterThan(0);
      expect(e.response!.startsWith(received.trimEnd().slice(0, 5))).toBe(true);
      // The provider saw its connection closed well within a second.
      await until('the upstream connection closed', () => h.mock.abortedByPeer > 0, 1_000, 10);
      expect(h.mock.abortedByPeer).toBe(1);
    },
  );

  it('records an upstream 401 as AUTH_FAILED with a fingerprint, never the key', async () => {
    const bad = 'sk-proj-WRONGkey0123456789abcdefghijklmnopqrstuvwxyz';
    const badClient = new OpenAI({ apiKey: bad, baseURL: h.baseURL, maxRetries: 0 });
    await expect(
      badClient.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 401,
    });
    const [e] = await h.events();
    expect(e!.status).toBe('AUTH_FAILED');
    expect(e!.auth_result).toBe('FAILED');
    expect(e!.http_status_code).toBe(401);
    expect(e!.error_code).toBe('invalid_api_key');
    expect(e!.error_message).toBe('Incorrect API key provided.');
    expect(e!.api_key_prefix).toBe('sk-proj-');
    expect(e!.api_key_id).toMatch(/^[0-9a-f]{16}$/);
    await h.tg.writer.drain();
    const dbBytes =
      readFileSync(join(h.dir, 'tollgate.db')).toString('latin1') +
      readFileSync(join(h.dir, 'tollgate.db-wal')).toString('latin1');
    expect(dbBytes.includes('WRONGkey')).toBe(false);
    expect(dbBytes.includes(KEY.slice(8))).toBe(false);
  });

  it('retries a 429 after its Retry-After and records one event with retry_count 1', async () => {
    h.mock.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    const started = Date.now();
    const res = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the gateway waited as told
    expect(res.choices[0]!.finish_reason).toBe('stop');
    const events = await h.events();
    expect(events).toHaveLength(1);
    expect(events[0]!.status).toBe('SUCCESS');
    expect(events[0]!.retry_count).toBe(1);
    expect(h.mock.requests).toHaveLength(2);
  });

  it('records RATE_LIMITED when the provider keeps refusing', async () => {
    h.mock.enqueue(
      { status: 429, headers: { 'retry-after-ms': '5' } },
      { status: 429, headers: { 'retry-after-ms': '5' } },
      { status: 429, headers: { 'retry-after-ms': '5' } },
    );
    await expect(
      client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 429 });
    const [e] = await h.events();
    expect(e!.status).toBe('RATE_LIMITED');
    expect(e!.retry_count).toBe(2);
    expect(e!.error_code).toBe('rate_limit_exceeded');
  });

  it('records an upstream 500 after retries as SERVER_ERROR', async () => {
    h.mock.enqueue({ status: 500 }, { status: 500 }, { status: 500 });
    await expect(
      client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 500 });
    const events = await h.events();
    expect(events).toHaveLength(1);
    expect(events[0]!.status).toBe('SERVER_ERROR');
    expect(events[0]!.http_status_code).toBe(500);
    expect(events[0]!.retry_count).toBe(2);
    expect(events[0]!.error_message).toMatch(/server had an error/);
    // A priced model with no usage (the provider failed) costs 0, not null: the price is known.
    expect(events[0]!.usage_source).toBe('none');
    expect(events[0]!.cost_micro_usd).toBe(0);
  });

  it('records an upstream that never answers as TIMEOUT and answers 504', async () => {
    await h.close();
    h = await startHarness({
      mock: { validKeys: [KEY] },
      upstream: { timeouts: { firstByteMs: 300 }, retry: { maxRetries: 0 } },
    });
    client = new OpenAI({ apiKey: KEY, baseURL: h.baseURL, maxRetries: 0 });
    h.mock.enqueue({ hang: true });
    await expect(
      client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 504 });
    const [e] = await h.events();
    expect(e!.status).toBe('TIMEOUT');
    expect(e!.http_status_code).toBe(504);
    expect(e!.error_code).toBe('TG_ERR_UPSTREAM_TIMEOUT');
  });
});
