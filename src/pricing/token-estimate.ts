/**
 * Token estimate for exchanges where the provider reported no usage (interrupted stream, relays
 * that drop `usage`). Capture calls it only then and marks the event `usage_source: 'estimated'`;
 * reports keep estimated and reported tokens apart.
 *
 * Uses gpt-tokenizer's o200k_base encoding (the GPT-4o/4.1/o-series/GPT-5 tokenizer). For other
 * providers' models it is an approximation: their tokenizers are not public in this form.
 * The flattened prompt carries no per-message framing, so chat overhead (a few tokens per
 * message) is not counted; the estimate errs low by that much.
 */
import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);
let tokenCounter: ((text: string) => number) | null = null;

/**
 * The BPE tables weigh ~65 MB of memory; most gateways never need them (providers report usage),
 * so they load on the first estimate rather than at start-up.
 */
function countTokens(text: string): number {
  tokenCounter ??= (requireCjs('gpt-tokenizer') as typeof import('gpt-tokenizer')).countTokens;
  return tokenCounter(text);
}

/**
 * Above this many characters the text is counted as ceil(chars / 4) instead of tokenized:
 * BPE on a multi-megabyte prompt would cost more CPU than an estimate is worth, and roughly
 * four characters per token is the usual rule for English text.
 */
export const TOKENIZE_CHAR_LIMIT = 400_000;

/** Input of {@link estimateUsage}. `model` is accepted for future per-model tokenizers. */
export interface EstimateInput {
  model: string | null;
  promptText: string | null;
  outputText: string | null;
}

function estimateText(text: string | null): number {
  if (!text) return 0;
  if (text.length > TOKENIZE_CHAR_LIMIT) return Math.ceil(text.length / 4);
  return countTokens(text);
}

/**
 * Tokens of `text` as an upper bound: the o200k_base count, or above TOKENIZE_CHAR_LIMIT its UTF-8
 * byte length (a byte-level BPE token covers at least one byte, so no such tokenizer makes more).
 * Budget admission reserves with it; estimates of finished exchanges use {@link estimateUsage}.
 */
export function countTokensAtMost(text: string): number {
  if (text === '') return 0;
  if (text.length > TOKENIZE_CHAR_LIMIT) return Buffer.byteLength(text, 'utf8');
  return countTokens(text);
}

/** Estimated token counts for one exchange's prompt and output text. */
export function estimateUsage(input: EstimateInput): { input_tokens: number; output_tokens: number } {
  return { input_tokens: estimateText(input.promptText), output_tokens: estimateText(input.outputText) };
}
