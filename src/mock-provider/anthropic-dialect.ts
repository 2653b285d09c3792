/**
 * The mock's Anthropic Messages API (`POST /v1/messages`, key in `x-api-key`), in the shapes of
 * https://docs.anthropic.com/en/api/messages and /en/api/messages-streaming (2025): a `message`
 * body, or a stream of `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
 * `content_block_stop`, `message_delta` (stop reason, output usage) and `message_stop`.
 * `input_tokens` excludes cache reads and writes, as Anthropic counts them. Tool use and extended
 * thinking as in /en/docs/build-with-claude/streaming ("Streaming request with tool use",
 * "… with extended thinking").
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import { capOf, completionFor, countWords, mockId, sendJson, splitInto, textOfBlocks } from './mock-text.js';
import {
  anthropicThinking,
  anthropicToolCall,
  fragments,
  toolCallTokens,
  type MockToolCall,
} from './mock-tools.js';
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

/** One content block: whole (a non-streamed answer), empty (its `content_block_start`), and its deltas. */
interface Block {
  whole: Record<string, unknown>;
  start: Record<string, unknown>;
  deltas: Array<Record<string, unknown>>;
}

/**
 * The answer's blocks, in Anthropic's order: a `thinking` block (its text in `thinking_delta`s,
 * then one `signature_delta`) when thinking is on, then the tool call (a `tool_use` block whose
 * JSON input arrives as `input_json_delta` fragments, the first one empty, as Anthropic sends it)
 * or the text.
 */
function blocksOf(
  text: string,
  call: MockToolCall | null,
  thinking: string | null,
  chunks: number,
  chunkText: string | undefined,
): Block[] {
  const blocks: Block[] = [];
  if (thinking !== null) {
    const signature = `EqQBCgIYAhIM${mockId('')}`;
    blocks.push({
      whole: { type: 'thinking', thinking, signature },
      start: { type: 'thinking', thinking: '', signature: '' },
      deltas: [
        ...splitInto(thinking, chunks).map((p) => ({ type: 'thinking_delta', thinking: p })),
        { type: 'signature_delta', signature },
      ],
    });
  }
  if (call !== null) {
    const id = mockId('toolu_');
    blocks.push({
      whole: { type: 'tool_use', id, name: call.name, input: call.input },
      start: { type: 'tool_use', id, name: call.name, input: {} },
      deltas: ['', ...fragments(JSON.stringify(call.input), chunks)].map((partial_json) => ({
        type: 'input_json_delta',
        partial_json,
      })),
    });
  } else
    blocks.push({
      whole: { type: 'text', text },
      start: { type: 'text', text: '' },
      deltas: splitInto(text, chunks).map((p) => ({ type: 'text_delta', text: chunkText ?? p })),
    });
  return blocks;
}

export async function answerAnthropic(ctx: MockContext, res: ServerResponse): Promise<void> {
  const { json, model, script } = ctx;
  const maxTokens = capOf(json.max_tokens);
  if (maxTokens === undefined)
    return sendJson(res, 400, anthropicErrorBody(400, 'max_tokens: Field required'));
  const c = completionFor(promptOf(json), maxTokens, script, ctx.chunks);
  const call = anthropicToolCall(json, script);
  const thinking = anthropicThinking(json, script);
  const id = mockId('msg_');
  const stopReason = call ? 'tool_use' : c.capped ? 'max_tokens' : 'end_turn';
  // Anthropic's input_tokens are the tokens after the last cache breakpoint only; thinking is
  // billed as output.
  const input = Math.max(0, c.inputTokens - c.cachedTokens - c.cacheWriteTokens);
  const output = (call ? toolCallTokens(call) : c.outputTokens) + (thinking ? countWords(thinking) : 0);
  const usage = {
    input_tokens: input,
    cache_creation_input_tokens: c.cacheWriteTokens,
    cache_read_input_tokens: c.cachedTokens,
    output_tokens: output,
  };
  const blocks = blocksOf(c.text, call, thinking, ctx.chunks, script.chunkText);
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
        content: blocks.map((b) => b.whole),
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
  const blockStart = (index: number): string =>
    sse({ type: 'content_block_start', index, content_block: blocks[index]!.start }, 'content_block_start');
  const blockStop = (index: number): string =>
    sse({ type: 'content_block_stop', index }, 'content_block_stop');
  // One piece per delta; a block's first delta carries the previous block's stop and its own start.
  const pieces = blocks.flatMap((b, index) =>
    b.deltas.map(
      (delta, j) =>
        (j === 0 && index > 0 ? blockStop(index - 1) + blockStart(index) : '') +
        sse({ type: 'content_block_delta', index, delta }, 'content_block_delta'),
    ),
  );
  return writeStream(
    res,
    {
      contentType: 'text/event-stream; charset=utf-8',
      head: [sse(start, 'message_start'), blockStart(0), sse({ type: 'ping' }, 'ping')],
      pieces,
      tail: [
        blockStop(blocks.length - 1),
        sse(
          {
            type: 'message_delta',
            delta: { stop_reason: stopReason, stop_sequence: null },
            ...(script.omitUsage ? {} : { usage: { output_tokens: output } }),
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
