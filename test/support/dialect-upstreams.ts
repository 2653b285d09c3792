/**
 * A fake provider on 127.0.0.1 that answers in each real dialect the client libraries speak:
 * OpenAI Chat Completions, Responses, Embeddings and Audio transcriptions (multipart), Anthropic
 * Messages and Gemini generateContent / streamGenerateContent — streamed and not, with the
 * framing each provider publishes (sources in the specs under src/providers/). Every answer
 * reports the same usage (`USAGE`), so a test knows the tokens and the cost to expect. Every stream
 * sends its headers and its opening events (role chunk, `response.created`…, `message_start`…) at
 * once, its first content token `FIRST_TOKEN_DELAY_MS` later and the rest as long again after that,
 * so a test can tell time to first token from the first byte and from the end. Test-only: the
 * offline demo and benchmarks use src/mock-provider.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What every answer reports: the usage, the reply text and the model echoed back. */
export const USAGE = { input: 1000, output: 200 } as const;
export const REPLY = 'Hello there';
/** Anthropic prompt caching on non-streamed answers: uncached input + cache writes + cache reads. */
/** A model the provider does not know: 404 in Anthropic's error shape. */
export const MISSING_MODEL = 'missing-model';
export const ANTHROPIC_CACHE = { uncached: 1000, write: 2000, read: 4000 } as const;
/** A stream's first content token comes this long after its opening events, and its end as long after that. */
export const FIRST_TOKEN_DELAY_MS = 150;

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface DialectUpstream {
  /** `http://127.0.0.1:PORT` (no path). */
  origin: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startDialectUpstream(): Promise<DialectUpstream> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const url = req.url ?? '/';
      seen.push({ method: req.method ?? 'GET', url, headers: req.headers, body });
      const path = url.split('?')[0]!;
      const ct = String(req.headers['content-type'] ?? '');
      let json: Record<string, unknown> = {};
      if (ct.includes('json') && body.length)
        json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (req.headers['anthropic-version'] && anthropicSide(path, json, res)) return;
      answer(path, json, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function answer(path: string, json: Record<string, unknown>, raw: Buffer, res: ServerResponse): void {
  const model = typeof json.model === 'string' ? json.model : null;
  const stream = json.stream === true;
  if (model === MISSING_MODEL) {
    // Anthropic's error shape (OpenAI's has no `type` at the top; clients read either by status).
    const text = JSON.stringify({
      type: 'error',
      error: { type: 'not_found_error', message: `model: ${model}` },
    });
    res.writeHead(404, { 'content-type': 'application/json' });
    return void res.end(text);
  }
  if (path.endsWith('/chat/completions'))
    return stream ? void sse(res, chatStream(model!, json), 1) : send(res, chat(model!));
  if (path.endsWith('/responses'))
    return stream ? void sse(res, responsesStream(model!), 4) : send(res, response(model!));
  if (path.endsWith('/embeddings')) return send(res, embeddings(model!, json.input, json.encoding_format));
  if (path.endsWith('/audio/transcriptions')) return send(res, transcription(raw));
  if (path.endsWith('/messages'))
    return stream ? void sse(res, anthropicStream(model!), 3) : send(res, anthropic(model!));
  const gemini = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (gemini) {
    const m = gemini[1]!;
    // Gemini has no opening event: only the headers go at once.
    return gemini[2] === 'streamGenerateContent'
      ? void sse(res, geminiStream(m), 0)
      : send(res, geminiAnswer(m));
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: `no route for ${path}`, type: 'invalid_request_error' } }));
}

/**
 * Anthropic's calls that are not a message (docs.anthropic.com/en/api/models-list,
 * /en/api/messages-count-tokens): the model list and a token count. True when answered.
 */
function anthropicSide(path: string, json: Record<string, unknown>, res: ServerResponse): boolean {
  if (path === '/v1/models') {
    const model = {
      type: 'model',
      id: 'claude-sonnet-4-5-20250929',
      display_name: 'Claude Sonnet 4.5',
      created_at: '2025-09-29T00:00:00Z',
    };
    send(res, { data: [model], has_more: false, first_id: model.id, last_id: model.id });
    return true;
  }
  if (path === '/v1/messages/count_tokens' && typeof json.model === 'string') {
    send(res, { input_tokens: USAGE.input });
    return true;
  }
  return false;
}

function send(res: ServerResponse, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Streams `events` (one write each, as a provider flushes them): the headers and the first
 * `opening` events at once, the first content event FIRST_TOKEN_DELAY_MS later, the rest as long
 * again after it. The waits are measured on the clock, so neither is ever shorter than stated.
 */
async function sse(res: ServerResponse, events: string[], opening: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  for (const e of events.slice(0, opening)) res.write(e);
  await waitAtLeast(FIRST_TOKEN_DELAY_MS);
  res.write(events[opening]);
  await waitAtLeast(FIRST_TOKEN_DELAY_MS);
  for (const e of events.slice(opening + 1)) res.write(e);
  res.end();
}

async function waitAtLeast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until)
    await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(until - performance.now()))));
}

