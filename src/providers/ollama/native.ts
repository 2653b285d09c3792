import type { EventUsage } from '../../pricing/provider-usage.js';
import type { ProviderApi, ResponseReading, StreamSink } from '../provider-api.js';
import { objectOr, stringOr } from '../json-value.js';

/**
 * Ollama's native API (`POST /api/chat`, `POST /api/generate`; no key). It streams by default
 * (`stream` absent means true) as NDJSON, one JSON object per line; the last has `done: true`,
 * `done_reason`, `prompt_eval_count` (input tokens) and `eval_count` (output tokens). Errors are
 * `{"error": "text"}`. Source: https://github.com/ollama/ollama/blob/main/docs/api.md (2025).
 */
export const ollamaNative: ProviderApi = {
  id: 'ollama.native',
  family: 'ollama',
  matches: (path) => /^\/api\/(chat|generate)$/.test(path),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: (_path, body) => body?.stream !== false,
  generative: true,
  framing: 'ndjson',
  streamEnd: 'event',
  streamUsageOption: false,
  streamReader: () => ({
    read(chunk, sink): boolean {
      readLine(chunk, sink);
      return false;
    },
  }),
  readResponse(body): ResponseReading {
    const message = objectOr(body.message);
    const text =
      typeof message?.content === 'string'
        ? message.content
        : typeof body.response === 'string'
          ? body.response
          : null;
    return {
      model: stringOr(body.model),
      text: text || null,
      finishReason: stringOr(body.done_reason),
      usage: ollamaUsage(body),
      error: typeof body.error === 'string' ? { code: null, message: body.error } : null,
    };
  },
};

function readLine(chunk: Record<string, unknown>, sink: StreamSink): void {
  if (typeof chunk.error === 'string') {
    sink.error(chunk.error, null);
    sink.completed();
    return;
  }
  if (typeof chunk.model === 'string') sink.model(chunk.model);
  const message = objectOr(chunk.message);
  const piece =
    typeof message?.content === 'string'
      ? message.content
      : typeof chunk.response === 'string'
        ? chunk.response
        : '';
  if (piece) sink.text(piece);
  if (Array.isArray(message?.tool_calls) && message.tool_calls.length > 0)
    sink.toolArguments(JSON.stringify(message.tool_calls));
  if (chunk.done === true) {
    const usage = ollamaUsage(chunk);
    if (usage) sink.usage(usage);
    sink.finish(stringOr(chunk.done_reason) ?? 'stop');
    sink.completed();
  }
}

function ollamaUsage(body: Record<string, unknown>): EventUsage | null {
  const n = (v: unknown): number | null =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
  const input = n(body.prompt_eval_count);
  const output = n(body.eval_count);
  if (input === null && output === null) return null;
  return {
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: null,
    reasoning_tokens: null,
    total_tokens: (input ?? 0) + (output ?? 0),
    cache_write_tokens: null,
  };
}
