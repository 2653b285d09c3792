import type { ProviderApi } from '../provider-api.js';
import { chatStreamReader, openAIChat } from './chat.js';

/**
 * OpenAI legacy Completions (`POST /v1/completions`): `choices[].text`, streamed like chat
 * (`text_completion` chunks, `[DONE]`, usage on request). Source:
 * https://platform.openai.com/docs/api-reference/completions.
 */
export const openAICompletions: ProviderApi = {
  ...openAIChat,
  id: 'openai.completions',
  matches: (path) => path.endsWith('/completions') && !path.endsWith('/chat/completions'),
  streamReader: () => chatStreamReader,
};
