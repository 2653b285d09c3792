/**
 * The SDK driven by the official openai client against the mock provider, in the scenarios of
 * test/gateway/openai-client.test.ts. Each scenario runs the same request through the gateway and
 * through the SDK and asserts the two events are identical apart from origin, timing and ids.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import type { Auditor } from '../../src/sdk/index.js';
import { startHarness, type Harness, type HarnessOptions } from '../support/gateway-harness.js';
import { until } from '../support/until.js';
import {
  harnessLikeAuditor,
  KEY,
  ORIGIN_TIMING_AND_IDS,
  sdkClient,
  sdkEvents,
  without,
} from './sdk-support.js';

interface Pair {
  h: Harness;
  auditor: Auditor;
  gateway: OpenAI;
  sdk: OpenAI;
}

let open: Pair | null = null;

async function pair(o: HarnessOptions = {}, apiKey = KEY): Promise<Pair> {
  const h = await startHarness({
    mock: { validKeys: [KEY], ...o.mock },
    ...(o.upstream ? { upstream: o.upstream } : {}),
  });
  const auditor = await harnessLikeAuditor(o.upstream ? { upstream: o.upstream } : {});
  open = {
    h,
    auditor,
    gateway: new OpenAI({ apiKey, baseURL: h.baseURL, maxRetries: 0 }),
    sdk: sdkClient(auditor, h.mock.baseUrl, apiKey),
  };
  return open;
}

afterEach(async () => {
  if (open) {
    await open.auditor.close();
    await open.h.close();
    open = null;
  }
});

/** Runs `call` through the gateway, then through the SDK; returns both events. */
async function both(
  p: Pair,
  call: (client: OpenAI) => Promise<unknown>,
  script?: () => void,
): Promise<{ gw: AuditEvent; sdk: AuditEvent }> {
  script?.();
  await call(p.gateway);
  script?.();
  await call(p.sdk);
  const gw = await p.h.events();
  const sdk = await sdkEvents(p.auditor);
  expect(gw).toHaveLength(1);
  expect(sdk).toHaveLength(1);
  return { gw: gw[0]!, sdk: sdk[0]! };
}

