/**
 * The most a request can cost before it is sent: what budget admission reserves (and, in tokens,
 * what tpm limits take). Input is the request body counted with the o200k_base tokenizer (the whole
 * JSON body: its keys and punctuation are more tokens than the provider's per-message framing);
 * output is the request's own cap (`max_completion_tokens`, `max_tokens`, `max_output_tokens`,
 * Gemini's `generationConfig.maxOutputTokens`, times `n` choices), never more than the model's
 * output limit from the catalog, or that limit when the request sets none. A model billed by units
 * (docs/cost.md "Billed units") reserves what the request asks for: TTS-1 the `input`'s characters,
 * DALL·E `n` images of the requested size and quality (the dearest image the row prices when that
 * size is not priced); Whisper's duration is not known before the answer, so it reserves nothing.
 * docs/access-control.md "Budgets under concurrency" states where the real cost can still exceed
 * this.
 */
import type { PriceCatalog, PriceRow } from '../pricing/catalog.js';
import { costMicroUsd, noTokens } from '../pricing/cost.js';
import { countTokensAtMost } from '../pricing/token-estimate.js';
import { imageUnit } from '../providers/openai/images.js';

/** Output reserved when neither the request nor the catalog bounds it (a row without `max_output_tokens`). */
export const UNBOUNDED_OUTPUT_RESERVE = 32_768;
/** OpenAI's `n` (choices per request) is capped here: the API itself refuses more than 128. */
const MAX_CHOICES = 128;

/** A request's worst case: tokens, and micro-USD (null when the model has no price). */
export interface WorstCase {
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number | null;
}

function positiveInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : null;
}

/** The output cap the request itself sets, times the choices it asks for (null: no cap given). */
function requestedOutputCap(body: Record<string, unknown>): number | null {
  const generation = body.generationConfig as Record<string, unknown> | undefined;
  const cap =
    positiveInt(body.max_completion_tokens) ??
    positiveInt(body.max_tokens) ??
    positiveInt(body.max_output_tokens) ??
    (generation !== null && typeof generation === 'object' ? positiveInt(generation.maxOutputTokens) : null);
  return cap;
}

function choices(body: Record<string, unknown>): number {
  const generation = body.generationConfig as Record<string, unknown> | undefined;
  const n =
    positiveInt(body.n) ??
    (generation !== null && typeof generation === 'object' ? positiveInt(generation.candidateCount) : null);
  return Math.min(n ?? 1, MAX_CHOICES);
}

/** Output tokens to reserve: the request's cap bounded by the model's limit, else the limit. */
export function worstCaseOutputTokens(body: Record<string, unknown> | null, row: PriceRow | null): number {
  const limit = row?.max_output_tokens ?? null;
  const cap = body ? requestedOutputCap(body) : null;
  const perChoice =
    cap === null ? (limit ?? UNBOUNDED_OUTPUT_RESERVE) : limit === null ? cap : Math.min(cap, limit);
  return perChoice * (body ? choices(body) : 1);
}

/**
 * Worst-case cost of `tokens` at the row's highest applicable input and output rates (cache
 * writes, audio or image input and reasoning may cost more than plain input and output). Null for
 * a row billed by units alone (Whisper, TTS, DALL·E): no token count bounds it.
 */
function worstCaseCost(
  row: PriceRow,
  body: Record<string, unknown> | null,
  inputTokens: number,
  outputTokens: number,
): number | null {
  if (row.input === null || row.output === null) return worstCaseUnits(row, body);
  const input = row.input;
  const dearest = Math.max(input, row.cache_write ?? 0, row.audio_input ?? 0, row.image_input ?? 0);
  const at = (rate: number | null): number => (dearest > input && rate === dearest ? inputTokens : 0);
  const reasoning = row.reasoning !== null && row.reasoning > row.output;
  const cacheWrite = at(row.cache_write);
  const audio = cacheWrite ? 0 : at(row.audio_input);
  return costMicroUsd(row, {
    input_tokens: inputTokens,
    cached_input_tokens: 0,
    cache_write_tokens: cacheWrite,
    audio_input_tokens: audio,
    image_input_tokens: cacheWrite || audio ? 0 : at(row.image_input),
    output_tokens: outputTokens,
    reasoning_tokens: reasoning ? outputTokens : 0,
  });
}

/** The most a unit-billed request (no token rates) can cost, from what it asks for; null when unknown. */
function worstCaseUnits(row: PriceRow, body: Record<string, unknown> | null): number | null {
  if (!body) return null;
  if (row.units.character && typeof body.input === 'string') {
    return costMicroUsd(row, noTokens(), { unit: 'character', quantity: [...body.input].length });
  }
  const images = Object.entries(row.units).filter(([name]) => name.startsWith('image_'));
  if (images.length === 0) return null;
  const asked = imageUnit(body);
  const unit = Object.hasOwn(row.units, asked)
    ? asked
    : images.reduce((a, b) => (b[1].rate > a[1].rate ? b : a))[0];
  const n = Math.min(positiveInt(body.n) ?? 1, MAX_CHOICES);
  return costMicroUsd(row, noTokens(), { unit, quantity: n });
}

const memo = new WeakMap<object, WorstCase>();

/**
 * The request's worst case at `atMs`. Memoised per body object: the key policy and the config
 * budgets of one request share one tokenizer pass.
 */
export function worstCaseOf(
  catalog: PriceCatalog,
  model: string | null,
  body: Record<string, unknown> | null,
  atMs: number,
): WorstCase {
  const hit = body ? memo.get(body) : undefined;
  if (hit !== undefined) return hit;
  const row = model ? catalog.resolve(model, atMs) : null;
  const inputTokens = body ? Math.max(1, countTokensAtMost(JSON.stringify(body))) : 1;
  const outputTokens = worstCaseOutputTokens(body, row);
  const result: WorstCase = {
    inputTokens,
    outputTokens,
    costMicroUsd: row ? worstCaseCost(row, body, inputTokens, outputTokens) : null,
  };
  if (body) memo.set(body, result);
  return result;
}
