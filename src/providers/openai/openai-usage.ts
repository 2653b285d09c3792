import {
  usageFromAnthropic,
  usageFromDeepSeek,
  usageFromOpenAIResponses,
  type EventUsage,
} from '../../pricing/provider-usage.js';
import { objectOr } from '../json-value.js';

/**
 * Usage of an OpenAI-compatible answer in the event convention, or null when it reports no
 * counts. Chat and completions report `prompt_tokens` (DeepSeek adds its cache hit/miss split);
 * some relays answer in the Responses shape (`input_tokens`) or, in front of Claude, Anthropic's
 * (`cache_read_input_tokens` outside `input_tokens`).
 */
export function openAICompatibleUsage(raw: unknown): EventUsage | null {
  const u = objectOr(raw);
  if (!u) return null;
  let usage: EventUsage;
  if (u.prompt_tokens !== undefined || u.completion_tokens !== undefined) usage = usageFromDeepSeek(u);
  else if (u.cache_read_input_tokens !== undefined || u.cache_creation_input_tokens !== undefined)
    usage = usageFromAnthropic(u);
  else usage = usageFromOpenAIResponses(u);
  return usage.input_tokens === null && usage.output_tokens === null ? null : usage;
}
