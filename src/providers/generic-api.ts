import type { ProviderApi } from './provider-api.js';
import { chatStreamReader, openAIChat } from './openai/chat.js';

/**
 * Any path no spec claims (`/models`, `/files`, `/batches`, a provider's own extension): still
 * forwarded and audited with what can be read — the body's `model`, and an OpenAI-shaped answer's
 * model, usage and error. A stream of unknown protocol is healthy when it closes cleanly.
 */
export const genericApi: ProviderApi = {
  ...openAIChat,
  id: 'generic',
  matches: () => true,
  generative: false,
  streamEnd: 'close',
  streamUsageOption: false,
  streamReader: () => chatStreamReader,
};
