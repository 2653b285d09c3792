/**
 * Each provider counts tokens its own way; the audit event uses one convention (OpenAI's, see
 * cost.ts): `input_tokens` includes cached tokens, `output_tokens` includes reasoning tokens.
 * Capture calls the matching function on the provider's usage object.
 *
 * | provider | prompt total includes cache? | reasoning inside output? |
 * | --- | --- | --- |
 * | OpenAI chat (`prompt_tokens_details.cached_tokens`) | yes | yes (`completion_tokens_details.reasoning_tokens`) |
 * | OpenAI Responses (`input_tokens_details.cached_tokens`) | yes | yes (`output_tokens_details.reasoning_tokens`) |
 * | DeepSeek (`prompt_cache_hit_tokens` + `prompt_cache_miss_tokens` = `prompt_tokens`) | yes | yes |
 * | Anthropic Messages (`cache_read_input_tokens`, `cache_creation_input_tokens`) | NO: added here | no reasoning count; thinking is in `output_tokens` |
 * | Gemini (`cachedContentTokenCount`, `thoughtsTokenCount`) | yes | NO: `candidatesTokenCount` excludes thoughts, added here |
 *
 * Audio and image parts of the prompt (OpenAI transcriptions' `input_token_details.audio_tokens`,
 * GPT Image's `input_tokens_details.image_tokens`, Gemini's `promptTokensDetails` `AUDIO`) are
 * inside the prompt total; they are counted apart because some models price them higher.
 */

/** Usage in the event convention; fields map 1:1 onto the AuditEvent usage fields. */
export interface EventUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  reasoning_tokens: number | null;
  total_tokens: number | null;
  /** Anthropic cache writes (part of input_tokens). */
  cache_write_tokens: number | null;
  /** Audio tokens of the prompt (part of input_tokens; OpenAI audio transcriptions). Absent: none reported. */
  audio_input_tokens?: number | null;
  /** Image tokens of the prompt (part of input_tokens; OpenAI GPT Image). Absent: none reported. */
  image_input_tokens?: number | null;
}

type Obj = Record<string, unknown>;

/** A non-negative integer at `path` inside `o`, or null. */

export function num(o: unknown, ...path: string[]): number | null {
  let cur: unknown = o;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return null;
    cur = (cur as Obj)[p];
  }
  return typeof cur === 'number' && Number.isSafeInteger(cur) && cur >= 0 ? cur : null;
}

function sum(...parts: (number | null)[]): number | null {
  return parts.every((p) => p === null) ? null : parts.reduce<number>((a, p) => a + (p ?? 0), 0);
}

function total(input: number | null, output: number | null): number | null {
  return input === null && output === null ? null : (input ?? 0) + (output ?? 0);
}

/** OpenAI Chat Completions `usage` (also most OpenAI-compatible relays). */
export function usageFromOpenAIChat(usage: unknown): EventUsage {
  const input = num(usage, 'prompt_tokens');
  const output = num(usage, 'completion_tokens');
  return {
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: num(usage, 'prompt_tokens_details', 'cached_tokens'),
    reasoning_tokens: num(usage, 'completion_tokens_details', 'reasoning_tokens'),
    total_tokens: num(usage, 'total_tokens') ?? total(input, output),
    cache_write_tokens: null,
  };
}

/** OpenAI Responses API `usage`. */
export function usageFromOpenAIResponses(usage: unknown): EventUsage {
  const input = num(usage, 'input_tokens');
  const output = num(usage, 'output_tokens');
  return {
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: num(usage, 'input_tokens_details', 'cached_tokens'),
    reasoning_tokens: num(usage, 'output_tokens_details', 'reasoning_tokens'),
    total_tokens: num(usage, 'total_tokens') ?? total(input, output),
    cache_write_tokens: null,
  };
}

/** DeepSeek `usage`: the hit/miss split is DeepSeek's own; OpenAI's cached_tokens is used if present. */
export function usageFromDeepSeek(usage: unknown): EventUsage {
  const base = usageFromOpenAIChat(usage);
  const hit = num(usage, 'prompt_cache_hit_tokens');
  const miss = num(usage, 'prompt_cache_miss_tokens');
  return {
    ...base,
    input_tokens: base.input_tokens ?? sum(hit, miss),
    cached_input_tokens: hit ?? base.cached_input_tokens,
  };
}

/** Anthropic Messages `usage`: `input_tokens` there excludes cache reads and writes. */
export function usageFromAnthropic(usage: unknown): EventUsage {
  const uncached = num(usage, 'input_tokens');
  const read = num(usage, 'cache_read_input_tokens');
  const write = num(usage, 'cache_creation_input_tokens');
  const input = sum(uncached, read, write);
  const output = num(usage, 'output_tokens');
  return {
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: read,
    reasoning_tokens: null,
    total_tokens: total(input, output),
    cache_write_tokens: write,
  };
}

/** Gemini `usageMetadata`: thoughts are billed as output but reported outside candidates. */
export function usageFromGemini(usageMetadata: unknown): EventUsage {
  const input = num(usageMetadata, 'promptTokenCount');
  const thoughts = num(usageMetadata, 'thoughtsTokenCount');
  const output = sum(num(usageMetadata, 'candidatesTokenCount'), thoughts);
  return {
    input_tokens: input,
    output_tokens: output,
    cached_input_tokens: num(usageMetadata, 'cachedContentTokenCount'),
    reasoning_tokens: thoughts,
    total_tokens: num(usageMetadata, 'totalTokenCount') ?? total(input, output),
    cache_write_tokens: null,
    ...geminiAudioInput(usageMetadata),
  };
}

/**
 * The prompt's uncached audio tokens from Gemini's per-modality counts: `promptTokensDetails`'
 * `AUDIO` (the whole prompt, cached part included, as `promptTokenCount` is) less `cacheTokensDetails`'
 * `AUDIO` (the audio served from the context cache). Cached audio is among
 * `cachedContentTokenCount` and billed at the cached rate, so it must not be billed at the audio
 * rate too (https://ai.google.dev/api/generate-content#UsageMetadata). Gemini 2.5 Flash bills
 * audio input at its own rate. Nothing when the prompt had no audio, so text-only events stay as
 * they were.
 */
function geminiAudioInput(usageMetadata: unknown): { audio_input_tokens?: number } {
  const prompt = modalityTokens((usageMetadata as Obj | null)?.promptTokensDetails, 'AUDIO');
  if (prompt === null) return {};
  const cached = modalityTokens((usageMetadata as Obj | null)?.cacheTokensDetails, 'AUDIO') ?? 0;
  return { audio_input_tokens: Math.max(0, prompt - cached) };
}

/** The tokens of one modality in a Gemini `ModalityTokenCount` list; null when it names none. */
function modalityTokens(details: unknown, modality: string): number | null {
  if (!Array.isArray(details)) return null;
  let n: number | null = null;
  for (const d of details) {
    if ((d as Obj | null)?.modality === modality) n = (n ?? 0) + (num(d, 'tokenCount') ?? 0);
  }
  return n;
}
