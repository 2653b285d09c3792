/**
 * Issue 18 through the real start path (`startTollgate`, config as `tollgate serve` loads it) and
 * the mock provider's dialects: a multipart transcription (text fields read, the file forwarded
 * and never stored), Ollama's native NDJSON stream, time to first token as the first content
 * token (not the first byte), the time a request waited inside Tollgate, failover on a connect
 * error, and each provider's own key file in managed mode.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FormData, request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createKey } from '../../src/access/virtual-keys.js';
import { SqliteKeyStore } from '../../src/store/sqlite/sqlite-keys.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { AuditEvent } from '../../src/core/audit-event.js';

const CLIENT_KEY = 'sk-proj-CLIENTkey0123456789abcdefghijklmnopqrstu';
const WEATHER = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };

interface Running {
  tg: RunningTollgate;
  dir: string;
  db: string;
  /** The stored event of a response (by its x-tollgate-event-id). */
  event(id: string): Promise<AuditEvent>;
  /** Every byte of the store: database and WAL. */
  storeBytes(): string;
  close(): Promise<void>;
}

async function start(overrides: Record<string, unknown>): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-apis-'));
  const db = join(dir, 'tollgate.db');
  const config = loadConfig({
    file: null,
    overrides: { db, port: 0, instance_id: 'apis', 'retry.max_retries': 0, ...overrides },
  });
  const tg = await startTollgate({ config, log: createLogger('silent') });
  return {
    tg,
    dir,
    db,
    async event(id) {
      await tg.writer.drain();
      const found = (await tg.store.query({ order: 'asc' })).find((e) => e.id === id);
      if (!found) throw new Error(`no event ${id}`);
      return found;
    },
    storeBytes: () =>
      ['', '-wal']
        .filter((s) => existsSync(db + s))
        .map((s) => readFileSync(db + s).toString('latin1'))
        .join(''),
    async close() {
      await tg.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function post(
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; id: string; text: string; first: string }> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  let text = '';
  let first = '';
  for await (const chunk of res.body) {
    if (first === '') first = (chunk as Buffer).toString();
    text += (chunk as Buffer).toString();
  }
  return { status: res.statusCode, id: String(res.headers['x-tollgate-event-id']), text, first };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('provider APIs through startTollgate (passthrough, four providers on the mock)', () => {
  let mock: MockProvider;
  let g: Running;
  beforeAll(async () => {
    mock = new MockProvider({ chunks: 4 });
    const upstream = await mock.listen();
    g = await start({
      upstream_url: upstream,
      providers: [
        { name: 'openai', api: 'openai', base_url: upstream, models: ['gpt-*', 'whisper-*'] },
        { name: 'anthropic', api: 'anthropic', base_url: mock.origin, models: ['claude-*'] },
        { name: 'gemini', api: 'gemini', base_url: mock.origin, models: ['gemini-*'] },
        { name: 'ollama', api: 'ollama', base_url: mock.origin, models: ['llama*'] },
      ],
    });
  });
  afterAll(async () => {
    await g.close();
    await mock.close();
  });

  it('reads a multipart transcription’s text fields, forwards the file, and never stores its bytes', async () => {
    const canary = 'AUDIOCANARY9f3b';
    const audio = Buffer.alloc(3000, canary);
    const form = new FormData();
    form.append('model', 'gpt-4o-transcribe');
    form.append('prompt', 'quarterly planning meeting');
    form.append('file', new Blob([audio], { type: 'audio/wav' }), 'meeting.wav');
    mock.requests.length = 0;
    const res = await request(`${g.tg.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      body: form,
    });
    const answer = JSON.parse(await res.body.text()) as { text: string };
    expect(res.statusCode).toBe(200);
    // The provider got the whole file.
    expect(mock.requests[0]!.body.split(canary).length - 1).toBe(3000 / canary.length);
    const e = await g.event(String(res.headers['x-tollgate-event-id']));
    expect(e).toMatchObject({
      status: 'SUCCESS',
      api_provider: 'openai',
      endpoint: '/audio/transcriptions',
      model_requested: 'gpt-4o-transcribe',
      // The mock counts one audio token per 100 bytes.
      input_tokens: 30,
      output_tokens: answer.text.split(' ').length,
      usage_source: 'reported',
    });
    expect(e.prompt).toContain('quarterly planning meeting');
    expect(JSON.stringify(e)).not.toContain(canary);
    expect(g.storeBytes()).not.toContain(canary);
  });

  it('audits Ollama’s native NDJSON stream: usage from the done line, TTFT at the first token', async () => {
    mock.enqueue({ firstTokenDelayMs: 150 });
    const r = await post(
      `${g.tg.url}/api/chat`,
      {},
      { model: 'llama3.2', messages: [{ role: 'user', content: 'one two three' }] },
    );
    expect(r.status).toBe(200);
    const lines = r.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ done: true, prompt_eval_count: 3 });
    const e = await g.event(r.id);
    expect(e).toMatchObject({
      status: 'SUCCESS',
      api_provider: 'ollama',
      endpoint: '/api/chat',
      stream: true,
      model_used: 'llama3.2',
      input_tokens: 3,
      output_tokens: last.eval_count,
      finish_reason: 'stop',
      usage_source: 'reported',
    });
    expect(e.time_to_first_token_ms).toBeGreaterThanOrEqual(150);
    expect(e.time_to_first_token_ms!).toBeLessThanOrEqual(e.latency_ms!);
  });

  const streams: Array<{
    name: string;
    path: string;
    headers: Record<string, string>;
    body: object;
    head: string;
  }> = [
    {
      name: 'OpenAI chat',
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      body: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }], stream: true },
      head: '"role":"assistant","content":""',
    },
    {
      name: 'OpenAI Responses',
      path: '/v1/responses',
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      body: { model: 'gpt-4.1-mini', input: 'hi', stream: true },
      head: 'response.created',
    },
    {
      name: 'Anthropic Messages',
      path: '/v1/messages',
      headers: { 'x-api-key': 'sk-ant-client-0123456789' },
      body: {
        model: 'claude-sonnet-4-5',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      },
      head: 'message_start',
    },
  ];
  for (const s of streams) {
    it(`${s.name}: time_to_first_token_ms is the first content token, not the first byte`, async () => {
      // The opening event leaves at once; the first content token 300 ms later.
      mock.enqueue({ firstTokenDelayMs: 300 });
      const r = await post(`${g.tg.url}${s.path}`, s.headers, s.body);
      expect(r.status).toBe(200);
      expect(r.first).toContain(s.head);
      const e = await g.event(r.id);
      expect(e.status).toBe('SUCCESS');
      expect(e.time_to_first_token_ms).toBeGreaterThanOrEqual(300);
      expect(e.output_tokens).toBeGreaterThan(0);
    });
  }

  // Tool calls are output: the event's response holds the call's JSON arguments, streamed or not,
  // as for Anthropic tool use; TTFT counts the first arguments fragment.
  const toolCalls: Array<{ name: string; path: string; headers: Record<string, string>; body: object }> = [
    {
      name: 'OpenAI chat tool_calls',
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      body: {
        model: 'gpt-4.1-mini',
        messages: [{ role: 'user', content: 'weather in Paris' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER } }],
        tool_choice: 'required',
      },
    },
    {
      name: 'OpenAI Responses function_call',
      path: '/v1/responses',
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      body: {
        model: 'gpt-4.1-mini',
        input: 'weather in Paris',
        tools: [{ type: 'function', name: 'get_weather', parameters: WEATHER }],
        tool_choice: { type: 'function', name: 'get_weather' },
      },
    },
    {
      name: 'Anthropic tool_use',
      path: '/v1/messages',
      headers: { 'x-api-key': 'sk-ant-client-0123456789' },
      body: {
        model: 'claude-sonnet-4-5',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'weather in Paris' }],
        tools: [{ name: 'get_weather', input_schema: WEATHER }],
        tool_choice: { type: 'tool', name: 'get_weather' },
      },
    },
  ];
  for (const t of toolCalls) {
    for (const stream of [false, true]) {
      it(`${t.name}${stream ? ', streamed' : ''}: the event records the call's arguments as output`, async () => {
        if (stream) mock.enqueue({ firstTokenDelayMs: 200 });
        const r = await post(`${g.tg.url}${t.path}`, t.headers, { ...t.body, stream });
        expect(r.status).toBe(200);
        const e = await g.event(r.id);
        expect(e).toMatchObject({
          status: 'SUCCESS',
          stream,
          output_tokens: 2,
          response: '{"location":"Paris"}',
        });
        expect(e.finish_reason).toBe(
          { '/v1/chat/completions': 'tool_calls', '/v1/responses': 'completed', '/v1/messages': 'tool_use' }[
            t.path
          ],
        );
        if (stream) expect(e.time_to_first_token_ms).toBeGreaterThanOrEqual(200);
      });
    }
  }

  it('records queue_time_ms: the time the request waited inside Tollgate before the upstream call', async () => {
    // The body arrives in two parts 250 ms apart: reading it is part of the wait.
    const json = JSON.stringify({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'one two' }] }],
    });
    async function* slowBody(): AsyncGenerator<Buffer> {
      yield Buffer.from(json.slice(0, 10));
      await new Promise((r) => setTimeout(r, 250));
      yield Buffer.from(json.slice(10));
    }
    const res = await request(`${g.tg.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-client-0123456789' },
      body: Readable.from(slowBody()),
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    const e = await g.event(String(res.headers['x-tollgate-event-id']));
    expect(e).toMatchObject({ status: 'SUCCESS', api_provider: 'gemini', input_tokens: 2 });
    // Timers may fire a millisecond early against the wall clock the gateway reads.
    expect(e.queue_time_ms).toBeGreaterThanOrEqual(240);
    expect(e.queue_time_ms!).toBeLessThanOrEqual(e.latency_ms!);
    // A request sent at once waited less than that.
    const quick = await post(
      `${g.tg.url}/v1beta/models/gemini-2.5-flash:generateContent`,
      { 'x-goog-api-key': 'AIza-client-0123456789' },
      JSON.parse(json),
    );
    const q = await g.event(quick.id);
    expect(q.queue_time_ms).not.toBeNull();
    expect(q.queue_time_ms!).toBeGreaterThanOrEqual(0);
    expect(q.queue_time_ms!).toBeLessThan(e.queue_time_ms!);
  });
});

describe('failover and per-provider keys through startTollgate', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('fails over to the next provider on a connect error: one event naming both', async () => {
    const mock = new MockProvider();
    const upstream = await mock.listen();
    cleanup.push(() => mock.close());
    const g = await start({
      upstream_url: upstream,
      providers: [
        {
          name: 'primary',
          api: 'openai',
          base_url: `http://127.0.0.1:${await closedPort()}/v1`,
          models: ['gpt-*'],
          fallback: ['backup'],
        },
        { name: 'backup', api: 'openai', base_url: upstream, models: [] },
      ],
    });
    cleanup.push(() => g.close());
    const r = await post(
      `${g.tg.url}/v1/chat/completions`,
      { authorization: `Bearer ${CLIENT_KEY}` },
      { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] },
    );
    expect(r.status).toBe(200);
    expect(mock.requests).toHaveLength(1);
    await g.tg.writer.drain();
    const events = await g.tg.store.query({ order: 'asc' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      status: 'SUCCESS',
      api_provider: 'backup',
      retry_count: 1,
      model_requested: 'gpt-4.1',
    });
    expect(events[0]!.error_message).toMatch(/^failed over from primary \(\w+\) to backup$/);
    expect(events[0]!.cost_micro_usd).toBeGreaterThan(0);
  });

  it('records a wrong Gemini key (400 API_KEY_INVALID, Google’s answer) as AUTH_FAILED, fingerprinted', async () => {
    const mock = new MockProvider({ validKeys: ['AIzaGOODkey0123456789abcdefghijklmnopq'] });
    const upstream = await mock.listen();
    cleanup.push(() => mock.close());
    const g = await start({
      upstream_url: upstream,
      providers: [{ name: 'gemini', api: 'gemini', base_url: mock.origin, models: ['gemini-*'] }],
    });
    cleanup.push(() => g.close());
    const path = `${g.tg.url}/v1beta/models/gemini-2.5-flash:generateContent`;
    const body = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const wrong = await post(path, { 'x-goog-api-key': 'AIzaWRONGkey0123456789abcdefghijklmno' }, body);
    const good = await post(path, { 'x-goog-api-key': 'AIzaGOODkey0123456789abcdefghijklmnopq' }, body);
    expect([wrong.status, good.status]).toEqual([400, 200]);
    // The client gets Google's own answer.
    expect(JSON.parse(wrong.text)).toMatchObject({ error: { details: [{ reason: 'API_KEY_INVALID' }] } });
    const [w, ok] = await Promise.all([g.event(wrong.id), g.event(good.id)]);
    expect(w).toMatchObject({
      status: 'AUTH_FAILED',
      auth_result: 'FAILED',
      http_status_code: 400,
      error_code: 'INVALID_ARGUMENT',
      api_provider: 'gemini',
    });
    expect(w.api_key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(ok.api_key_id).not.toBe(w.api_key_id);
    expect(ok.status).toBe('SUCCESS');
    expect(g.storeBytes()).not.toContain('WRONGkey0123456789');
  });

  /** Two providers on two mocks, each with its own key_file, in managed mode; a gateway key; one request to each. */
  async function twoKeyFileProviders(o: {
    defaultKey?: string;
    requestQuota?: number;
    anthropicKeyFile?: false;
  }) {
    const quota = o.requestQuota === undefined ? {} : { requestQuota: o.requestQuota };
    const openai = new MockProvider({ validKeys: ['sk-proj-OPENAIfileKey0123456789abcdef'], ...quota });
    const anthropicKey =
      o.anthropicKeyFile === false ? o.defaultKey! : 'sk-ant-api03-ANTHROPICfileKey0123456789';
    const anthropic = new MockProvider({ validKeys: [anthropicKey], ...quota });
    const openaiUrl = await openai.listen();
    await anthropic.listen();
    cleanup.push(
      () => openai.close(),
      () => anthropic.close(),
    );
    const keys = mkdtempSync(join(tmpdir(), 'tollgate-keyfiles-'));
    cleanup.push(async () => rmSync(keys, { recursive: true, force: true }));
    writeFileSync(join(keys, 'openai.key'), 'sk-proj-OPENAIfileKey0123456789abcdef\n', { mode: 0o600 });
    writeFileSync(join(keys, 'anthropic.key'), 'sk-ant-api03-ANTHROPICfileKey0123456789\n', { mode: 0o600 });
    const g = await start({
      upstream_url: openaiUrl,
      mode: 'managed',
      ...(o.defaultKey === undefined ? {} : { 'managed.provider_key': o.defaultKey }),
      providers: [
        {
          name: 'openai',
          api: 'openai',
          base_url: openaiUrl,
          models: ['gpt-*'],
          key_file: join(keys, 'openai.key'),
        },
        {
          name: 'anthropic',
          api: 'anthropic',
          base_url: anthropic.origin,
          models: ['claude-*'],
          ...(o.anthropicKeyFile === false ? {} : { key_file: join(keys, 'anthropic.key') }),
        },
      ],
    });
    cleanup.push(() => g.close());
    const adminDb = openSqlite(g.db);
    cleanup.push(async () => {
      adminDb.close();
    });
    const virtual = await createKey(
      new SqliteKeyStore(adminDb),
      { now: () => Date.now(), monotonic: () => performance.now() },
      { name: 'app' },
    );
    const auth = { authorization: `Bearer ${virtual.key}` };
    const chat = await post(`${g.tg.url}/v1/chat/completions`, auth, {
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const msg = await post(`${g.tg.url}/v1/messages`, auth, {
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect([chat.status, msg.status]).toEqual([200, 200]);
    return { g, openai, anthropic, virtual, chat, msg };
  }

  it('managed mode: each provider’s key_file reaches only that provider, in its own header', async () => {
    const defaultKey = 'sk-proj-DEFAULTmanagedKey0123456789abcdef';
    const { g, openai, anthropic, virtual, chat, msg } = await twoKeyFileProviders({ defaultKey });

    const seen = (m: MockProvider) => JSON.stringify(m.requests.map((r) => r.headers));
    expect(openai.requests[0]!.headers.authorization).toBe('Bearer sk-proj-OPENAIfileKey0123456789abcdef');
    expect(openai.requests[0]!.headers['x-api-key']).toBeUndefined();
    expect(anthropic.requests[0]!.headers['x-api-key']).toBe('sk-ant-api03-ANTHROPICfileKey0123456789');
    expect(anthropic.requests[0]!.headers.authorization).toBeUndefined();
    // Neither provider saw the other's key, the default managed key or the client's virtual key.
    expect(seen(openai)).not.toContain('ANTHROPICfileKey');
    expect(seen(anthropic)).not.toContain('OPENAIfileKey');
    for (const m of [openai, anthropic]) {
      expect(seen(m)).not.toContain('DEFAULTmanagedKey');
      expect(seen(m)).not.toContain(virtual.key);
    }
    const events = await Promise.all([g.event(chat.id), g.event(msg.id)]);
    expect(events.map((e) => [e.api_provider, e.status, e.virtual_key_id])).toEqual([
      ['openai', 'SUCCESS', virtual.record.id],
      ['anthropic', 'SUCCESS', virtual.record.id],
    ]);
    // The keys from the files are nowhere in the store.
    expect(g.storeBytes()).not.toContain('OPENAIfileKey');
    expect(g.storeBytes()).not.toContain('ANTHROPICfileKey');
  });

  it('managed mode: a provider without a key_file gets the managed key in its own header (x-api-key for Anthropic)', async () => {
    const defaultKey = 'sk-ant-api03-DEFAULTmanagedKey0123456789';
    const { g, openai, anthropic, virtual, chat, msg } = await twoKeyFileProviders({
      defaultKey,
      anthropicKeyFile: false,
    });
    expect(openai.requests[0]!.headers.authorization).toBe('Bearer sk-proj-OPENAIfileKey0123456789abcdef');
    expect(anthropic.requests[0]!.headers['x-api-key']).toBe(defaultKey);
    expect(anthropic.requests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.stringify(anthropic.requests[0]!.headers)).not.toContain(virtual.key);
    const [c, m] = await Promise.all([g.event(chat.id), g.event(msg.id)]);
    expect(m).toMatchObject({ api_provider: 'anthropic', status: 'SUCCESS' });
    expect(m.provider_key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(m.provider_key_id).not.toBe(c.provider_key_id);
    expect(g.storeBytes()).not.toContain('DEFAULTmanagedKey');
  });

  it('managed mode without managed.provider_key when every provider has a key_file; /metrics quota per provider', async () => {
    const { g, openai, anthropic, virtual, chat, msg } = await twoKeyFileProviders({ requestQuota: 5 });
    expect(openai.requests[0]!.headers.authorization).toBe('Bearer sk-proj-OPENAIfileKey0123456789abcdef');
    expect(anthropic.requests[0]!.headers['x-api-key']).toBe('sk-ant-api03-ANTHROPICfileKey0123456789');
    expect(JSON.stringify(openai.requests[0]!.headers)).not.toContain(virtual.key);
    expect(JSON.stringify(anthropic.requests[0]!.headers)).not.toContain(virtual.key);
    const [c, m] = await Promise.all([g.event(chat.id), g.event(msg.id)]);
    expect([c.api_provider, m.api_provider]).toEqual(['openai', 'anthropic']);
    // Each answer's quota reading is kept under its own provider's key, not the gateway key's.
    expect(c.provider_key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(m.provider_key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set([c.provider_key_id, m.provider_key_id, c.api_key_id]).size).toBe(3);
    expect([c.provider_requests_remaining, m.provider_requests_remaining]).toEqual([4, 4]);

    const metrics = await (await request(`${g.tg.url}/metrics`)).body.text();
    const series = metrics.split('\n').filter((l) => l.startsWith('tollgate_provider_quota_'));
    expect(series.sort()).toEqual(
      [
        `tollgate_provider_quota_limit{key="${c.provider_key_id}",provider="openai",kind="requests"} 5`,
        `tollgate_provider_quota_remaining{key="${c.provider_key_id}",provider="openai",kind="requests"} 4`,
        `tollgate_provider_quota_limit{key="${m.provider_key_id}",provider="anthropic",kind="requests"} 5`,
        `tollgate_provider_quota_remaining{key="${m.provider_key_id}",provider="anthropic",kind="requests"} 4`,
      ].sort(),
    );
    expect(metrics).not.toContain('fileKey');
  });
});
