/**
 * The `price` stage of the pipeline: fills `cost_micro_usd` and `pricing_version` from the catalog.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { Pricer } from '../core/stages.js';
import type { PriceCatalog, PriceRow } from './catalog.js';
import { costMicroUsd, type TokenUsage } from './cost.js';

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

/**
 * A Pricer over one catalog. Rules:
 * - the model has no price (unknown, or the event predates its first row) → `cost_micro_usd: null`,
 *   counted as "unpriced" in reports, never as 0;
 * - priced model, usage counts missing (request refused or failed before any usage) → missing
 *   counts are 0 tokens, so the cost is whatever the present counts give (often 0);
 * - a count that is not a non-negative integer → null (unpriced), never a made-up number.
 * `pricing_version` is always the catalog version, so `prices check` can tell which catalog
 * found no price. Never throws: the data path must not fail because of pricing.
 */
export function createPricer(catalog: PriceCatalog): Pricer {
  return {
    price(event: AuditEvent, billing?: { cache_write_tokens: number | null }): void {
      event.pricing_version = catalog.version;
      event.cost_micro_usd = null;
      try {
        const row = priceRowForEvent(catalog, event);
        const usage = usageOfEvent(event, billing?.cache_write_tokens ?? event.cache_write_tokens ?? 0);
        if (row && usage) event.cost_micro_usd = costMicroUsd(row, usage);
      } catch {
        event.cost_micro_usd = null;
      }
    },
  };
}
