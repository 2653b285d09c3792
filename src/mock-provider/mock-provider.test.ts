import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FormData, request } from 'undici';
import { MockProvider } from './mock-provider.js';
import { anthropicMessages } from '../providers/anthropic/messages.js';
import { geminiGenerateContent } from '../providers/gemini/generate-content.js';
import { openAIChat } from '../providers/openai/chat.js';
import { openAIResponses } from '../providers/openai/responses.js';
import { ollamaNative } from '../providers/ollama/native.js';
import type { ProviderApi, StreamSink } from '../providers/provider-api.js';
import type { EventUsage } from '../pricing/provider-usage.js';

const KEY = 'sk-mock-test-0123456789';

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The `data:` payloads of an SSE body, with each event's `event:` name when it has one. */
function sseEvents(text: string): Array<{ event: string | null; data: string }> {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? null;
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data };
    });
}

/** What the project's own spec reads from a stream the mock sent. */
function readStream(api: ProviderApi, chunks: Array<Record<string, unknown>>) {
  const reader = api.streamReader();
  const got = { text: '', model: null as string | null, usage: null as EventUsage | null };
  let finish: string | null = null;
  let completed = false;
  const sink: StreamSink = {
    text: (p) => (got.text += p),
    toolArguments: () => undefined,
    otherContent: () => undefined,
    model: (m) => (got.model = m),
    usage: (u) => (got.usage = u),
    finish: (r) => (finish = r),
    error: () => undefined,
    completed: () => (completed = true),
  };
  for (const c of chunks) reader.read(c, sink);
  return { ...got, finish, completed };
}

const json = (s: string) => JSON.parse(s) as Record<string, unknown>;

