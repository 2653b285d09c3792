import type { BilledUnits, ProviderApi } from '../provider-api.js';
import { num, type EventUsage } from '../../pricing/provider-usage.js';
import { objectOr, objectsOf, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Images (`/v1/images/generations`, `/edits`, `/variations`; edits are multipart). GPT
 * Image models report token usage (`input_tokens`, `output_tokens`); DALL·E reports none. A
 * streamed generation (`partial_images`) ends with `image_generation.completed` (edits:
 * `image_edit.completed`) carrying usage. The image bytes are never kept, only revised prompts.
 * GPT Image input splits into `input_tokens_details.{text_tokens, image_tokens}` (image tokens are
 * priced at their own rate). DALL·E bills per image by size and quality: an answer's images become
 * the billed unit `image_<size>_<quality>` (the request's `size` and `quality`, defaults
 * `1024x1024` and `standard`), counted from the answer's `data`.
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
        const usage = imageUsage(chunk.usage);
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
  readResponse(body, request) {
    const revised: string[] = [];
    const images = objectsOf(body.data);
    for (const d of images) if (typeof d.revised_prompt === 'string') revised.push(d.revised_prompt);
    return {
      model: stringOr(body.model),
      text: revised.length ? revised.join('\n') : null,
      finishReason: null,
      usage: imageUsage(body.usage),
      error: openAIError(body),
      billing: Array.isArray(body.data) ? imagesBilled(images.length, request ?? null) : null,
    };
  },
  // b64_json answers run to megabytes per image, past the kept body: count `data` as it passes.
  countedBilling: { arrayKey: 'data', billed: imagesBilled },
};

/** GPT Image usage, with the prompt's image tokens apart (they cost more than its text). */
function imageUsage(raw: unknown): EventUsage | null {
  const usage = openAICompatibleUsage(raw);
  if (usage) usage.image_input_tokens = num(objectOr(raw), 'input_tokens_details', 'image_tokens');
  return usage;
}

/** The billed unit of one image of the request's size and quality: `image_1024x1792_hd`. */
export function imageUnit(request: Record<string, unknown> | null): string {
  const part = (v: unknown, fallback: string): string =>
    (typeof v === 'string' && v.trim() ? v.trim().toLowerCase() : fallback).replace(/[^a-z0-9]+/g, '_');
  return `image_${part(request?.size, '1024x1024')}_${part(request?.quality, 'standard')}`;
}

/** `count` images of the request's size and quality. */
function imagesBilled(count: number, request: Record<string, unknown> | null): BilledUnits {
  return { unit: imageUnit(request), quantity: count };
}
