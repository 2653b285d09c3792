import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit-event.js';
import { testEvent } from '../../test/support/test-event.js';
import { createCatalog, defaultCatalogPath, loadCatalogFile } from './catalog.js';
import { openAIAudio } from '../providers/openai/audio.js';
import { imageUnit } from '../providers/openai/images.js';
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

describe('createPricer: billed units and why a cost is null (issue 18)', () => {
  const answered = (init: Partial<AuditEvent>): AuditEvent =>
    event({ http_status_code: 200, status: 'SUCCESS', ...init });

  it('prices a Whisper transcription by its seconds and a TTS-1 request by its characters', () => {
    const whisper = answered({
      model_requested: 'whisper-1',
      billing_unit: 'audio_second',
      billing_quantity: 125,
    });
    pricer.price(whisper);
    expect(whisper).toMatchObject({ cost_micro_usd: 12_500, unpriced_reason: null });
    const tts = answered({ model_requested: 'tts-1-hd', billing_unit: 'character', billing_quantity: 400 });
    pricer.price(tts);
    expect(tts.cost_micro_usd).toBe(12_000);
  });

  it('a Whisper clip of any non-zero length costs at least one second (100 micro-USD), never $0', () => {
    const cost = (seconds: number, usage: boolean): number | null => {
      const body = usage
        ? { text: 'hi', usage: { type: 'duration', seconds } }
        : { text: 'hi', duration: seconds };
      const billing = openAIAudio.readResponse(body, null).billing!;
      const e = answered({
        model_requested: 'whisper-1',
        billing_unit: billing.unit,
        billing_quantity: billing.quantity,
      });
      pricer.price(e);
      return e.cost_micro_usd;
    };
    // $0.006 per 60 s = 100 micro-USD a second; nearest second, half up, at least 1.
    for (const usage of [true, false]) {
      expect(cost(0.2, usage)).toBe(100);
      expect(cost(0.49, usage)).toBe(100);
      expect(cost(0.5, usage)).toBe(100);
      expect(cost(1.49, usage)).toBe(100);
      expect(cost(1.5, usage)).toBe(200);
      expect(cost(9.4, usage)).toBe(900);
      expect(cost(0, usage)).toBe(0);
    }
  });

  it('DALL·E quality "auto" stays unpriced (null), and the reason says why', () => {
    const unit = imageUnit({ model: 'dall-e-3', quality: 'auto' });
    expect(unit).toBe('image_1024x1024_auto');
    const e = answered({ model_requested: 'dall-e-3', billing_unit: unit, billing_quantity: 1 });
    pricer.price(e);
    expect(e).toMatchObject({
      cost_micro_usd: null,
      unpriced_reason:
        'dall-e-3 has no price for image_1024x1024_auto (quality "auto": the API does not say which quality it bills; send "standard" or "hd")',
    });
    const standard = answered({
      model_requested: 'dall-e-3',
      billing_unit: imageUnit({ model: 'dall-e-3' }),
      billing_quantity: 1,
    });
    pricer.price(standard);
    expect(standard.cost_micro_usd).toBe(40_000);
  });

  it('prices DALL·E images by size and quality; an unpriced size is null with the reason', () => {
    const hd = answered({
      model_requested: 'dall-e-3',
      billing_unit: 'image_1792x1024_hd',
      billing_quantity: 1,
    });
    pricer.price(hd);
    expect(hd.cost_micro_usd).toBe(120_000);
    const odd = answered({
      model_requested: 'dall-e-3',
      billing_unit: 'image_256x256_standard',
      billing_quantity: 1,
    });
    pricer.price(odd);
    expect(odd).toMatchObject({
      cost_micro_usd: null,
      unpriced_reason: 'dall-e-3 has no price for image_256x256_standard',
    });
  });

  it('an answered request whose unit count is unknown is null, never 0; a refused one costs 0', () => {
    const noDuration = answered({ model_requested: 'whisper-1' });
    pricer.price(noDuration);
    expect(noDuration.cost_micro_usd).toBeNull();
    expect(noDuration.unpriced_reason).toBe(
      'whisper-1 is billed per audio_second and the answer did not say how many',
    );
    const refused = event({ model_requested: 'dall-e-3', http_status_code: 401, status: 'AUTH_FAILED' });
    pricer.price(refused);
    expect(refused).toMatchObject({ cost_micro_usd: 0, unpriced_reason: null });
  });

  it('a token-billed model answered without usage is null (mini TTS speech as audio bytes)', () => {
    const e = answered({
      model_requested: 'gpt-4o-mini-tts',
      billing_unit: 'character',
      billing_quantity: 40,
    });
    pricer.price(e);
    expect(e.cost_micro_usd).toBeNull();
    expect(e.unpriced_reason).toBe('the answer reported no usage (gpt-4o-mini-tts is billed per token)');
    const streamed = answered({ ...e, input_tokens: 25, output_tokens: 1200, usage_source: 'reported' });
    pricer.price(streamed);
    expect(streamed).toMatchObject({ cost_micro_usd: 14_415, unpriced_reason: null });
  });

  it('prices audio input tokens at the audio rate', () => {
    const e = answered({
      model_requested: 'gpt-4o-transcribe',
      input_tokens: 1020,
      audio_input_tokens: 1000,
      output_tokens: 150,
      usage_source: 'reported',
    });
    pricer.price(e);
    expect(e.cost_micro_usd).toBe(7550);
  });

  it('says which model has no price', () => {
    const e = answered({ model_requested: 'no-such-model', input_tokens: 1, output_tokens: 1 });
    pricer.price(e);
    expect(e.unpriced_reason).toBe(`no price for no-such-model at 2026-01-10 in catalog ${catalog.version}`);
  });
});
