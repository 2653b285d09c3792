import { describe, expect, it } from 'vitest';
import { loadPriceCatalog } from '../pricing/catalog.js';
import { costMicroUsd } from '../pricing/cost.js';
import { countTokensAtMost } from '../pricing/token-estimate.js';
import { UNBOUNDED_OUTPUT_RESERVE, worstCaseOf } from './worst-case-cost.js';

const catalog = loadPriceCatalog();
const AT = Date.parse('2026-11-27T00:00:00Z');
const gpt41 = catalog.resolve('gpt-4.1', AT)!;

describe('worstCaseOf', () => {
  it('counts the whole body with the tokenizer and prices max_tokens at the output rate', () => {
    const body = { model: 'gpt-4.1', max_tokens: 100, messages: [{ role: 'user', content: 'hello there' }] };
    const w = worstCaseOf(catalog, 'gpt-4.1', body, AT);
    expect(w.inputTokens).toBe(countTokensAtMost(JSON.stringify(body)));
    expect(w.outputTokens).toBe(100);
    expect(w.costMicroUsd).toBe(
      costMicroUsd(gpt41, {
        input_tokens: w.inputTokens,
        cached_input_tokens: 0,
        cache_write_tokens: 0,
        output_tokens: 100,
        reasoning_tokens: 0,
      }),
    );
  });

  it('without a cap reserves the model output limit from the catalog; a cap above it is bounded by it', () => {
    expect(gpt41.max_output_tokens).toBe(32_768);
    const none = worstCaseOf(catalog, 'gpt-4.1', { model: 'gpt-4.1', messages: [] }, AT);
    expect(none.outputTokens).toBe(32_768);
    const huge = worstCaseOf(catalog, 'gpt-4.1', { model: 'gpt-4.1', max_completion_tokens: 10 ** 9 }, AT);
    expect(huge.outputTokens).toBe(32_768);
    const responses = worstCaseOf(
      catalog,
      'gpt-4.1',
      { model: 'gpt-4.1', max_output_tokens: 7, input: 'x' },
      AT,
    );
    expect(responses.outputTokens).toBe(7);
  });

  it('multiplies the cap by the choices asked for (n, candidateCount)', () => {
    expect(worstCaseOf(catalog, 'gpt-4.1', { model: 'gpt-4.1', max_tokens: 10, n: 3 }, AT).outputTokens).toBe(
      30,
    );
    expect(
      worstCaseOf(
        catalog,
        'gemini-2.5-flash',
        { generationConfig: { maxOutputTokens: 5, candidateCount: 2 } },
        AT,
      ).outputTokens,
    ).toBe(10);
  });

  it('an unpriced model has no cost and an unknown limit reserves the documented default', () => {
    const w = worstCaseOf(catalog, 'no-such-model', { model: 'no-such-model' }, AT);
    expect(w.costMicroUsd).toBeNull();
    expect(w.outputTokens).toBe(UNBOUNDED_OUTPUT_RESERVE);
  });

  it('prices input at the cache-write rate where that is dearer (Anthropic)', () => {
    const row = catalog.resolve('claude-sonnet-4.5', AT)!;
    expect(row.cache_write).toBeGreaterThan(row.input!);
    const body = {
      model: 'claude-sonnet-4.5',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'a b c' }],
    };
    const w = worstCaseOf(catalog, 'claude-sonnet-4.5', body, AT);
    expect(w.costMicroUsd).toBe(
      costMicroUsd(row, {
        input_tokens: w.inputTokens,
        cached_input_tokens: 0,
        cache_write_tokens: w.inputTokens,
        output_tokens: 1,
        reasoning_tokens: 0,
      }),
    );
  });
});

describe('worstCaseOf: models billed by units (issue 18)', () => {
  it('TTS-1 reserves the input’s characters; DALL·E n images of the asked size and quality', () => {
    const tts = worstCaseOf(catalog, 'tts-1', { model: 'tts-1', input: 'héllo wörld', voice: 'alloy' }, AT);
    expect(tts.costMicroUsd).toBe(11 * 15);
    const hd = { model: 'dall-e-3', prompt: 'a fox', size: '1024x1792', quality: 'hd' };
    expect(worstCaseOf(catalog, 'dall-e-3', hd, AT).costMicroUsd).toBe(120_000);
    // A size the row does not price reserves the dearest image it does.
    const odd = { model: 'dall-e-2', prompt: 'a fox', n: 2, size: '2048x2048' };
    expect(worstCaseOf(catalog, 'dall-e-2', odd, AT).costMicroUsd).toBe(2 * 20_000);
  });

  it('Whisper’s duration is unknown before the answer: no worst case', () => {
    expect(worstCaseOf(catalog, 'whisper-1', { model: 'whisper-1' }, AT).costMicroUsd).toBeNull();
  });
});