function expectSameExchange(gw: AuditEvent, sdk: AuditEvent, alsoIgnore: readonly string[] = []): void {
  const ignore = [...ORIGIN_TIMING_AND_IDS, ...alsoIgnore];
  expect(without(sdk, ignore)).toEqual(without(gw, ignore));
  expect(gw.source).toBe('gateway');
  expect(sdk.source).toBe('sdk');
  expect(sdk.instance_id).toMatch(/^sdk-/);
  expect(sdk.chain_id).toBe(sdk.instance_id);
  expect(sdk.seq).toBe(1);
  expect(sdk.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(sdk.span_id).toMatch(/^[0-9a-f]{16}$/);
  expect(sdk.ip_address).toBeNull();
}

const chat = {
  model: 'gpt-4.1',
  messages: [{ role: 'user' as const, content: 'hello there friend' }],
  user: 'body-user',
};
const attribution = {
  'x-tollgate-user': 'alice',
  'x-tollgate-session': 'sess-1',
  'x-tollgate-feature': 'chat',
  'x-tollgate-team': 'growth',
  'x-tollgate-source': 'web',
};

describe('SDK and gateway record the same event for the same exchange (official openai client)', () => {
  it('success: a non-streaming chat completion, attribution from x-tollgate-* headers', async () => {
    const p = await pair();
    let sdkRes: { data: OpenAI.ChatCompletion; response: Response } | null = null;
    const { gw, sdk } = await both(p, async (c) => {
      const r = await c.chat.completions.create(chat, { headers: attribution }).withResponse();
      if (c === p.sdk) sdkRes = r;
    });
    expectSameExchange(gw, sdk);
    expect(sdk.status).toBe('SUCCESS');
    expect(sdk.user_id).toBe('alice');
    expect(sdk.usage_source).toBe('reported');
    expect(sdk.cost_micro_usd).toBeGreaterThan(0);
    expect(sdk.auth_result).toBe('SUCCESS');
    expect(sdk.api_key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(sdk.user_agent).toMatch(/OpenAI\/JS/);
    expect(sdkRes!.response.headers.get('x-tollgate-event-id')).toBe(sdk.id);
    // Tollgate's own headers never reach the provider from the SDK either; the key does.
    const sent = p.h.mock.requests[1]!;
    expect(Object.keys(sent.headers).filter((k) => k.startsWith('x-tollgate'))).toEqual([]);
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('stream: usage asked for and hidden from the caller, chunks passed on, TTFT recorded', async () => {
    const p = await pair();
    const texts: string[] = [];
    let sawUsage = false;
    const { gw, sdk } = await both(p, async (c) => {
      const stream = await c.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) sawUsage = true;
      }
      texts.push(text);
    });
    expectSameExchange(gw, sdk);
    expect(sawUsage).toBe(false);
    expect(texts[1]).toBe(texts[0]);
    expect(sdk.response).toBe(texts[1]);
    expect(sdk.stream).toBe(true);
    expect(sdk.usage_source).toBe('reported');
    expect(sdk.time_to_first_token_ms).not.toBeNull();
    expect(JSON.parse(p.h.mock.requests[1]!.body).stream_options).toEqual({ include_usage: true });
  });

  it('abort mid-stream: CANCELLED with estimated tokens, and the provider sees the connection closed', async () => {
    const p = await pair({ mock: { chunks: 20, chunkDelayMs: 50 } });
    const { gw, sdk } = await both(p, async (c) => {
      const controller = new AbortController();
      const stream = await c.chat.completions.create(
        { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'long answer please' }], stream: true },
        { signal: controller.signal },
      );
      let n = 0;
      try {
        for await (const _chunk of stream) if (++n === 3) controller.abort();
      } catch {
        // the client may end the iteration or throw an abort error; both are a client abort
      }
      expect(n).toBeLessThan(10);
      // The gateway records once it notices the closed connection; wait for it before the next run.
      if (c === p.gateway)
        await until('the gateway event', async () => (await p.h.events()).length > 0, 5_000, 20);
    });
    // How much text arrived before the abort depends on timing, so the content and counts derived from it may differ.
    expectSameExchange(gw, sdk, ['response', 'output_tokens', 'total_tokens', 'cost_micro_usd']);
    expect(sdk.status).toBe('CANCELLED');
    expect(sdk.error_code).toBe('TG_ERR_CLIENT_CANCELLED');
    expect(sdk.usage_source).toBe('estimated');
    expect(sdk.output_tokens).toBeGreaterThan(0);
    await until('both upstream connections closed', () => p.h.mock.abortedByPeer >= 2, 5_000, 10);
    expect(p.h.mock.abortedByPeer).toBe(2);
  });

  it('401: AUTH_FAILED with a fingerprint, never the key', async () => {
    const bad = 'sk-proj-WRONGkey0123456789abcdefghijklmnopqrstuvwxyz';
    const p = await pair({}, bad);
    const { gw, sdk } = await both(p, async (c) => {
      await expect(c.chat.completions.create(chat)).rejects.toMatchObject({ status: 401 });
    });
    expectSameExchange(gw, sdk);
    expect(sdk.status).toBe('AUTH_FAILED');
    expect(sdk.auth_result).toBe('FAILED');
    expect(sdk.error_code).toBe('invalid_api_key');
    expect(JSON.stringify(sdk)).not.toContain('WRONGkey');
  });

  it('429 + Retry-After: waits as told, retries once, one event with retry_count 1', async () => {
    const p = await pair();
    const { gw, sdk } = await both(
      p,
      async (c) => {
        const r = await c.chat.completions.create(chat);
        expect(r.choices[0]!.finish_reason).toBe('stop');
      },
      () => p.h.mock.enqueue({ status: 429, headers: { 'retry-after': '1' } }),
    );
    expectSameExchange(gw, sdk);
    expect(sdk.status).toBe('SUCCESS');
    expect(sdk.retry_count).toBe(1);
    expect(p.h.mock.requests).toHaveLength(4);
    // The SDK's retry came no sooner than the second the provider asked for.
    expect(sdk.upstream_latency_ms!).toBeGreaterThanOrEqual(900);
  });

  it('429 until the retries run out: RATE_LIMITED with the provider error code', async () => {
    const p = await pair();
    const r429 = { status: 429, headers: { 'retry-after-ms': '5' } };
    const { gw, sdk } = await both(
      p,
      async (c) => {
        await expect(c.chat.completions.create(chat)).rejects.toMatchObject({ status: 429 });
      },
      () => p.h.mock.enqueue(r429, r429, r429),
    );
    expectSameExchange(gw, sdk);
    expect(sdk.status).toBe('RATE_LIMITED');
    expect(sdk.retry_count).toBe(2);
    expect(sdk.error_code).toBe('rate_limit_exceeded');
  });

  it('500 after retries: SERVER_ERROR', async () => {
    const p = await pair();
    const { gw, sdk } = await both(
      p,
      async (c) => {
        await expect(c.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
      },
      () => p.h.mock.enqueue({ status: 500 }, { status: 500 }, { status: 500 }),
    );
    expectSameExchange(gw, sdk);
    expect(sdk.status).toBe('SERVER_ERROR');
    expect(sdk.retry_count).toBe(2);
    expect(sdk.cost_micro_usd).toBe(0);
  });

  it('timeout: an upstream that never answers is TIMEOUT with the gateway code', async () => {
    const p = await pair({ upstream: { timeouts: { firstByteMs: 300 }, retry: { maxRetries: 0 } } });
    const { gw, sdk } = await both(
      p,
      async (c) => {
        await expect(c.chat.completions.create(chat)).rejects.toThrow();
      },
      () => p.h.mock.enqueue({ hang: true }),
    );
    expectSameExchange(gw, sdk);
    expect(sdk.status).toBe('TIMEOUT');
    expect(sdk.error_code).toBe('TG_ERR_UPSTREAM_TIMEOUT');
    expect(sdk.http_status_code).toBe(504);
  });
});
