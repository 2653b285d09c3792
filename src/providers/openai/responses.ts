import { usageFromOpenAIResponses } from '../../pricing/provider-usage.js';
import type { ProviderApi, ResponseReading, StreamSink } from '../provider-api.js';
import { joinedOrNull, objectOr, objectsOf, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Responses (`POST /v1/responses`). A stream is typed events; it ends after its terminal
 * event (`response.completed`, `response.incomplete` or `response.failed`) or an `error` event,
 * with no `[DONE]`. Usage, model and status come in the terminal event's `response`.
 * Source: https://platform.openai.com/docs/api-reference/responses-streaming (2025).
 */
export const openAIResponses: ProviderApi = {
  id: 'openai.responses',
  family: 'openai',
  matches: (path) => /\/responses(\/|$)/.test(path),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: (_path, body) => body?.stream === true,
  generative: true,
  framing: 'sse',
  streamEnd: 'event',
  streamUsageOption: false,
  streamReader: () => ({
    read(chunk, sink): boolean {
      readResponsesEvent(chunk, sink);
      return false;
    },
  }),
  // readResponsesEvent reads only `type` and `delta` of these events.
  textDeltas: ['response.output_text.delta', 'response.refusal.delta'].map((type) => ({
    type,
    text: ['delta'],
    varying: ['sequence_number', 'item_id', 'output_index', 'content_index', 'obfuscation'],
  })),
  readResponse(body): ResponseReading {
    const out = responseOutput(body);
    return {
      model: stringOr(body.model),
      text: out,
      finishReason: finishOf(body),
      usage: openAICompatibleUsage(body.usage),
      error: openAIError(body),
    };
  },
};

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

function readResponsesEvent(chunk: Record<string, unknown>, sink: StreamSink): void {
  const type = chunk.type;
  if (typeof type !== 'string') return;
  const delta = typeof chunk.delta === 'string' ? chunk.delta : '';
  switch (type) {
    case 'response.output_text.delta':
    case 'response.refusal.delta':
      if (delta) sink.text(delta);
      return;
    case 'response.function_call_arguments.delta':
      if (delta) sink.toolArguments(delta, stringOr(chunk.item_id) ?? String(chunk.output_index));
      return;
    // A reasoning summary streams to the user like Anthropic's thinking and Gemini's thoughts:
    // tokens arriving, so the first token (docs/providers.md, Timing); it is not the answer's text.
    case 'response.audio.delta':
    case 'response.audio.transcript.delta':
    case 'response.reasoning_summary_text.delta':
      if (delta) sink.otherContent();
      return;
    case 'error':
      sink.error(stringOr(chunk.message) ?? 'stream error', stringOr(chunk.code));
      sink.completed();
      return;
  }
  const response = objectOr(chunk.response);
  if (!response) return;
  if (typeof response.model === 'string') sink.model(response.model);
  if (!TERMINAL.has(type)) return;
  const usage = objectOr(response.usage);
  if (usage) sink.usage(usageFromOpenAIResponses(usage));
  const finish = finishOf(response);
  if (finish) sink.finish(finish);
  const err = openAIError(response);
  if (err) sink.error(err.message ?? 'response failed', err.code);
  sink.completed();
}

/** `status`, or the reason an incomplete response stopped (`max_output_tokens`, `content_filter`). */
function finishOf(r: Record<string, unknown>): string | null {
  const reason = stringOr(objectOr(r.incomplete_details)?.reason);
  return reason ?? stringOr(r.status);
}

function responseOutput(r: Record<string, unknown>): string | null {
  const texts: string[] = [];
  for (const item of objectsOf(r.output)) {
    for (const part of objectsOf(item.content)) if (typeof part.text === 'string') texts.push(part.text);
    if (typeof item.arguments === 'string') texts.push(item.arguments);
  }
  return joinedOrNull(texts);
}
