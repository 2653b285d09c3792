import type { ProviderApi } from '../provider-api.js';
import { stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Embeddings (`POST /v1/embeddings`): `usage.prompt_tokens` only, never streamed, no text
 * output (the vectors are not audit content). Source: https://platform.openai.com/docs/api-reference/embeddings.
 */
export const openAIEmbeddings: ProviderApi = {
  id: 'openai.embeddings',
  family: 'openai',
  matches: (path) => path.endsWith('/embeddings'),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: () => false,
  generative: false,
  framing: 'sse',
  streamEnd: 'sentinel',
  streamUsageOption: false,
  streamReader: () => ({ read: () => false }),
  readResponse: (body) => ({
    model: stringOr(body.model),
    text: null,
    finishReason: null,
    usage: openAICompatibleUsage(body.usage),
    error: openAIError(body),
  }),
};
