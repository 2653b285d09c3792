import type { ProviderApi } from '../provider-api.js';
import { objectsOf, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Images (`/v1/images/generations`, `/edits`, `/variations`; edits are multipart). GPT
 * Image models report token usage (`input_tokens`, `output_tokens`); DALL·E reports none. A
 * streamed generation (`partial_images`) ends with `image_generation.completed` (edits:
 * `image_edit.completed`) carrying usage. The image bytes are never kept, only revised prompts.
 * Source: https://platform.openai.com/docs/api-reference/images (2025).
 */
export const openAIImages: ProviderApi = {
  id: 'openai.images',
  family: 'openai',
  matches: (path) => /\/images\/(generations|edits|variations)$/.test(path),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: (_path, body) => body?.stream === true || body?.stream === 'true',
  generative: false,
  framing: 'sse',
  streamEnd: 'event',
  streamUsageOption: false,
  streamReader: () => ({
    read(chunk, sink): boolean {
      const type = stringOr(chunk.type) ?? '';
      if (type.endsWith('.partial_image')) sink.otherContent();
      if (type.endsWith('.completed')) {
        sink.otherContent();
        const usage = openAICompatibleUsage(chunk.usage);
        if (usage) sink.usage(usage);
        sink.completed();
      }
      if (type === 'error') {
        const err = openAIError(chunk);
        sink.error(err?.message ?? 'stream error', err?.code ?? null);
        sink.completed();
      }
      return false;
    },
  }),
  readResponse(body) {
    const revised: string[] = [];
    for (const d of objectsOf(body.data))
      if (typeof d.revised_prompt === 'string') revised.push(d.revised_prompt);
    return {
      model: stringOr(body.model),
      text: revised.length ? revised.join('\n') : null,
      finishReason: null,
      usage: openAICompatibleUsage(body.usage),
      error: openAIError(body),
    };
  },
};
