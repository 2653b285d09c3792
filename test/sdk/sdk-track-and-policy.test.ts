import OpenAI from 'openai';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createAuditedFetch, wrapOpenAI, TollgateError, type Auditor } from '../../src/sdk/index.js';
import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { FlakyEventStore } from '../support/flaky-event-store.js';
import { harnessLikeAuditor, KEY, sdkClient, sdkEvents } from './sdk-support.js';

const toClose: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c();
});

async function setup(
  o: Parameters<typeof harnessLikeAuditor>[0] = {},
): Promise<{ mock: MockProvider; auditor: Auditor; base: string }> {
  const mock = new MockProvider({ validKeys: [KEY] });
  const base = await mock.listen();
  toClose.push(() => mock.close());
  const auditor = await harnessLikeAuditor(o);
  toClose.push(() => auditor.close());
  return { mock, auditor, base };
}

const chat = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('auditor.track (calls that are not OpenAI-shaped)', () => {
  it('records a successful call with the usage, model, output and first token it reported, priced', async () => {
    const { auditor } = await setup();
    const value = await auditor.track(
      {
        provider: 'anthropic',
        endpoint: '/messages',
        request: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'tell me' }] },
        attribution: { feature: 'summary' },
      },
      async (call) => {
        call.markFirstToken();
        call.appendOutput('four words of output');
        call.setModel('gpt-4.1-2025-04-14');
        call.setUsage({ input_tokens: 10, output_tokens: 4 });
        call.setFinishReason('end_turn');
        return 42;
      },
    );
    expect(value).toBe(42);
    const [e] = await sdkEvents(auditor);
    expect(e!.status).toBe('SUCCESS');
    expect(e!.api_provider).toBe('anthropic');
    expect(e!.endpoint).toBe('/messages');
    expect(e!.model_requested).toBe('gpt-4.1');
    expect(e!.model_used).toBe('gpt-4.1-2025-04-14');
    expect(e!.input_tokens).toBe(10);
    expect(e!.output_tokens).toBe(4);
    expect(e!.usage_source).toBe('reported');
    expect(e!.cost_micro_usd).toBe(10 * 2 + 4 * 8);
    expect(e!.prompt).toBe('user: tell me');
    expect(e!.response).toBe('four words of output');
    expect(e!.finish_reason).toBe('end_turn');
    expect(e!.feature_name).toBe('summary');
    expect(e!.time_to_first_token_ms).not.toBeNull();
    expect(e!.source).toBe('sdk');
  });

  it('records a call that throws (provider status error), then rethrows the same error', async () => {
    const { auditor } = await setup();
    const thrown = Object.assign(new Error('Overloaded'), {
      status: 529,
      error: { code: 'overloaded_error' },
    });
    await expect(
      auditor.track({ provider: 'anthropic', model: 'claude-x' }, async () => Promise.reject(thrown)),
    ).rejects.toBe(thrown);
    const [e] = await sdkEvents(auditor);
    expect(e!.status).toBe('SERVER_ERROR');
    expect(e!.http_status_code).toBe(529);
    expect(e!.error_code).toBe('overloaded_error');
    expect(e!.error_message).toBe('Overloaded');
    expect(e!.usage_source).toBe('none');
  });

  it('classifies aborts, timeouts and network failures', async () => {
    const { auditor } = await setup();
    const fail = (err: Error) =>
      auditor.track({ provider: 'p' }, async () => Promise.reject(err)).catch(() => undefined);
    await fail(new DOMException('aborted', 'AbortError'));
    await fail(new DOMException('timed out', 'TimeoutError'));
    await fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await fail(Object.assign(new Error('rate'), { status: 429 }));
    const events = await sdkEvents(auditor);
    expect(events.map((e) => e.status)).toEqual(['CANCELLED', 'TIMEOUT', 'SERVER_ERROR', 'RATE_LIMITED']);
    expect(events.map((e) => e.error_code)).toEqual([
      'TG_ERR_CLIENT_CANCELLED',
      'TG_ERR_UPSTREAM_TIMEOUT',
      'ECONNREFUSED',
      'Error',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('attribution', () => {
  it('comes from withContext across awaits, call options override it, and contexts nest', async () => {
    const { auditor, base } = await setup({ attribution: { team: 'platform', source: 'batch' } });
    const client = sdkClient(auditor, base);
    await auditor.withContext({ user: 'bob', session: 's-9' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      await client.chat.completions.create(chat);
      await auditor.withContext({ feature: 'search' }, () =>
        client.chat.completions.create(chat, { headers: { 'x-tollgate-user': 'carol' } }),
      );
    });
    await client.chat.completions.create(chat); // outside any context
    const [a, b, c] = await sdkEvents(auditor);
    expect([a!.user_id, a!.session_id, a!.feature_name, a!.team, a!.request_source]).toEqual([
      'bob',
      's-9',
      null,
      'platform',
      'batch',
    ]);
    expect([b!.user_id, b!.session_id, b!.feature_name, b!.team]).toEqual([
      'carol',
      's-9',
      'search',
      'platform',
    ]);
    expect([c!.user_id, c!.session_id]).toEqual([null, null]);
  });

  it('takes the typed option of createAuditedFetch, and cleans control characters', async () => {
    const { auditor, base } = await setup();
    const fetchFn = createAuditedFetch({
      auditor,
      attribution: { user: 'dave\r\nforged: yes', feature: 'export' },
    });
    const client = new OpenAI({ apiKey: KEY, baseURL: base, fetch: fetchFn, maxRetries: 0 });
    await client.chat.completions.create(chat);
    const [e] = await sdkEvents(auditor);
    expect(e!.user_id).toBe('dave forged: yes');
    expect(e!.feature_name).toBe('export');
  });
});

describe('the audited fetch for any OpenAI-compatible call', () => {
  it('audits a plain fetch of /v1/embeddings and returns the body unchanged', async () => {
    const { auditor, base } = await setup();
    const fetchFn = createAuditedFetch({ auditor });
    const res = await fetchFn(`${base}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'three words here' }),
    });
    const body = (await res.json()) as { usage: { prompt_tokens: number } };
    expect(body.usage.prompt_tokens).toBe(3);
    const [e] = await sdkEvents(auditor);
    expect(e!.endpoint).toBe('/embeddings');
    expect(e!.input_tokens).toBe(3);
    expect(res.headers.get('x-tollgate-event-id')).toBe(e!.id);
  });

  it('records nothing until the caller reads or cancels the body, then exactly one event', async () => {
    const { auditor, base } = await setup();
    const fetchFn = createAuditedFetch({ auditor });
    const res = await fetchFn(`${base}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ ...chat, stream: true }),
    });
    expect(await sdkEvents(auditor)).toHaveLength(0);
    await res.body!.cancel();
    const events = await sdkEvents(auditor);
    expect(events).toHaveLength(1);
    expect(events[0]!.status).toBe('CANCELLED');
  });
});

describe('failure policy: the SDK never throws because auditing failed', () => {
  it('fail-open: calls go on while the store is down, and what could not be written is counted', async () => {
    const flaky = new FlakyEventStore(new MemoryEventStore());
    const { auditor, base } = await setup({ store: flaky, writer: { retryIntervalMs: 60_000 } });
    const client = sdkClient(auditor, base);
    flaky.down = true;
    for (let i = 0; i < 3; i++) await client.chat.completions.create(chat);
    await auditor.flush();
    const s = auditor.stats();
    expect(s.enqueued).toBe(3);
    expect(s.written).toBe(0);
    expect(s.dropped).toBe(3); // no spool configured: counted as a gap, never silent
    expect(s.gaps).toBeGreaterThan(0);
  });

  it('fail-closed: with the store down the call is refused with TG_ERR_AUDIT_UNAVAILABLE and the provider is not called', async () => {
    const flaky = new FlakyEventStore(new MemoryEventStore());
    const { auditor, base, mock } = await setup({
      store: flaky,
      failurePolicy: 'fail-closed',
      writer: { retryIntervalMs: 60_000 },
    });
    const fetchFn = createAuditedFetch({ auditor });
    const call = () =>
      fetchFn(`${base}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
        body: JSON.stringify(chat),
      }).then((r) => r.json());
    await call(); // committed
    flaky.down = true;
    // The first call after the outage finds out at commit time: its body errors instead of completing.
    await expect(call()).rejects.toMatchObject({ code: 'TG_ERR_AUDIT_UNAVAILABLE' });
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).code).toBe('TG_ERR_AUDIT_UNAVAILABLE');
    expect(mock.requests).toHaveLength(2);
    await expect(auditor.track({ provider: 'p' }, async () => 'never')).rejects.toMatchObject({
      code: 'TG_ERR_AUDIT_UNAVAILABLE',
    });
    expect(auditor.stats().refused).toBe(2);
    expect(auditor.stats().commitFailures).toBe(1);
  });
});

describe('wrapOpenAI', () => {
  it('keeps the client type (type test)', () => {
    class MyOpenAI extends OpenAI {
      tag = 'mine' as const;
    }
    const auditor = null as unknown as Auditor;
    const wrap = (c: MyOpenAI) => wrapOpenAI(c, { auditor });
    expectTypeOf(wrap).returns.toEqualTypeOf<MyOpenAI>();
    expectTypeOf(wrapOpenAI<OpenAI>).returns.toEqualTypeOf<OpenAI>();
    expectTypeOf(wrapOpenAI<OpenAI>)
      .parameter(0)
      .toEqualTypeOf<OpenAI>();
  });

  it('returns an instance of the same class, retries left to the auditor', async () => {
    const { auditor, base } = await setup();
    class MyOpenAI extends OpenAI {}
    const original = new MyOpenAI({ apiKey: KEY, baseURL: base });
    const wrapped = wrapOpenAI(original, { auditor });
    expect(wrapped).toBeInstanceOf(MyOpenAI);
    expect(wrapped).not.toBe(original);
    expect(wrapped.maxRetries).toBe(0);
    expect(wrapped.timeout).toBe(auditor.policy.timeouts.totalMs + 1000);
  });
});
