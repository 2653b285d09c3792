/**
 * The mock's Anthropic Messages API (`POST /v1/messages`, key in `x-api-key`), in the shapes of
 * https://docs.anthropic.com/en/api/messages and /en/api/messages-streaming (2025): a `message`
 * body, or a stream of `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
 * `content_block_stop`, `message_delta` (stop reason, output usage) and `message_stop`.
 * `input_tokens` excludes cache reads and writes, as Anthropic counts them.
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import { capOf, completionFor, mockId, sendJson, splitInto, textOfBlocks } from './mock-text.js';
import { sse, writeStream } from './mock-stream.js';

/** Anthropic's error `type` for an HTTP status. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return 'api_error';
  }
}

export function anthropicErrorBody(status: number, message?: string): Record<string, unknown> {
  const type = anthropicErrorType(status);
  const text =
    message ??
    {
      authentication_error: 'invalid x-api-key',
      rate_limit_error: 'Number of requests has exceeded your rate limit.',
      overloaded_error: 'Overloaded',
      not_found_error: 'model: not found',
      permission_error: 'Your API key does not have permission to use the specified resource.',
      invalid_request_error: 'Invalid request.',
    }[type] ??
    'Internal server error';
  return { type: 'error', error: { type, message: text } };
}

function promptOf(json: Record<string, unknown>): string {
  const parts: string[] = [];
  const system = textOfBlocks(json.system);
  if (system) parts.push(system);
  if (Array.isArray(json.messages))
    for (const m of json.messages) parts.push(textOfBlocks((m as { content?: unknown } | null)?.content));
  return parts.filter(Boolean).join('\n');
}

export async function answerAnthropic(ctx: MockContext, res: ServerResponse): Promise<void> {
  const { json, model, script } = ctx;
  const maxTokens = capOf(json.max_tokens);
  if (maxTokens === undefined)
    return sendJson(res, 400, anthropicErrorBody(400, 'max_tokens: Field required'));
  const c = completionFor(promptOf(json), maxTokens, script, ctx.chunks);
  const id = mockId('msg_');
  const stopReason = c.capped ? 'max_tokens' : 'end_turn';
  // Anthropic's input_tokens are the tokens after the last cache breakpoint only.
  const input = Math.max(0, c.inputTokens - c.cachedTokens - c.cacheWriteTokens);
  const usage = {
    input_tokens: input,
    cache_creation_input_tokens: c.cacheWriteTokens,
    cache_read_input_tokens: c.cachedTokens,
    output_tokens: c.outputTokens,
  };
  const headers = { 'request-id': mockId('req_') };
  if (json.stream !== true) {
    return sendJson(
      res,
      200,
      {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text: c.text }],
        stop_reason: stopReason,
        stop_sequence: null,
        ...(script.omitUsage ? {} : { usage }),
      },
      headers,
    );
  }
  const start = {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      ...(script.omitUsage ? {} : { usage: { ...usage, output_tokens: 1 } }),
    },
  };
  const delta = (text: string): string =>
    sse(
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
      'content_block_delta',
    );
  return writeStream(
    res,
    {
      contentType: 'text/event-stream; charset=utf-8',
      head: [
        sse(start, 'message_start'),
        sse(
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          'content_block_start',
        ),
        sse({ type: 'ping' }, 'ping'),
      ],
      pieces: splitInto(c.text, ctx.chunks).map((p) => delta(script.chunkText ?? p)),
      tail: [
        sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
        sse(
          {
            type: 'message_delta',
            delta: { stop_reason: stopReason, stop_sequence: null },
            ...(script.omitUsage ? {} : { usage: { output_tokens: c.outputTokens } }),
          },
          'message_delta',
        ),
        sse({ type: 'message_stop' }, 'message_stop'),
      ],
    },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}
