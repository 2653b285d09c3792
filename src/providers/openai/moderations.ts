import type { ProviderApi } from '../provider-api.js';
import { objectsOf, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';

/**
 * OpenAI Moderations (`POST /v1/moderations`): no usage (free), the flagged categories are the
 * output worth keeping. Source: https://platform.openai.com/docs/api-reference/moderations.
 */
export const openAIModerations: ProviderApi = {
  id: 'openai.moderations',
  family: 'openai',
  matches: (path) => path.endsWith('/moderations'),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: () => false,
  generative: false,
  framing: 'sse',
  streamEnd: 'sentinel',
  streamUsageOption: false,
  streamReader: () => ({ read: () => false }),
  readResponse(body) {
    const flagged: string[] = [];
    for (const r of objectsOf(body.results)) {
      const cats = r.categories;
      if (cats && typeof cats === 'object')
        for (const [name, on] of Object.entries(cats)) if (on === true) flagged.push(name);
    }
    return {
      model: stringOr(body.model),
      text: flagged.length ? `flagged: ${flagged.join(', ')}` : null,
      finishReason: null,
      usage: null,
      error: openAIError(body),
    };
  },
};
