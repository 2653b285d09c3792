import { usageFromAnthropic } from '../../pricing/provider-usage.js';
import type { ProviderApi, ResponseReading, StreamReader } from '../provider-api.js';
import { joinedOrNull, objectOr, objectsOf, stringOr } from '../json-value.js';

/**
 * Anthropic Messages (`POST /v1/messages`, key in `x-api-key`). Usage counts `input_tokens`
 * without cache reads (`cache_read_input_tokens`) and writes (`cache_creation_input_tokens`);
 * the event convention adds them in (src/pricing/provider-usage.ts). A stream sends
 * `message_start` (model, input usage), content blocks (`text_delta`, `input_json_delta` for tool
 * use, `thinking_delta`), `message_delta` (stop reason, cumulative output usage) and ends with
 * `message_stop` — no `[DONE]`. Errors: `{"type":"error","error":{"type","message"}}`, in a body or
 * as a stream event. Source: https://docs.anthropic.com/en/api/messages-streaming (2025).
 */
export const anthropicMessages: ProviderApi = {
  id: 'anthropic.messages',
  family: 'anthropic',
  matches: (path) => path.endsWith('/messages'),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: (_path, body) => body?.stream === true,
  generative: true,
  framing: 'sse',
  streamEnd: 'event',
  streamUsageOption: false,
  streamReader: () => new AnthropicStreamReader(),
  // A content_block_delta whose delta.text is not empty means only that text to the reader.
  textDeltas: [{ type: 'content_block_delta', text: ['delta', 'text'], varying: ['index'] }],
  readResponse(body): ResponseReading {
    const error = anthropicError(body);
    const texts: string[] = [];
    for (const block of objectsOf(body.content)) {
      if (typeof block.text === 'string') texts.push(block.text);
      else if (block.type === 'tool_use' && block.input !== undefined) texts.push(jsonText(block.input));
    }
    const usage = objectOr(body.usage);
    return {
      model: stringOr(body.model),
      text: joinedOrNull(texts),
      finishReason: stringOr(body.stop_reason),
      usage: usage ? usageFromAnthropic(usage) : null,
      error,
    };
  },
};

/** Anthropic's error shape, in a body or a stream event. */
function anthropicError(body: Record<string, unknown>): ResponseReading['error'] {
  const err = objectOr(body.error);
  if (!err) return null;
  return { code: stringOr(err.type) ?? stringOr(err.code), message: stringOr(err.message) };
}

/**
 * Keeps the usage of `message_start` and lays each `message_delta`'s over it: the delta's counts
 * are cumulative, and it carries input counts only in newer API versions.
 */
class AnthropicStreamReader implements StreamReader {
  private usage: Record<string, unknown> = {};

  read(chunk: Record<string, unknown>, sink: Parameters<StreamReader['read']>[1]): boolean {
    switch (chunk.type) {
      case 'message_start': {
        const message = objectOr(chunk.message);
        if (typeof message?.model === 'string') sink.model(message.model);
        this.addUsage(message?.usage, sink);
        break;
      }
      case 'content_block_start': {
        const block = objectOr(chunk.content_block);
        if (typeof block?.text === 'string' && block.text !== '') sink.text(block.text);
        break;
      }
      case 'content_block_delta': {
        const delta = objectOr(chunk.delta);
        if (typeof delta?.text === 'string' && delta.text !== '') sink.text(delta.text);
        else if (typeof delta?.partial_json === 'string' && delta.partial_json !== '')
          sink.toolArguments(delta.partial_json, String(chunk.index));
        else if (typeof delta?.thinking === 'string' && delta.thinking !== '') sink.otherContent();
        break;
      }
      case 'message_delta': {
        const stop = stringOr(objectOr(chunk.delta)?.stop_reason);
        if (stop) sink.finish(stop);
        this.addUsage(chunk.usage, sink);
        break;
      }
      case 'message_stop':
        sink.completed();
        break;
      case 'error': {
        const err = anthropicError(chunk);
        sink.error(err?.message ?? 'stream error', err?.code ?? null);
        // The provider ended the stream with its own error event: its protocol is complete.
        sink.completed();
        break;
      }
    }
    return false;
  }

  private addUsage(raw: unknown, sink: Parameters<StreamReader['read']>[1]): void {
    const u = objectOr(raw);
    if (!u) return;
    for (const [k, v] of Object.entries(u)) if (v !== null && v !== undefined) this.usage[k] = v;
    sink.usage(usageFromAnthropic(this.usage));
  }
}

function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}