describe('mock provider dialects', () => {
  let mock: MockProvider;
  beforeEach(async () => {
    mock = new MockProvider({ validKeys: [KEY], chunks: 4 });
    await mock.listen();
  });
  afterEach(() => mock.close());

  describe('OpenAI chat completions (unchanged)', () => {
    it('answers JSON and a chunk stream ending in [DONE] with the usage chunk when asked', async () => {
      const auth = { authorization: `Bearer ${KEY}` };
      const messages = [{ role: 'user', content: 'one two three' }];
      const plain = await post(`${mock.baseUrl}/chat/completions`, { model: 'gpt-4.1', messages }, auth);
      expect(plain.status).toBe(200);
      expect(json(plain.text)).toMatchObject({
        object: 'chat.completion',
        model: 'gpt-4.1-2025-04-14',
        usage: { prompt_tokens: 3 },
      });
      const streamed = await post(
        `${mock.baseUrl}/chat/completions`,
        { model: 'gpt-4.1', messages, stream: true, stream_options: { include_usage: true } },
        auth,
      );
      const events = sseEvents(streamed.text);
      expect(events.at(-1)!.data).toBe('[DONE]');
      expect(json(events.at(-2)!.data)).toMatchObject({ choices: [], usage: { prompt_tokens: 3 } });
      expect(events[0]!.event).toBeNull();
      const wrong = await post(`${mock.baseUrl}/chat/completions`, { model: 'gpt-4.1', messages });
      expect([wrong.status, (json(wrong.text).error as { code: string }).code]).toEqual([
        401,
        'invalid_api_key',
      ]);
    });
  });

  describe('OpenAI tool calls', () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const fn = {
      name: 'get_weather',
      parameters: { type: 'object', properties: { location: { type: 'string' }, days: { type: 'integer' } } },
    };
    const args = '{"location":"Paris","days":1}';

    it('chat: a required tool is called with tool_calls, streamed as arguments fragments, finish_reason tool_calls', async () => {
      const body = {
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'weather please' }],
        tools: [{ type: 'function', function: fn }],
        tool_choice: 'required',
      };
      const whole = json((await post(`${mock.baseUrl}/chat/completions`, body, auth)).text);
      expect(whole).toMatchObject({
        choices: [
          {
            finish_reason: 'tool_calls',
            message: {
              content: null,
              tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: args } }],
            },
          },
        ],
        usage: { completion_tokens: 4 },
      });
      expect(openAIChat.readResponse(whole).text).toBe(args);
      const named = { ...body, tool_choice: { type: 'function', function: { name: 'get_weather' } } };
      const events = sseEvents(
        (await post(`${mock.baseUrl}/chat/completions`, { ...named, stream: true }, auth)).text,
      );
      expect(events.at(-1)!.data).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((e) => json(e.data));
      const deltas = chunks.map((c) => (c.choices as Array<{ delta: Record<string, unknown> }>)[0]!.delta);
      expect(deltas[0]).toMatchObject({
        role: 'assistant',
        tool_calls: [{ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } }],
      });
      const calls = deltas
        .slice(1, -1)
        .map((d) => (d.tool_calls as Array<{ function: { arguments: string } }>)[0]!);
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.map((c) => c.function.arguments).join('')).toBe(args);
      expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] });
      const read = readStream(openAIChat, chunks);
      expect(read).toMatchObject({ finish: 'tool_calls', text: '' });
    });

    it('Responses: a named function is a function_call item, streamed as function_call_arguments deltas', async () => {
      const body = {
        model: 'gpt-4.1',
        input: 'weather please',
        tools: [{ type: 'function', ...fn }],
        tool_choice: { type: 'function', name: 'get_weather' },
      };
      const whole = json((await post(`${mock.baseUrl}/responses`, body, auth)).text);
      expect(whole).toMatchObject({
        status: 'completed',
        output: [{ type: 'function_call', status: 'completed', name: 'get_weather', arguments: args }],
        usage: { output_tokens: 4 },
      });
      expect((whole.output as Array<{ call_id: string }>)[0]!.call_id).toMatch(/^call_/);
      expect(openAIResponses.readResponse(whole).text).toBe(args);
      const events = sseEvents(
        (await post(`${mock.baseUrl}/responses`, { ...body, stream: true }, auth)).text,
      );
      const chunks = events.map((e) => json(e.data));
      expect(chunks.map((c) => c.sequence_number)).toEqual(chunks.map((_, i) => i));
      const types = events.map((e) => e.event);
      expect(types.slice(0, 3)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
      ]);
      expect(chunks[2]).toMatchObject({
        item: { type: 'function_call', arguments: '', status: 'in_progress' },
      });
      expect(types.slice(-3)).toEqual([
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      const deltas = chunks.filter((c) => c.type === 'response.function_call_arguments.delta');
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.map((d) => d.delta).join('')).toBe(args);
      expect(chunks.at(-3)).toMatchObject({ arguments: args });
      const read = readStream(openAIResponses, chunks);
      expect(read).toMatchObject({ completed: true, finish: 'completed', text: '' });
      expect(read.usage).toMatchObject({ output_tokens: 4 });
    });

    it('answers text when no tool is forced (tool_choice auto)', async () => {
      const body = { model: 'gpt-4.1', input: 'weather please', tools: [{ type: 'function', ...fn }] };
      const whole = json((await post(`${mock.baseUrl}/responses`, body, auth)).text);
      expect((whole.output as Array<{ type: string }>)[0]!.type).toBe('message');
    });
  });

  describe('OpenAI Responses', () => {
    const auth = { authorization: `Bearer ${KEY}` };
    it('answers a response object with usage', async () => {
      const r = await post(`${mock.baseUrl}/responses`, { model: 'gpt-4.1', input: 'a b c d e' }, auth);
      const body = json(r.text);
      expect(body).toMatchObject({
        object: 'response',
        status: 'completed',
        model: 'gpt-4.1-2025-04-14',
        usage: { input_tokens: 5 },
      });
      const reading = openAIResponses.readResponse(body);
      expect(reading.text).toMatch(/\.$/);
      expect(reading.finishReason).toBe('completed');
      expect(reading.usage).toMatchObject({
        input_tokens: 5,
        output_tokens: reading.text!.split(' ').length,
      });
    });

    it('streams typed events from response.created to response.completed, with no [DONE]', async () => {
      const r = await post(
        `${mock.baseUrl}/responses`,
        { model: 'gpt-4.1-mini', input: 'a b c', stream: true },
        auth,
      );
      expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
      const events = sseEvents(r.text);
      expect(r.text).not.toContain('[DONE]');
      const types = events.map((e) => e.event);
      expect(types.slice(0, 4)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      expect(types.at(-1)).toBe('response.completed');
      const chunks = events.map((e) => json(e.data));
      // Each event's `type` is its SSE name; sequence numbers count up from 0.
      expect(chunks.map((c) => c.type)).toEqual(types);
      expect(chunks.map((c) => c.sequence_number)).toEqual(chunks.map((_, i) => i));
      const read = readStream(openAIResponses, chunks);
      expect(read).toMatchObject({ completed: true, finish: 'completed', model: 'gpt-4.1-mini-2025-04-14' });
      expect(read.usage).toMatchObject({ input_tokens: 3, output_tokens: read.text.split(' ').length });
      expect(chunks.at(-4)).toMatchObject({ type: 'response.output_text.done', text: read.text });
    });

    it('ends in response.incomplete when max_output_tokens cut the answer', async () => {
      const r = await post(
        `${mock.baseUrl}/responses`,
        { model: 'gpt-4.1', input: 'x', stream: true, max_output_tokens: 2 },
        auth,
      );
      const last = json(sseEvents(r.text).at(-1)!.data);
      expect(last).toMatchObject({
        type: 'response.incomplete',
        response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
      });
      expect(readStream(openAIResponses, [last]).usage).toMatchObject({ output_tokens: 2 });
    });
  });

  describe('Anthropic Messages', () => {
    const url = () => `${mock.origin}/v1/messages`;
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'one two three four' }] }],
    };
    const auth = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };

    it('answers a message with usage (cache reads and writes apart from input_tokens)', async () => {
      mock.enqueue({ cachedTokens: 2, cacheWriteTokens: 1 });
      const r = await post(url(), body, auth);
      expect(r.status).toBe(200);
      expect(r.headers['request-id']).toMatch(/^req_/);
      const msg = json(r.text);
      expect(msg).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        stop_reason: 'end_turn',
        usage: { input_tokens: 3, cache_read_input_tokens: 2, cache_creation_input_tokens: 1 },
      });
      const reading = anthropicMessages.readResponse(msg);
      // The event convention adds cache reads and writes back in: 6 words of prompt.
      expect(reading.usage).toMatchObject({ input_tokens: 6, cached_input_tokens: 2, cache_write_tokens: 1 });
      expect(reading.text).toBe((msg.content as Array<{ text: string }>)[0]!.text);
    });

    it('streams message_start … message_stop, and the spec reads input and output usage', async () => {
      const r = await post(url(), { ...body, stream: true }, auth);
      const events = sseEvents(r.text);
      expect(events.map((e) => e.event)).toEqual([
        'message_start',
        'content_block_start',
        'ping',
        ...Array<string>(3).fill('content_block_delta'),
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      const read = readStream(
        anthropicMessages,
        events.map((e) => json(e.data)),
      );
      expect(read).toMatchObject({ completed: true, finish: 'end_turn', model: 'claude-sonnet-4-5' });
      expect(read.usage).toMatchObject({ input_tokens: 6, output_tokens: read.text.split(' ').length });
    });

    it('answers a forced tool with a tool_use block: input_json_delta fragments, the first empty; stop_reason tool_use', async () => {
      const tool = {
        name: 'get_weather',
        input_schema: {
          type: 'object',
          properties: { location: { type: 'string' }, days: { type: 'integer' } },
        },
      };
      const forced = { ...body, tools: [tool], tool_choice: { type: 'tool', name: 'get_weather' } };
      const whole = json((await post(url(), forced, auth)).text);
      expect(whole).toMatchObject({
        stop_reason: 'tool_use',
        content: [{ type: 'tool_use', name: 'get_weather', input: { location: 'Paris', days: 1 } }],
      });
      expect((whole.content as Array<{ id: string }>)[0]!.id).toMatch(/^toolu_/);
      expect(anthropicMessages.readResponse(whole).text).toBe('{"location":"Paris","days":1}');
      const events = sseEvents((await post(url(), { ...forced, stream: true }, auth)).text).map((e) =>
        json(e.data),
      );
      expect(events.map((e) => e.type).slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
      expect(events[1]).toMatchObject({
        content_block: { type: 'tool_use', name: 'get_weather', input: {} },
      });
      const deltas = events
        .filter((e) => e.type === 'content_block_delta')
        .map((e) => e.delta as Record<string, string>);
      expect(deltas.every((d) => d.type === 'input_json_delta')).toBe(true);
      expect(deltas[0]!.partial_json).toBe('');
      expect(deltas.map((d) => d.partial_json).join('')).toBe('{"location":"Paris","days":1}');
      expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' } });
    });

    it('thinks first when thinking is enabled: a thinking block with its signature, then the text', async () => {
      const thinking = { ...body, thinking: { type: 'enabled', budget_tokens: 1024 } };
      const whole = json((await post(url(), thinking, auth)).text);
      const blocks = whole.content as Array<Record<string, string>>;
      expect(blocks.map((b) => b.type)).toEqual(['thinking', 'text']);
      expect(blocks[0]!.signature).toMatch(/^EqQB/);
      // Thinking is billed as output: 11 words of thinking beside the text.
      expect((whole.usage as { output_tokens: number }).output_tokens).toBe(
        11 + blocks[1]!.text!.split(' ').length,
      );
      const events = sseEvents((await post(url(), { ...thinking, stream: true }, auth)).text).map((e) =>
        json(e.data),
      );
      const kinds = events.map((e) =>
        e.type === 'content_block_delta'
          ? `${String(e.index)}:${(e.delta as { type: string }).type}`
          : e.type === 'content_block_start' || e.type === 'content_block_stop'
            ? `${String(e.type)}:${String(e.index)}`
            : e.type,
      );
      expect(kinds).toEqual([
        'message_start',
        'content_block_start:0',
        'ping',
        ...Array<string>(4).fill('0:thinking_delta'),
        '0:signature_delta',
        'content_block_stop:0',
        'content_block_start:1',
        ...Array<string>(3).fill('1:text_delta'),
        'content_block_stop:1',
        'message_delta',
        'message_stop',
      ]);
    });

    it('reads the key from x-api-key and answers errors in Anthropic’s shape', async () => {
      const bearer = await post(url(), body, { authorization: `Bearer ${KEY}` });
      expect([bearer.status, json(bearer.text)]).toEqual([
        401,
        { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
      ]);
      const noCap = await post(url(), { ...body, max_tokens: undefined }, auth);
      expect([noCap.status, (json(noCap.text).error as { type: string }).type]).toEqual([
        400,
        'invalid_request_error',
      ]);
      const failing = await post(url(), { ...body, model: 'mock-error-500' }, auth);
      expect(json(failing.text)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(anthropicMessages.readResponse(json(failing.text)).error?.code).toBe('api_error');
    });

    it('counts a request quota down in anthropic-ratelimit-* headers, then 429s', async () => {
      const limited = new MockProvider({ requestQuota: 1 });
      await limited.listen();
      try {
        const ok = await post(`${limited.origin}/v1/messages`, body);
        expect(ok.headers['anthropic-ratelimit-requests-limit']).toBe('1');
        expect(ok.headers['anthropic-ratelimit-requests-remaining']).toBe('0');
        expect(String(ok.headers['anthropic-ratelimit-requests-reset'])).toMatch(/^\d{4}-\d\d-\d\dT[\d:]+Z$/);
        expect(ok.headers['x-ratelimit-limit-requests']).toBeUndefined();
        const spent = await post(`${limited.origin}/v1/messages`, body);
        expect([spent.status, (json(spent.text).error as { type: string }).type]).toEqual([
          429,
          'rate_limit_error',
        ]);
        expect(spent.headers['retry-after']).toBe('60');
      } finally {
        await limited.close();
      }
    });
  });

  describe('Gemini', () => {
    const body = {
      systemInstruction: { parts: [{ text: 'be brief' }] },
      contents: [{ role: 'user', parts: [{ text: 'one two three' }] }],
    };
    it('answers generateContent on /v1beta and /v1 with usageMetadata, key in x-goog-api-key or ?key=', async () => {
      for (const version of ['v1beta', 'v1']) {
        const r = await post(`${mock.origin}/${version}/models/gemini-2.5-flash:generateContent`, body, {
          'x-goog-api-key': KEY,
        });
        expect(r.status).toBe(200);
        const reading = geminiGenerateContent.readResponse(json(r.text));
        expect(reading).toMatchObject({ model: 'gemini-2.5-flash', finishReason: 'STOP' });
        expect(reading.usage).toMatchObject({
          input_tokens: 5,
          output_tokens: reading.text!.split(' ').length,
        });
      }
      const byQuery = await post(
        `${mock.origin}/v1beta/models/gemini-2.5-pro:generateContent?key=${KEY}`,
        body,
      );
      expect(byQuery.status).toBe(200);
    });

    it('streams with alt=sse as CRLF-separated chunks, the last with finishReason and usage', async () => {
      mock.enqueue({ reasoningTokens: 7 });
      const r = await post(
        `${mock.origin}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
        body,
        { 'x-goog-api-key': KEY },
      );
      expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(r.text.endsWith('\r\n\r\n')).toBe(true);
      expect(r.text).not.toMatch(/[^\r]\n/);
      const chunks = sseEvents(r.text).map((e) => json(e.data));
      // 6 words in 4 chunks: 2 words a chunk.
      expect(chunks).toHaveLength(3);
      const read = readStream(geminiGenerateContent, chunks);
      expect(read).toMatchObject({ completed: true, finish: 'STOP', model: 'gemini-2.5-flash' });
      // Thoughts are output tokens too (the spec adds them).
      expect(read.usage).toMatchObject({
        input_tokens: 5,
        output_tokens: read.text.split(' ').length + 7,
        reasoning_tokens: 7,
      });
      // Without alt=sse the same chunks come as one JSON array.
      const array = await post(`${mock.origin}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, body, {
        'x-goog-api-key': KEY,
      });
      expect((JSON.parse(array.text) as unknown[]).length).toBe(3);
    });

    it('answers function mode ANY with a functionCall part (finishReason STOP), and thoughts first when asked for', async () => {
      const tools = [
        {
          functionDeclarations: [
            { name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } },
          ],
        },
      ];
      const calling = { ...body, tools, toolConfig: { functionCallingConfig: { mode: 'ANY' } } };
      const path = `${mock.origin}/v1beta/models/gemini-2.5-flash`;
      const whole = json((await post(`${path}:generateContent`, calling, { 'x-goog-api-key': KEY })).text);
      expect(whole).toMatchObject({
        candidates: [
          {
            content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
            finishReason: 'STOP',
          },
        ],
      });
      const thinking = { ...calling, generationConfig: { thinkingConfig: { includeThoughts: true } } };
      const r = await post(`${path}:streamGenerateContent?alt=sse`, thinking, { 'x-goog-api-key': KEY });
      const chunks = sseEvents(r.text).map((e) => json(e.data));
      const parts = chunks.map(
        (c) =>
          (c.candidates as Array<{ content: { parts: Array<Record<string, unknown>> } }>)[0]!.content
            .parts[0]!,
      );
      expect(parts.slice(0, -1).every((p) => p.thought === true)).toBe(true);
      expect(parts.at(-1)).toMatchObject({ functionCall: { name: 'get_weather', args: { city: 'Paris' } } });
      expect(parts.at(-1)!.thoughtSignature).toEqual(expect.any(String));
      expect(readStream(geminiGenerateContent, chunks)).toMatchObject({ completed: true, finish: 'STOP' });
    });

    it('answers a wrong key 400 API_KEY_INVALID, none 403, and a quota 429 in Google’s error shape', async () => {
      const url = `${mock.origin}/v1beta/models/gemini-2.5-flash:generateContent`;
      const wrong = await post(url, body, { 'x-goog-api-key': 'AIza-wrong' });
      expect(wrong.status).toBe(400);
      expect(json(wrong.text)).toMatchObject({
        error: { code: 400, status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] },
      });
      expect((await post(url, body)).status).toBe(403);
      mock.enqueue({ status: 429 });
      const limited = await post(url, body, { 'x-goog-api-key': KEY });
      expect(json(limited.text)).toEqual({
        error: { code: 429, message: expect.any(String), status: 'RESOURCE_EXHAUSTED' },
      });
      expect(geminiGenerateContent.readResponse(json(limited.text)).error?.code).toBe('RESOURCE_EXHAUSTED');
    });
  });

  describe('Ollama native', () => {
    it('streams NDJSON lines, the last done with prompt_eval_count and eval_count; stream:false is one object', async () => {
      const body = { model: 'llama3.2', messages: [{ role: 'user', content: 'one two' }] };
      const r = await post(`${mock.origin}/api/chat`, body);
      expect(r.headers['content-type']).toBe('application/x-ndjson');
      const lines = r.text.trimEnd().split('\n').map(json);
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 2 });
      const read = readStream(ollamaNative, lines);
      expect(read).toMatchObject({ completed: true, model: 'llama3.2' });
      expect(read.usage).toMatchObject({ input_tokens: 2, output_tokens: read.text.split(' ').length });
      const whole = json(
        (await post(`${mock.origin}/api/generate`, { model: 'llama3.2', prompt: 'x', stream: false })).text,
      );
      expect(whole).toMatchObject({ done: true, response: expect.stringMatching(/\.$/) });
    });
  });

  describe('OpenAI audio transcription (multipart)', () => {
    it('reads the text fields of the form and answers text with token usage', async () => {
      const form = new FormData();
      form.append('model', 'gpt-4o-transcribe');
      form.append('prompt', 'meeting notes');
      form.append('file', new Blob([new Uint8Array(1_000).fill(7)], { type: 'audio/wav' }), 'a.wav');
      const res = await request(`${mock.baseUrl}/audio/transcriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
        body: form,
      });
      expect(res.statusCode).toBe(200);
      expect(json(await res.body.text())).toMatchObject({
        text: expect.any(String),
        usage: { type: 'tokens', input_tokens: 10, input_token_details: { audio_tokens: 10 } },
      });
    });
  });
});
