/**
 * Cost of one request in integer micro-USD. This is the only place Tollgate rounds money.
 *
 * Token convention (the audit event's, which is OpenAI's; provider-usage.ts converts the others):
 * - `input_tokens` is the whole prompt and INCLUDES `cached_input_tokens` (and cache writes):
 *   OpenAI's `prompt_tokens` counts cached tokens inside it, so they are subtracted here and
 *   billed once, at the cached rate, never also at the full rate.
 * - `output_tokens` INCLUDES `reasoning_tokens` (OpenAI `completion_tokens_details`); reasoning
 *   is billed at the output rate unless the row prices it separately, in which case the
 *   reasoning share is taken out of output and billed at the reasoning rate — never both.
 *
 * - `audio_input_tokens` and `image_input_tokens` are parts of `input_tokens` (GPT-4o transcribe's
 *   audio, GPT Image's input images), billed at the row's `audio_input` / `image_input` rate.
 * - A billed unit other than tokens (`audio_second`, `character`, `image_1024x1024_hd`) is billed
 *   at the row's price for that unit; the pricer (pricer.ts) decides which applies to an event.
 *
 * Rounding: every term is an exact integer in micro-USD × 10^6 (tokens × micro-USD per million,
 * units × micro-USD per million units), they are summed exactly (BigInt), and the sum is divided
 * by 10^6 once, rounding half up to a whole micro-dollar. Reports add these integers, so a report
 * equals the sum of its events.
 */
import type { PriceRow } from './catalog.js';

/** Token counts of one request in the event convention (see the module comment). */
export interface TokenUsage {
  input_tokens: number;
  cached_input_tokens: number;
  /** Anthropic cache writes (part of input_tokens). */
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  /** Audio tokens of the prompt (part of input_tokens); absent: 0. */
  audio_input_tokens?: number;
  /** Image tokens of the prompt (part of input_tokens); absent: 0. */
  image_input_tokens?: number;
}

/** A quantity of one billed unit (`{unit: 'audio_second', quantity: 9}`). */
export interface UnitUsage {
  unit: string;
  quantity: number;
}

const NO_TOKENS: TokenUsage = {
  input_tokens: 0,
  cached_input_tokens: 0,
  cache_write_tokens: 0,
  output_tokens: 0,
  reasoning_tokens: 0,
};

/** The parts a cost is made of, for `tollgate prices explain`-style output and tests. */
export interface CostBreakdown {
  /** Integer micro-USD, rounded once. */
  cost_micro_usd: number;
  uncached_input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  audio_input_tokens: number;
  image_input_tokens: number;
  output_tokens: number;
  reasoning_tokens_priced_separately: number;
  long_context: boolean;
  /** The billed unit priced, if any, and how many. */
  unit: string | null;
  unit_quantity: number;
}

const PER_MILLION = 1_000_000n;
const HALF = 500_000n;

function count(n: number, field: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${field} must be a non-negative integer`);
  return BigInt(n);
}

/**
 * Costs one request against one price row: its tokens, plus `units` of a billed unit when given.
 * Throws RangeError on negative or fractional counts, on tokens for a row with no token rates, and
 * on a unit the row has no price for (the pricer checks these first, to say why a cost is null).
 */
export function costBreakdown(
  row: PriceRow,
  usage: TokenUsage,
  units: UnitUsage | null = null,
): CostBreakdown {
  const input = count(usage.input_tokens, 'input_tokens');
  const output = count(usage.output_tokens, 'output_tokens');
  // Counts reported inside a total can never exceed it; clamp so a relay's odd numbers cannot
  // produce a negative uncached share.
  const cached = minBig(count(usage.cached_input_tokens, 'cached_input_tokens'), input);
  const cacheWrite = minBig(count(usage.cache_write_tokens, 'cache_write_tokens'), input - cached);
  const audio = minBig(
    count(usage.audio_input_tokens ?? 0, 'audio_input_tokens'),
    input - cached - cacheWrite,
  );
  const image = minBig(
    count(usage.image_input_tokens ?? 0, 'image_input_tokens'),
    input - cached - cacheWrite - audio,
  );
  const reasoning = minBig(count(usage.reasoning_tokens, 'reasoning_tokens'), output);
  const uncached = input - cached - cacheWrite - audio - image;

  let scaled = 0n;
  const lc = row.long_context;
  const long = lc !== null && input > BigInt(lc.above_input_tokens);
  const separateReasoning = row.reasoning !== null ? reasoning : 0n;
  if (row.input !== null && row.output !== null) {
    const baseInput = long ? lc.input : row.input;
    const inputRate = BigInt(baseInput);
    const outputRate = BigInt(long ? lc.output : row.output);
    const cachedRate = BigInt((long ? lc.cached_input : row.cached_input) ?? baseInput);
    const cacheWriteRate = BigInt(row.cache_write ?? baseInput);
    scaled =
      uncached * inputRate +
      cached * cachedRate +
      cacheWrite * cacheWriteRate +
      audio * BigInt(row.audio_input ?? baseInput) +
      image * BigInt(row.image_input ?? baseInput) +
      (output - separateReasoning) * outputRate +
      separateReasoning * BigInt(row.reasoning ?? 0);
  } else if (input > 0n || output > 0n) {
    throw new RangeError(`${row.model} has no token rates`);
  }
  let quantity = 0n;
  if (units !== null) {
    const price = Object.hasOwn(row.units, units.unit) ? row.units[units.unit] : undefined;
    if (price === undefined) throw new RangeError(`${row.model} has no price for ${units.unit}`);
    quantity = count(units.quantity, 'quantity');
    scaled += quantity * BigInt(price.rate);
  }

  return {
    cost_micro_usd: Number((scaled + HALF) / PER_MILLION),
    uncached_input_tokens: Number(uncached),
    cached_input_tokens: Number(cached),
    cache_write_tokens: Number(cacheWrite),
    audio_input_tokens: Number(audio),
    image_input_tokens: Number(image),
    output_tokens: Number(output),
    reasoning_tokens_priced_separately: Number(separateReasoning),
    long_context: long,
    unit: units?.unit ?? null,
    unit_quantity: Number(quantity),
  };
}

/** Cost of one request in integer micro-USD (see the module comment for the rounding rule). */
export function costMicroUsd(row: PriceRow, usage: TokenUsage, units: UnitUsage | null = null): number {
  return costBreakdown(row, usage, units).cost_micro_usd;
}

/** Zero of every token count: the token part of a request billed by units alone. */
export function noTokens(): TokenUsage {
  return { ...NO_TOKENS };
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
