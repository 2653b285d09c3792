/**
 * A simulated OpenAI-compatible provider on loopback. The tests, the benchmarks and
 * `tollgate demo` all talk to it, so nothing in the project needs a real provider or the network.
 *
 * Behaviour is chosen per request, first match wins:
 *  1. a scripted response queued with `enqueue()` (tests),
 *  2. the requested model's name (`mock-error-500`, `mock-rate-limit`, `mock-hang`, … see SCENARIO_MODELS),
 *  3. a normal answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockScript {
  /** HTTP status to answer with (default 200). */
  status?: number;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** A raw body to send instead of the generated one. */
  body?: string;
  /** Never answer (the gateway's timeouts must end it). */
  hang?: boolean;
  /** Wait this long before the response headers. */
  delayMs?: number;
  /** Stream: send this many content chunks, then cut the connection without `[DONE]`. */
  truncateAfterChunks?: number;
  /** Stream: milliseconds between chunks. */
  chunkDelayMs?: number;
  /** Stream: stop sending after this many chunks but keep the connection open (idle upstream). */
  stallAfterChunks?: number;
  /** Leave `usage` out of the answer (some relays do). */
  omitUsage?: boolean;
  /** Reply text to send (default: generated from the prompt). */
  text?: string;
  /** Reported cached input tokens. */
  cachedTokens?: number;
  /** Reported reasoning tokens. */
  reasoningTokens?: number;
  /** Stream: keep sending content chunks until the client goes away (bounded by `maxEndlessMs`). */
  endless?: boolean;
  /** Stream: the content of every chunk instead of the generated words (oversized streams). */
  chunkText?: string;
  /** Stream: an endless stream stops after this long anyway, ms (default 120 000). */
  maxEndlessMs?: number;
}

export interface MockRequestRecord {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface MockProviderOptions {
  /** When set, only these bearer keys are accepted; others get 401. */
  validKeys?: string[];
  /** Default milliseconds between streamed chunks. */
  chunkDelayMs?: number;
  /** Default number of streamed content chunks. */
  chunks?: number;
  /** Keep a record of received requests (tests); off for benchmarks. */
  record?: boolean;
  /**
   * A request quota that counts down like OpenAI's: every answer carries x-ratelimit-limit-requests,
   * x-ratelimit-remaining-requests and x-ratelimit-reset-requests; once it is spent, 429s.
   */
  requestQuota?: number;
}

/** Models whose name triggers a failure, for the demo and manual testing. */
export const SCENARIO_MODELS: Record<string, MockScript> = {
  'mock-error-500': { status: 500 },
  'mock-rate-limit': { status: 429, headers: { 'retry-after': '1' } },
  'mock-hang': { hang: true },
  'mock-truncate': { truncateAfterChunks: 2 },
  'mock-no-usage': { omitUsage: true },
  'mock-bad-request': { status: 400 },
};

export class MockProvider {
  readonly requests: MockRequestRecord[] = [];
  private readonly queue: MockScript[] = [];
  private readonly server: Server;
  private readonly options: Required<Omit<MockProviderOptions, 'validKeys' | 'requestQuota'>> & {
    validKeys?: string[];
    requestQuota?: number;
  };
  /** Connections the mock saw closed by the peer before it finished answering (client aborts). */
  abortedByPeer = 0;
  /** Requests left of `requestQuota`. */
  private quotaLeft: number | null;

