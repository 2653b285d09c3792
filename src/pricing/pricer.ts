/**
 * The `price` stage of the pipeline: fills `cost_micro_usd` and `pricing_version` from the catalog.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { Pricer } from '../core/stages.js';
import type { PriceCatalog, PriceRow } from './catalog.js';
import { costMicroUsd, noTokens, type TokenUsage } from './cost.js';

/**
 * Usage fields of an event in the cost function's shape; null when a count is not a valid number.
 * `cacheWriteTokens`: Anthropic cache writes (inside `input_tokens`); default the event's own
 * `cache_write_tokens`, so a stored event reprices as it was priced.
 */
export function usageOfEvent(
  event: AuditEvent,
  cacheWriteTokens: number = event.cache_write_tokens ?? 0,
): TokenUsage | null {
  const fields = [event.input_tokens, event.output_tokens, event.cached_input_tokens, event.reasoning_tokens];
  for (const v of fields) {
    if (v !== null && (!Number.isSafeInteger(v) || v < 0)) return null;
  }
  return {
    input_tokens: event.input_tokens ?? 0,
    cached_input_tokens: event.cached_input_tokens ?? 0,
    cache_write_tokens: Number.isSafeInteger(cacheWriteTokens) && cacheWriteTokens > 0 ? cacheWriteTokens : 0,
    output_tokens: event.output_tokens ?? 0,
    reasoning_tokens: event.reasoning_tokens ?? 0,
  };
}

/**
 * The price row for an event: the model the provider answered with (`model_used`, usually a
 * dated snapshot) first, else the model requested, at the event's timestamp.
 */
export function priceRowForEvent(catalog: PriceCatalog, event: AuditEvent): PriceRow | null {
  const atMs = Date.parse(event.timestamp);
  for (const model of [event.model_used, event.model_requested]) {
    if (model) {
      const row = catalog.resolve(model, atMs);
      if (row) return row;
    }
  }
  return null;
}

/** What pricing one event gave: a cost, or why there is none. */
export type EventPrice = { cost_micro_usd: number; reason: null } | { cost_micro_usd: null; reason: string };

function unpriced(reason: string): EventPrice {
  return { cost_micro_usd: null, reason };
}

/** `audio_second`, `character`, `image` (every `image_<size>_<quality>`): the kinds of unit a row bills. */
function unitKinds(row: PriceRow): string {
  const kinds = new Set(Object.keys(row.units).map((u) => (u.startsWith('image_') ? 'image' : u)));
  return [...kinds].join(' or ');
}

/**
 * Prices one event against the catalog (docs/cost.md "How a cost is computed"):
 * - no row for its model at its timestamp → null;
 * - a billed unit the row prices (`billing_unit`) → that many units, plus its tokens when the
 *   row also has token rates;
 * - otherwise its tokens, when the row has token rates and the provider reported (or Tollgate
 *   estimated) them, or when the provider never answered with a 2xx (a refused or failed request
 *   costs what its counts give, usually 0);
 * - otherwise null: an answered request whose billed quantity is unknown is never $0.
 * `billing` carries counts from capture that override the event's (Anthropic cache writes).
 */
export function priceEvent(
  catalog: PriceCatalog,
  event: AuditEvent,
  billing?: { cache_write_tokens: number | null },
): EventPrice {
  const row = priceRowForEvent(catalog, event);
  const model = event.model_used ?? event.model_requested;
  if (!row) {
    return unpriced(
      model
        ? `no price for ${model} at ${event.timestamp.slice(0, 10)} in catalog ${catalog.version}`
        : 'the request names no model',
    );
  }
  const usage = usageOfEvent(event, billing?.cache_write_tokens ?? event.cache_write_tokens ?? 0);
  if (!usage) return unpriced('the usage counts are not non-negative integers');
  for (const v of [event.audio_input_tokens, event.image_input_tokens]) {
    if (v !== null && (!Number.isSafeInteger(v) || v < 0))
      return unpriced('the usage counts are not non-negative integers');
  }
  usage.audio_input_tokens = event.audio_input_tokens ?? 0;
  usage.image_input_tokens = event.image_input_tokens ?? 0;
  const tokenRated = row.input !== null && row.output !== null;
  const tokensKnown = event.input_tokens !== null || event.output_tokens !== null;
  const answered =
    event.http_status_code !== null && event.http_status_code >= 200 && event.http_status_code < 300;

  const unit = event.billing_unit;
  const quantity = event.billing_quantity;
  if (unit !== null && Object.hasOwn(row.units, unit)) {
    if (quantity === null || !Number.isSafeInteger(quantity) || quantity < 0)
      return unpriced(`the ${unit} count is not a non-negative integer`);
    return {
      cost_micro_usd: costMicroUsd(row, tokenRated && tokensKnown ? usage : noTokens(), { unit, quantity }),
      reason: null,
    };
  }
  if (tokenRated && (tokensKnown || !answered))
    return { cost_micro_usd: costMicroUsd(row, usage), reason: null };
  if (!answered) return { cost_micro_usd: 0, reason: null };
  if (!tokenRated) {
    return unpriced(
      unit === null
        ? `${row.model} is billed per ${unitKinds(row)} and the answer did not say how many`
        : `${row.model} has no price for ${unit}${autoQuality(unit)}`,
    );
  }
  return unpriced(`the answer reported no usage (${row.model} is billed per token)`);
}

/**
 * Why an image unit of quality `auto` has no price: the API reference says only that `auto` (its
 * default) "will automatically select the best quality for the given model", not which quality is
 * billed, so it is not mapped to `standard` or `hd`.
 */
function autoQuality(unit: string): string {
  return /^image_.*_auto$/.test(unit)
    ? ' (quality "auto": the API does not say which quality it bills; send "standard" or "hd")'
    : '';
}

/**
 * A Pricer over one catalog (the rules are priceEvent's). `pricing_version` is always the catalog
 * version, so `prices check` can tell which catalog found no price; `unpriced_reason` says why a
 * cost is null. Never throws: the data path must not fail because of pricing.
 */
export function createPricer(catalog: PriceCatalog): Pricer {
  return {
    price(event: AuditEvent, billing?: { cache_write_tokens: number | null }): void {
      event.pricing_version = catalog.version;
      let result: EventPrice;
      try {
        result = priceEvent(catalog, event, billing);
      } catch (err) {
        result = unpriced(err instanceof RangeError ? err.message : 'pricing failed');
      }
      event.cost_micro_usd = result.cost_micro_usd;
      event.unpriced_reason = result.reason;
    },
  };
}
