/**
 * A simulated provider on loopback. The tests, the benchmarks and `tollgate demo` all talk to it,
 * so nothing in the project needs a real provider or the network. It speaks each provider's
 * dialect on the path that provider uses (one dialect per file beside this one):
 *  - OpenAI under `/v1`: chat completions, completions, Responses, embeddings, models,
 *    multipart audio transcriptions, speech and image generations (`baseUrl`);
 *  - Anthropic Messages at `/v1/messages` (key in `x-api-key`);
 *  - Gemini at `/v1beta/models/{model}:generateContent` / `:streamGenerateContent` and under
 *    `/v1` (key in `x-goog-api-key` or `?key=`);
 *  - Ollama's native `/api/chat` and `/api/generate` (NDJSON, no key).
 * Anthropic, Gemini and Ollama clients take `origin` (no `/v1`) as their base URL. Errors, keys
 * and rate-limit headers are in each provider's own shape.
 *
 * Behaviour is chosen per request, first match wins:
 *  1. a scripted response queued with `enqueue()` (tests),
 *  2. the requested model's name (`mock-error-500`, `mock-rate-limit`, `mock-hang`, … see SCENARIO_MODELS),
 *  3. a normal answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicErrorBody, answerAnthropic } from './anthropic-dialect.js';
import { answerChat, servedModelOf } from './chat-dialect.js';
import { answerGemini, GEMINI_PATH, geminiErrorBody, geminiKeyError } from './gemini-dialect.js';
import type { MockContext, MockScript } from './mock-context.js';
import { countWords, sendJson, sleep } from './mock-text.js';
import { answerOllama, ollamaErrorBody } from './ollama-dialect.js';
import { answerResponses } from './responses-dialect.js';
import { answerTranscription, multipartFields } from './transcription-dialect.js';
import { answerImages, answerSpeech } from './speech-image-dialect.js';

export type { MockScript } from './mock-context.js';
export { countWords } from './mock-text.js';

/** The provider API a request speaks, from its path. */
type Dialect = 'openai' | 'anthropic' | 'gemini' | 'ollama';

