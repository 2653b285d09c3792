import type { AuditEvent } from '../core/audit-event.js';

/** Usage as providers report it: OpenAI chat/completions/embeddings, Responses API, Anthropic-style relays. */
export interface ProviderUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
  /** Anthropic: cached reads are reported apart from input_tokens. */
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

type UsageFields = Pick<
  AuditEvent,
  'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'reasoning_tokens' | 'total_tokens'
>;

/**
 * Normalises a provider's usage block to the event's fields. Convention (OpenAI's): `input_tokens`
 * includes cached tokens and `output_tokens` includes reasoning tokens; pricing subtracts them.
 * Anthropic reports cache reads outside `input_tokens`, so they are added in here.
 */
export function normaliseUsage(u: ProviderUsage | null | undefined): UsageFields | null {
  if (!u || typeof u !== 'object') return null;
  const num = (v: unknown): number | null =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null;
  let input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens);
  let cached = num(u.prompt_tokens_details?.cached_tokens) ?? num(u.input_tokens_details?.cached_tokens);
  const anthropicCached = num(u.cache_read_input_tokens);
  if (anthropicCached !== null && u.prompt_tokens === undefined) {
    cached = (cached ?? 0) + anthropicCached;
    input = (input ?? 0) + anthropicCached + (num(u.cache_creation_input_tokens) ?? 0);
  }
  const reasoning =
    num(u.completion_tokens_details?.reasoning_tokens) ?? num(u.output_tokens_details?.reasoning_tokens);
  if (input === null && output === null) return null;
  const total = num(u.total_tokens) ?? (input ?? 0) + (output ?? 0);
  return {
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: cached,
    reasoning_tokens: reasoning,
    total_tokens: total,
  };
}
