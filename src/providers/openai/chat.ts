import type { ProviderApi, ResponseReading, StreamReader, StreamSink } from '../provider-api.js';
import { joinedOrNull, objectOr, objectsOf, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`), also spoken by every OpenAI-compatible
 * provider (DeepSeek, Groq, OpenRouter, Together, Mistral, xAI, vLLM, Ollama's `/v1`, Azure).
 * Streams are `chat.completion.chunk` events ending with `data: [DONE]`; usage comes in a last
 * chunk with `choices: []` when `stream_options.include_usage` is set.
 * Source: https://platform.openai.com/docs/api-reference/chat (streaming, 2025).
 */
export const openAIChat: ProviderApi = {
  id: 'openai.chat',
  family: 'openai',
  matches: (path) => path.endsWith('/chat/completions'),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: (_path, body) => body?.stream === true,
  generative: true,
  framing: 'sse',
  streamEnd: 'sentinel',
  streamUsageOption: true,
  streamReader: () => chatStreamReader,
  readResponse(body): ResponseReading {
    const error = openAIError(body);
    const texts: string[] = [];
    let finish: string | null = null;
    if (!error) {
      for (const c of objectsOf(body.choices)) {
        const msg = objectOr(c.message);
        if (typeof msg?.content === 'string') texts.push(msg.content);
        for (const call of objectsOf(msg?.tool_calls)) {
          const args = objectOr(call.function)?.arguments;
          if (typeof args === 'string') texts.push(args);
        }
        if (typeof c.text === 'string') texts.push(c.text);
        if (finish === null) finish = stringOr(c.finish_reason);
      }
    }
    return {
      model: stringOr(body.model),
      text: joinedOrNull(texts),
      finishReason: finish,
      usage: openAICompatibleUsage(body.usage),
      error,
    };
  },
};

/** Reads chat and legacy completion chunks; stateless, so one reader serves every stream. */
export const chatStreamReader: StreamReader = {
  read(chunk, sink: StreamSink): boolean {
    if (typeof chunk.model === 'string') sink.model(chunk.model);
    const usage = openAICompatibleUsage(chunk.usage);
    if (usage) sink.usage(usage);
    const err = openAIError(chunk);
    if (err) sink.error(err.message ?? 'stream error', err.code);
    if (!Array.isArray(chunk.choices)) return false;
    for (const choice of objectsOf(chunk.choices)) {
      const delta = objectOr(choice.delta);
      if (delta) {
        if (typeof delta.content === 'string' && delta.content !== '') sink.text(delta.content);
        for (const call of objectsOf(delta.tool_calls)) {
          const args = objectOr(call.function)?.arguments;
          if (typeof args === 'string' && args !== '')
            sink.toolArguments(args, `${String(choice.index)}:${String(call.index)}`);
        }
        if (objectOr(delta.audio)) sink.otherContent();
      }
      if (typeof choice.text === 'string' && choice.text !== '') sink.text(choice.text); // legacy completions
      if (typeof choice.finish_reason === 'string') sink.finish(choice.finish_reason);
    }
    return chunk.choices.length === 0 && usage !== null;
  },
};
