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
 * Rounding: every term is an exact integer in micro-USD × 10^6 (tokens × micro-USD per million),
 * they are summed exactly (BigInt), and the sum is divided by 10^6 once, rounding half up to a
 * whole micro-dollar. Reports add these integers, so a report equals the sum of its events.
 */
import type { PriceRow } from './catalog.js';

/** Token counts of one request in the event convention (see the module comment). */
export interface TokenUsage {
  input_tokens: number;
  cached_input_tokens: number;
  /** Anthropic cache writes; the audit event has no field for them yet, so the pricer passes 0. */
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

/** The parts a cost is made of, for `tollgate prices explain`-style output and tests. */
export interface CostBreakdown {
  /** Integer micro-USD, rounded once. */
  cost_micro_usd: number;
  uncached_input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens_priced_separately: number;
  long_context: boolean;
}

const PER_MILLION = 1_000_000n;
const HALF = 500_000n;

function count(n: number, field: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${field} must be a non-negative integer`);
  return BigInt(n);
}

/** Costs one request against one price row. Throws RangeError on negative or fractional counts. */
export function costBreakdown(row: PriceRow, usage: TokenUsage): CostBreakdown {
  const input = count(usage.input_tokens, 'input_tokens');
  const output = count(usage.output_tokens, 'output_tokens');
  // Counts reported inside a total can never exceed it; clamp so a relay's odd numbers cannot
  // produce a negative uncached share.
  const cached = minBig(count(usage.cached_input_tokens, 'cached_input_tokens'), input);
  const cacheWrite = minBig(count(usage.cache_write_tokens, 'cache_write_tokens'), input - cached);
  const reasoning = minBig(count(usage.reasoning_tokens, 'reasoning_tokens'), output);
  const uncached = input - cached - cacheWrite;

  const lc = row.long_context;
  const long = lc !== null && input > BigInt(lc.above_input_tokens);
  const inputRate = BigInt(long ? lc.input : row.input);
  const outputRate = BigInt(long ? lc.output : row.output);
  const cachedRate = BigInt((long ? lc.cached_input : row.cached_input) ?? (long ? lc.input : row.input));
  const cacheWriteRate = BigInt(row.cache_write ?? (long ? lc.input : row.input));

  const separateReasoning = row.reasoning !== null ? reasoning : 0n;
  const scaled =
    uncached * inputRate +
    cached * cachedRate +
    cacheWrite * cacheWriteRate +
    (output - separateReasoning) * outputRate +
    separateReasoning * BigInt(row.reasoning ?? 0);

  return {
    cost_micro_usd: Number((scaled + HALF) / PER_MILLION),
    uncached_input_tokens: Number(uncached),
    cached_input_tokens: Number(cached),
    cache_write_tokens: Number(cacheWrite),
    output_tokens: Number(output),
    reasoning_tokens_priced_separately: Number(separateReasoning),
    long_context: long,
  };
}

/** Cost of one request in integer micro-USD (see the module comment for the rounding rule). */
export function costMicroUsd(row: PriceRow, usage: TokenUsage): number {
  return costBreakdown(row, usage).cost_micro_usd;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