  constructor(options: MockProviderOptions = {}) {
    this.options = { chunkDelayMs: 0, chunks: 5, record: true, ...options };
    this.quotaLeft = options.requestQuota ?? null;
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** Queue a scripted answer for the next request (FIFO). */
  enqueue(...scripts: MockScript[]): void {
    this.queue.push(...scripts);
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return this.baseUrl;
  }

  get baseUrl(): string {
    const addr = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}/v1`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (this.options.record) {
        this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      }
      void this.answer(req, res, body).catch(() => res.destroy());
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const path = url.pathname.replace(/^\/v1/, '');
    let json: Record<string, unknown> = {};
    try {
      json = rawBody ? (JSON.parse(rawBody) as Record<string, unknown>) : {};
    } catch {
      return sendJson(res, 400, {
        error: { message: 'invalid JSON', type: 'invalid_request_error', code: null },
      });
    }
    const model = typeof json.model === 'string' ? json.model : 'gpt-4.1-mini';
    if (this.quotaLeft !== null && this.options.requestQuota !== undefined) {
      const spent = this.quotaLeft <= 0;
      if (!spent) this.quotaLeft--;
      res.setHeader('x-ratelimit-limit-requests', String(this.options.requestQuota));
      res.setHeader('x-ratelimit-remaining-requests', String(this.quotaLeft));
      res.setHeader('x-ratelimit-reset-requests', '1m0s');
      if (spent) return sendJson(res, 429, { error: errorFor(429) });
    }
    const script = this.queue.shift() ?? SCENARIO_MODELS[model] ?? {};

    if (this.options.validKeys) {
      const auth = req.headers.authorization ?? '';
      const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!this.options.validKeys.includes(key)) {
        return sendJson(res, 401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        });
      }
    }
    if (script.hang) {
      res.on('close', () => this.abortedByPeer++);
      return; // never answer
    }
    if (script.delayMs) await sleep(script.delayMs);
    const status = script.status ?? 200;
    if (status !== 200) {
      const body = script.body ?? JSON.stringify({ error: errorFor(status) });
      res.writeHead(status, { 'content-type': 'application/json', ...script.headers });
      res.end(body);
      return;
    }
    if (script.body !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', ...script.headers });
      res.end(script.body);
      return;
    }

    switch (path) {
      case '/models':
        return sendJson(res, 200, {
          object: 'list',
          data: ['gpt-4.1', 'gpt-4.1-mini', 'text-embedding-3-small'].map((id) => ({
            id,
            object: 'model',
            created: 1_744_000_000,
            owned_by: 'mock',
          })),
        });
      case '/embeddings': {
        const input = json.input;
        const inputs = Array.isArray(input) ? input : [input];
        const tokens = inputs.reduce<number>((n, s) => n + countWords(String(s)), 0);
        return sendJson(res, 200, {
          object: 'list',
          model,
          data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.1, 0.2, 0.3] })),
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        });
      }
      case '/chat/completions':
      case '/completions':
      case '/responses':
        return this.complete(path, json, model, script, res);
      default:
        return sendJson(res, 404, {
          error: { message: `Unknown path ${path}`, type: 'invalid_request_error', code: null },
        });
    }
  }

  private async complete(
    path: string,
    json: Record<string, unknown>,
    model: string,
    script: MockScript,
    res: ServerResponse,
  ): Promise<void> {
    const promptText = promptOf(json);
    const inputTokens = Math.max(1, countWords(promptText));
    // Like a real provider, never more output than the request's cap (one word is one token here).
    const cap = [json.max_completion_tokens, json.max_tokens, json.max_output_tokens].find(
      (v): v is number => typeof v === 'number' && v >= 1,
    );
    const full = script.text ?? replyFor(promptText, this.options.chunks);
    const text = cap === undefined ? full : full.split(' ').slice(0, Math.floor(cap)).join(' ');
    const outputTokens = countWords(text);
    const cached = script.cachedTokens ?? 0;
    const reasoning = script.reasoningTokens ?? 0;
    const usage = script.omitUsage
      ? undefined
      : {
          prompt_tokens: inputTokens,
          completion_tokens: outputTokens + reasoning,
          total_tokens: inputTokens + outputTokens + reasoning,
          prompt_tokens_details: { cached_tokens: cached },
          completion_tokens_details: { reasoning_tokens: reasoning },
        };
    const id = `chatcmpl-mock${Math.random().toString(36).slice(2, 10)}`;
    const created = Math.floor(Date.now() / 1000);
    const servedModel = model.startsWith('gpt-4.1') && !model.includes('-20') ? `${model}-2025-04-14` : model;

    if (json.stream !== true) {
      if (path === '/responses') {
        return sendJson(res, 200, {
          id,
          object: 'response',
          created_at: created,
          model: servedModel,
          status: 'completed',
          output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }],
          usage: usage && {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            total_tokens: usage.total_tokens,
            input_tokens_details: { cached_tokens: cached },
            output_tokens_details: { reasoning_tokens: reasoning },
          },
        });
      }
      const choice =
        path === '/completions'
          ? { index: 0, text, finish_reason: 'stop', logprobs: null }
          : {
              index: 0,
              message: { role: 'assistant', content: text, refusal: null },
              finish_reason: 'stop',
              logprobs: null,
            };
      return sendJson(res, 200, {
        id,
        object: path === '/completions' ? 'text_completion' : 'chat.completion',
        created,
        model: servedModel,
        choices: [choice],
        ...(usage ? { usage } : {}),
      });
    }

    // Streaming, in the shape of OpenAI's chat.completion.chunk events.
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        this.abortedByPeer++;
      }
    });
    const pieces = splitInto(text, this.options.chunks);
    const delay = script.chunkDelayMs ?? this.options.chunkDelayMs;
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: servedModel,
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    if (script.endless) {
      const text = script.chunkText ?? 'more ';
      const until = Date.now() + (script.maxEndlessMs ?? 120_000);
      while (!closed && Date.now() < until) {
        // Respect back-pressure, so the mock itself stays bounded in memory.
        if (!res.write(chunk({ content: text }, null))) {
          await new Promise<void>((r) => {
            const done = (): void => {
              res.off('drain', done).off('close', done);
              r();
            };
            res.on('drain', done).on('close', done);
          });
        } else if (delay > 0) await sleep(delay);
        else await new Promise((r) => setImmediate(r));
      }
      if (!closed) res.destroy();
      return;
    }
    for (let i = 0; i < pieces.length; i++) {
      if (closed) return;
      if (script.truncateAfterChunks !== undefined && i >= script.truncateAfterChunks) {
        // Let what was written reach the wire first: destroy() discards unflushed data.
        await sleep(20);
        res.destroy();
        return;
      }
      if (script.stallAfterChunks !== undefined && i >= script.stallAfterChunks) return;
      if (delay > 0) await sleep(delay);
      if (closed) return;
      res.write(chunk({ content: script.chunkText ?? pieces[i] }, null));
    }
    res.write(chunk({}, 'stop'));
    const includeUsage =
      (json.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (includeUsage && usage) {
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: servedModel, choices: [], usage })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorFor(status: number): { message: string; type: string; code: string | null } {
  switch (status) {
    case 401:
      return {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 403:
      return {
        message: 'You are not allowed to use this model.',
        type: 'invalid_request_error',
        code: 'model_not_allowed',
      };
    case 404:
      return { message: 'The model does not exist.', type: 'invalid_request_error', code: 'model_not_found' };
    case 429:
      return { message: 'Rate limit reached for requests.', type: 'requests', code: 'rate_limit_exceeded' };
    case 400:
      return { message: 'Invalid request.', type: 'invalid_request_error', code: 'invalid_request' };
    default:
      return {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        code: null,
      };
  }
}

function promptOf(json: Record<string, unknown>): string {
  if (Array.isArray(json.messages)) {
    return json.messages
      .map((m: unknown) => {
        const c = (m as { content?: unknown }).content;
        return typeof c === 'string' ? c : JSON.stringify(c ?? '');
      })
      .join('\n');
  }
  if (typeof json.prompt === 'string') return json.prompt;
  if (typeof json.input === 'string') return json.input;
  if (json.input !== undefined) return JSON.stringify(json.input);
  return '';
}

/** Deterministic, readable reply; tokens are counted as words so tests can predict usage. */
function replyFor(prompt: string, chunks: number): string {
  const words = [
    'Here',
    'is',
    'a',
    'short',
    'answer',
    'about',
    'your',
    'question',
    'from',
    'the',
    'mock',
    'provider',
  ];
  const n = Math.max(chunks, 6);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(words[(i + prompt.length) % words.length]!);
  return out.join(' ') + '.';
}

function splitInto(text: string, n: number): string[] {
  const words = text.split(' ');
  const per = Math.max(1, Math.ceil(words.length / n));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per)
    out.push((i === 0 ? '' : ' ') + words.slice(i, i + per).join(' '));
  return out;
}

/** The mock's token count: whitespace-separated words (predictable in tests). */
export function countWords(s: string): number {
  const t = s.trim();
  return t ? t.split(/\s+/).length : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
