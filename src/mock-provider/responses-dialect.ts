/**
 * The mock's OpenAI Responses API (`POST /v1/responses`), in the shapes of
 * https://platform.openai.com/docs/api-reference/responses-streaming (2025): a `response` object,
 * or typed events from `response.created` to `response.completed` (or `response.incomplete` when
 * the output cap cut the answer), each with a `sequence_number`; no `data: [DONE]`.
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import {
  capOf,
  completionFor,
  mockId,
  promptOf,
  sendJson,
  splitInto,
  type MockCompletion,
} from './mock-text.js';
import { sse, writeStream } from './mock-stream.js';

function usageOf(c: MockCompletion): Record<string, unknown> {
  return {
    input_tokens: c.inputTokens,
    input_tokens_details: { cached_tokens: c.cachedTokens },
    output_tokens: c.outputTokens + c.reasoningTokens,
    output_tokens_details: { reasoning_tokens: c.reasoningTokens },
    total_tokens: c.inputTokens + c.outputTokens + c.reasoningTokens,
  };
}

export async function answerResponses(
  ctx: MockContext,
  res: ServerResponse,
  servedModel: string,
): Promise<void> {
  const { json, script } = ctx;
  const c = completionFor(promptOf(json), capOf(json.max_output_tokens), script, ctx.chunks);
  const id = mockId('resp_');
  const itemId = mockId('msg_');
  const createdAt = Math.floor(Date.now() / 1000);
  const status = c.capped ? 'incomplete' : 'completed';
  const message = (text: string, itemStatus: string): Record<string, unknown> => ({
    id: itemId,
    type: 'message',
    status: itemStatus,
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  });
  const response = (state: string, output: unknown[], done: boolean): Record<string, unknown> => ({
    id,
    object: 'response',
    created_at: createdAt,
    status: state,
    model: servedModel,
    output,
    incomplete_details: state === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    error: null,
    usage: done && !script.omitUsage ? usageOf(c) : null,
  });
  if (json.stream !== true) return sendJson(res, 200, response(status, [message(c.text, status)], true));

  let seq = 0;
  const event = (type: string, data: Record<string, unknown>): string =>
    sse({ type, sequence_number: seq++, ...data }, type);
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  const head = [
    event('response.created', { response: response('in_progress', [], false) }),
    event('response.in_progress', { response: response('in_progress', [], false) }),
    event('response.output_item.added', {
      output_index: 0,
      item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    }),
    event('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } }),
  ];
  const pieces = splitInto(c.text, ctx.chunks).map((p) =>
    event('response.output_text.delta', { ...at, delta: script.chunkText ?? p, logprobs: [] }),
  );
  const tail = [
    event('response.output_text.done', { ...at, text: c.text, logprobs: [] }),
    event('response.content_part.done', {
      ...at,
      part: { type: 'output_text', text: c.text, annotations: [] },
    }),
    event('response.output_item.done', { output_index: 0, item: message(c.text, status) }),
    event(`response.${status}`, { response: response(status, [message(c.text, status)], true) }),
  ];
  return writeStream(
    res,
    { contentType: 'text/event-stream; charset=utf-8', head, pieces, tail },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}