const data = (obj: object): string => `data: ${JSON.stringify(obj)}\n\n`;
const event = (type: string, obj: object): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...obj })}\n\n`;
const PIECES = ['Hello', ' there'];

// OpenAI Chat Completions (platform.openai.com/docs/api-reference/chat).
function chat(model: string): object {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: REPLY, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: USAGE.input,
      completion_tokens: USAGE.output,
      total_tokens: USAGE.input + USAGE.output,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

function chatStream(model: string, req: Record<string, unknown>): string[] {
  const chunk = (delta: object, finish: string | null): object => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const out = [data(chunk({ role: 'assistant', content: '' }, null))];
  for (const p of PIECES) out.push(data(chunk({ content: p }, null)));
  out.push(data(chunk({}, 'stop')));
  if ((req.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true) {
    const usage = (chat(model) as { usage: object }).usage;
    out.push(
      data({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model,
        choices: [],
        usage,
      }),
    );
  }
  out.push('data: [DONE]\n\n');
  return out;
}

// OpenAI Responses (platform.openai.com/docs/api-reference/responses-streaming).
const RESPONSES_USAGE = {
  input_tokens: USAGE.input,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: USAGE.output,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: USAGE.input + USAGE.output,
};
const messageItem = (status: string, text: string | null): object => ({
  type: 'message',
  id: 'msg_1',
  status,
  role: 'assistant',
  content: text === null ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
});

function response(model: string, status = 'completed'): Record<string, unknown> {
  return {
    id: 'resp_1',
    object: 'response',
    created_at: 1_700_000_000,
    status,
    error: null,
    incomplete_details: null,
    model,
    output: status === 'completed' ? [messageItem('completed', REPLY)] : [],
    usage: status === 'completed' ? RESPONSES_USAGE : null,
  };
}

function responsesStream(model: string): string[] {
  let seq = 0;
  const ev = (type: string, obj: object): string => event(type, { sequence_number: seq++, ...obj });
  const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
  const part = (text: string): object => ({ type: 'output_text', text, annotations: [] });
  return [
    ev('response.created', { response: response(model, 'in_progress') }),
    ev('response.in_progress', { response: response(model, 'in_progress') }),
    ev('response.output_item.added', { output_index: 0, item: messageItem('in_progress', null) }),
    ev('response.content_part.added', { ...at, part: part('') }),
    ...PIECES.map((delta) => ev('response.output_text.delta', { ...at, delta, logprobs: [] })),
    ev('response.output_text.done', { ...at, text: REPLY, logprobs: [] }),
    ev('response.content_part.done', { ...at, part: part(REPLY) }),
    ev('response.output_item.done', { output_index: 0, item: messageItem('completed', REPLY) }),
    ev('response.completed', { response: response(model) }),
  ];
}

// OpenAI Embeddings and Audio (platform.openai.com/docs/api-reference/embeddings, /audio).
/** The vector every embedding is; `encoding_format: "base64"` (the openai client's default) sends float32 bytes. */
export const EMBEDDING = [0.5, -0.25, 0.125];

function embeddings(model: string, input: unknown, format: unknown): object {
  const inputs = Array.isArray(input) ? input : [input];
  const embedding =
    format === 'base64' ? Buffer.from(new Float32Array(EMBEDDING).buffer).toString('base64') : EMBEDDING;
  return {
    object: 'list',
    data: inputs.map((_, index) => ({ object: 'embedding', index, embedding })),
    model,
    usage: { prompt_tokens: USAGE.input, total_tokens: USAGE.input },
  };
}

function transcription(raw: Buffer): object {
  // gpt-4o-transcribe reports token usage (audio input); the file is not looked at.
  void raw;
  return {
    text: REPLY,
    usage: {
      type: 'tokens',
      input_tokens: USAGE.input,
      input_token_details: { text_tokens: 0, audio_tokens: USAGE.input },
      output_tokens: USAGE.output,
      total_tokens: USAGE.input + USAGE.output,
    },
  };
}

// Anthropic Messages (docs.anthropic.com/en/api/messages, /messages-streaming).
function anthropic(model: string): object {
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: REPLY }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: ANTHROPIC_CACHE.uncached,
      cache_creation_input_tokens: ANTHROPIC_CACHE.write,
      cache_read_input_tokens: ANTHROPIC_CACHE.read,
      output_tokens: USAGE.output,
    },
  };
}

function anthropicStream(model: string): string[] {
  return [
    event('message_start', {
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: USAGE.input,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: 1,
        },
      },
    }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    event('ping', {}),
    ...PIECES.map((text) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    event('content_block_stop', { index: 0 }),
    event('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: USAGE.output },
    }),
    event('message_stop', {}),
  ];
}

// Gemini (ai.google.dev/api/generate-content): `?alt=sse` frames chunks with CRLF.
const GEMINI_USAGE = {
  promptTokenCount: USAGE.input,
  candidatesTokenCount: USAGE.output,
  totalTokenCount: USAGE.input + USAGE.output,
};

function geminiAnswer(model: string): object {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text: REPLY }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: GEMINI_USAGE,
    modelVersion: model,
    responseId: 'gem-1',
  };
}

function geminiStream(model: string): string[] {
  const chunk = (text: string, last: boolean): string =>
    `data: ${JSON.stringify({
      candidates: [
        {
          content: { role: 'model', parts: [{ text }] },
          index: 0,
          ...(last ? { finishReason: 'STOP' } : {}),
        },
      ],
      ...(last ? { usageMetadata: GEMINI_USAGE } : {}),
      modelVersion: model,
      responseId: 'gem-1',
    })}\r\n\r\n`;
  return PIECES.map((p, i) => chunk(p, i === PIECES.length - 1));
}
