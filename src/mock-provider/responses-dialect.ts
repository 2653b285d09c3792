/**
 * The mock's OpenAI Responses API (`POST /v1/responses`), in the shapes of
 * https://platform.openai.com/docs/api-reference/responses-streaming (2025): a `response` object,
 * or typed events from `response.created` to `response.completed` (or `response.incomplete` when
 * the output cap cut the answer), each with a `sequence_number`; no `data: [DONE]`. A forced
 * function (mock-tools.ts) is answered with a `function_call` output item: `response.output_item.added`
 * with empty `arguments`, `response.function_call_arguments.delta` fragments, then
 * `response.function_call_arguments.done` and `response.output_item.done` with the whole arguments
 * (https://platform.openai.com/docs/guides/function-calling, "Streaming").
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
import { fragments, openAIToolCall, toolCallTokens, type MockToolCall } from './mock-tools.js';

function usageOf(c: MockCompletion, output: number): Record<string, unknown> {
  return {
    input_tokens: c.inputTokens,
    input_tokens_details: { cached_tokens: c.cachedTokens },
    output_tokens: output + c.reasoningTokens,
    output_tokens_details: { reasoning_tokens: c.reasoningTokens },
    total_tokens: c.inputTokens + output + c.reasoningTokens,
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
  const call = openAIToolCall(json, script);
  const itemId = mockId(call ? 'fc_' : 'msg_');
  const createdAt = Math.floor(Date.now() / 1000);
  const status = c.capped && !call ? 'incomplete' : 'completed';
  const outputTokens = call ? toolCallTokens(call) : c.outputTokens;
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
    usage: done && !script.omitUsage ? usageOf(c, outputTokens) : null,
  });
  if (call) return answerFunctionCall(ctx, res, itemId, call, response);
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

/** A `function_call` output item, whole or streamed as its arguments' fragments. */
async function answerFunctionCall(
  ctx: MockContext,
  res: ServerResponse,
  itemId: string,
  call: MockToolCall,
  response: (state: string, output: unknown[], done: boolean) => Record<string, unknown>,
): Promise<void> {
  const args = JSON.stringify(call.input);
  const callId = mockId('call_');
  const item = (status: string, argumentsText: string): Record<string, unknown> => ({
    id: itemId,
    type: 'function_call',
    status,
    arguments: argumentsText,
    call_id: callId,
    name: call.name,
  });
  const done = item('completed', args);
  if (ctx.json.stream !== true) return sendJson(res, 200, response('completed', [done], true));
  let seq = 0;
  const event = (type: string, data: Record<string, unknown>): string =>
    sse({ type, sequence_number: seq++, ...data }, type);
  const at = { item_id: itemId, output_index: 0 };
  const head = [
    event('response.created', { response: response('in_progress', [], false) }),
    event('response.in_progress', { response: response('in_progress', [], false) }),
    event('response.output_item.added', { output_index: 0, item: item('in_progress', '') }),
  ];
  const pieces = fragments(args, ctx.chunks).map((delta) =>
    event('response.function_call_arguments.delta', { ...at, delta }),
  );
  const tail = [
    event('response.function_call_arguments.done', { ...at, arguments: args }),
    event('response.output_item.done', { output_index: 0, item: done }),
    event('response.completed', { response: response('completed', [done], true) }),
  ];
  return writeStream(
    res,
    { contentType: 'text/event-stream; charset=utf-8', head, pieces, tail },
    ctx.script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}
