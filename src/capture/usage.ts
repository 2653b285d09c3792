/**
 * Usage as providers report it (OpenAI chat/completions/embeddings, Responses API, Anthropic), as
 * `TrackedCall.setUsage` takes it; src/providers/openai/openai-usage.ts reads it.
 */
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
