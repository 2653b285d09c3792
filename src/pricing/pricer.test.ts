import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit-event.js';
import { testEvent } from '../../test/support/test-event.js';
import { createCatalog, defaultCatalogPath, loadCatalogFile } from './catalog.js';
import { createPricer } from './pricer.js';
import { estimateUsage } from './token-estimate.js';

const catalog = createCatalog(loadCatalogFile(defaultCatalogPath()));
const pricer = createPricer(catalog);

/** The pricing date of these tests (prices have effective dates). */
const event = (init: Partial<AuditEvent>): AuditEvent =>
  testEvent({ timestamp: '2026-01-10T12:00:00.000Z', ...init });

describe('createPricer', () => {
  it('fills cost and pricing_version from model_used (a dated snapshot)', () => {
    const e = event({
      model_requested: 'gpt-4.1',
      model_used: 'gpt-4.1-2025-04-14',
      input_tokens: 1234,
      output_tokens: 567,
      usage_source: 'reported',
    });
    pricer.price(e);
    expect(e.cost_micro_usd).toBe(7004);
    expect(e.pricing_version).toBe(catalog.version);
  });

  it('falls back to model_requested when model_used has no price', () => {
    const e = event({
      model_requested: 'claude-sonnet-4.5',
      model_used: 'relay-internal-name',
      input_tokens: 1000,
      output_tokens: 500,
    });
    pricer.price(e);
    expect(e.cost_micro_usd).toBe(10_500);
  });

  it('gives null, never 0, for a model without a price', () => {
    const e = event({ model_requested: 'my-finetune', input_tokens: 1000, output_tokens: 500 });
    pricer.price(e);
    expect(e.cost_micro_usd).toBeNull();
    expect(e.pricing_version).toBe(catalog.version);
  });

  it('gives null when no model is known at all', () => {
    const e = event({ input_tokens: 10 });
    pricer.price(e);
    expect(e.cost_micro_usd).toBeNull();
  });

  it('prices a priced model with no usage (refused before upstream) at 0', () => {
    const e = event({ model_requested: 'gpt-4.1', status: 'BLOCKED' });
    pricer.price(e);
    expect(e.cost_micro_usd).toBe(0);
  });

  it('gives null for invalid counts rather than a made-up number', () => {
    const e = event({ model_requested: 'gpt-4.1', input_tokens: -5 });
    pricer.price(e);
    expect(e.cost_micro_usd).toBeNull();
  });

  it('uses the cached and reasoning counts of the event', () => {
    const e = event({
      model_used: 'gpt-4.1',
      input_tokens: 10_000,
      cached_input_tokens: 8000,
      output_tokens: 100,
      reasoning_tokens: 0,
    });
    pricer.price(e);
    expect(e.cost_micro_usd).toBe(8800);
  });

  it('prices estimated usage of an interrupted stream like reported usage', () => {
    const est = estimateUsage({ model: 'gpt-4.1', promptText: 'Hello, world!', outputText: 'Hi there.' });
    expect(est).toEqual({ input_tokens: 4, output_tokens: 3 });
    const e = event({ model_used: 'gpt-4.1', status: 'CANCELLED', usage_source: 'estimated', ...est });
    pricer.price(e);
    // 4 × 2 + 3 × 8 = 8 + 24
    expect(e.cost_micro_usd).toBe(32);
  });

  it('prices by the event timestamp, not by today', () => {
    const e = event({
      timestamp: '2025-05-01T00:00:00.000Z',
      model_used: 'o3',
      input_tokens: 100,
      output_tokens: 1000,
    });
    pricer.price(e);
    expect(e.cost_micro_usd).toBe(41_000);
  });
});