function dialectOf(pathname: string): Dialect {
  if (pathname === '/v1/messages') return 'anthropic';
  if (GEMINI_PATH.test(pathname)) return 'gemini';
  if (pathname === '/api/chat' || pathname === '/api/generate') return 'ollama';
  return 'openai';
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
   * A request quota that counts down, per provider API: every OpenAI answer carries
   * x-ratelimit-limit-requests, x-ratelimit-remaining-requests and x-ratelimit-reset-requests, every
   * Anthropic one anthropic-ratelimit-requests-*, Gemini none; once it is spent, 429s.
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
  /** Requests left of `requestQuota`, per provider API (each provider counts its own). */
  private readonly quotaLeft = new Map<Dialect, number>();

  constructor(options: MockProviderOptions = {}) {
    this.options = { chunkDelayMs: 0, chunks: 5, record: true, ...options };
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

  /** The OpenAI-compatible base URL (`http://127.0.0.1:PORT/v1`). */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** The server's origin: the base URL of an Anthropic, Gemini or Ollama client. */
  get origin(): string {
    const addr = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      if (this.options.record) {
        this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      }
      void this.answer(req, res, raw).catch(() => res.destroy());
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const dialect = dialectOf(url.pathname);
    const path = url.pathname.replace(/^\/v1/, '');
    const contentType = req.headers['content-type'] ?? '';
    let json: Record<string, unknown> = {};
    let fileBytes = 0;
    if (/^multipart\/form-data/i.test(contentType)) {
      const form = multipartFields(raw, contentType);
      if (!form) return this.sendError(res, dialect, 400, {}, 'multipart body without a boundary');
      json = form.fields;
      fileBytes = form.fileBytes;
    } else {
      try {
        json = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return this.sendError(res, dialect, 400, {}, 'invalid JSON');
      }
    }
    const gemini = GEMINI_PATH.exec(url.pathname);
    const model = gemini?.[1] ?? (typeof json.model === 'string' ? json.model : defaultModel(dialect));
    const quota = this.options.requestQuota;
    if (quota !== undefined && dialect !== 'ollama') {
      let left = this.quotaLeft.get(dialect) ?? quota;
      const spent = left <= 0;
      if (!spent) this.quotaLeft.set(dialect, --left);
      for (const [k, v] of Object.entries(quotaHeaders(dialect, quota, left))) res.setHeader(k, v);
      if (spent)
        return this.sendError(res, dialect, 429, dialect === 'anthropic' ? { 'retry-after': '60' } : {});
    }
    const script = this.queue.shift() ?? SCENARIO_MODELS[model] ?? {};

    if (this.options.validKeys && dialect !== 'ollama') {
      const key = keyOf(dialect, req, url);
      if (key === null || !this.options.validKeys.includes(key)) {
        if (dialect === 'gemini') return geminiKeyError(res, key !== null);
        return this.sendError(res, dialect, 401);
      }
    }
    if (script.hang) {
      res.on('close', () => this.abortedByPeer++);
      return; // never answer
    }
    if (script.delayMs) await sleep(script.delayMs);
    const status = script.status ?? 200;
    if (status !== 200) {
      if (script.body !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json', ...script.headers });
        res.end(script.body);
        return;
      }
      return this.sendError(res, dialect, status, script.headers ?? {});
    }
    if (script.body !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', ...script.headers });
      res.end(script.body);
      return;
    }
    const ctx: MockContext = {
      json,
      model,
      script,
      chunks: this.options.chunks,
      delayMs: script.chunkDelayMs ?? this.options.chunkDelayMs,
      onPeerAbort: () => this.abortedByPeer++,
    };
    if (dialect === 'anthropic') return answerAnthropic(ctx, res);
    if (gemini) return answerGemini(ctx, res, gemini[2]!, url.searchParams.get('alt'));
    if (dialect === 'ollama')
      return answerOllama(ctx, res, url.pathname === '/api/chat' ? 'chat' : 'generate');

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
      case '/audio/transcriptions':
      case '/audio/translations':
        return answerTranscription(ctx, res, fileBytes);
      case '/audio/speech':
        return answerSpeech(ctx, res);
      case '/images/generations':
        return answerImages(ctx, res);
      case '/responses':
        return answerResponses(ctx, res, servedModelOf(model));
      case '/chat/completions':
      case '/completions':
        return answerChat(path, ctx, res);
      default:
        return sendJson(res, 404, {
          error: { message: `Unknown path ${path}`, type: 'invalid_request_error', code: null },
        });
    }
  }

  /** An error answer in the dialect's own shape. */
  private sendError(
    res: ServerResponse,
    dialect: Dialect,
    status: number,
    headers: Record<string, string> = {},
    message?: string,
  ): void {
    const body =
      dialect === 'anthropic'
        ? anthropicErrorBody(status, message)
        : dialect === 'gemini'
          ? geminiErrorBody(status, message)
          : dialect === 'ollama'
            ? ollamaErrorBody(status)
            : { error: message ? { message, type: 'invalid_request_error', code: null } : errorFor(status) };
    sendJson(res, status, body, headers);
  }
}

function defaultModel(dialect: Dialect): string {
  return dialect === 'anthropic' ? 'claude-sonnet-4-5' : dialect === 'ollama' ? 'llama3.2' : 'gpt-4.1-mini';
}

/** The key a request carries, in the header its provider reads (null: none). */
function keyOf(dialect: Dialect, req: IncomingMessage, url: URL): string | null {
  const header = (name: string): string | null => {
    const v = req.headers[name];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  if (dialect === 'anthropic') return header('x-api-key');
  if (dialect === 'gemini') return header('x-goog-api-key') ?? url.searchParams.get('key');
  const auth = header('authorization');
  return auth?.startsWith('Bearer ') ? auth.slice(7) : null;
}

/** The rate-limit headers a provider sends with every answer (Gemini sends none). */
function quotaHeaders(dialect: Dialect, limit: number, remaining: number): Record<string, string> {
  if (dialect === 'anthropic')
    return {
      'anthropic-ratelimit-requests-limit': String(limit),
      'anthropic-ratelimit-requests-remaining': String(remaining),
      'anthropic-ratelimit-requests-reset': new Date(Date.now() + 60_000)
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
    };
  if (dialect === 'gemini') return {};
  return {
    'x-ratelimit-limit-requests': String(limit),
    'x-ratelimit-remaining-requests': String(remaining),
    'x-ratelimit-reset-requests': '1m0s',
  };
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
