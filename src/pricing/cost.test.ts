import { describe, expect, it } from 'vitest';
import {
  createCatalog,
  defaultCatalogPath,
  loadCatalogFile,
  parseCatalog,
  type PriceRow,
} from './catalog.js';
import { costBreakdown, costMicroUsd, type TokenUsage } from './cost.js';
import {
  usageFromAnthropic,
  usageFromDeepSeek,
  usageFromGemini,
  usageFromOpenAIChat,
} from './provider-usage.js';

const catalog = createCatalog(loadCatalogFile(defaultCatalogPath()));
const JAN_2026 = Date.UTC(2026, 0, 10);

function rowOf(model: string, atMs = JAN_2026): PriceRow {
  const row = catalog.resolve(model, atMs);
  if (!row) throw new Error(`no row for ${model}`);
  return row;
}

function usage(u: Partial<TokenUsage>): TokenUsage {
  return {
    input_tokens: 0,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    ...u,
  };
}

// Expected values are worked by hand: tokens × USD-per-million, in micro-USD, rounded half up once.
describe('cost of the seed models, to the micro-dollar', () => {
  it.each<[string, Partial<TokenUsage>, number]>([
    // 1M in at $2 + 1M out at $8 = $10
    ['gpt-4.1', { input_tokens: 1_000_000, output_tokens: 1_000_000 }, 10_000_000],
    // 1234 × 2 + 567 × 8 = 2468 + 4536
    ['gpt-4.1', { input_tokens: 1234, output_tokens: 567 }, 7004],
    ['gpt-4.1-2025-04-14', { input_tokens: 1234, output_tokens: 567 }, 7004],
    // 1000 × 3 + 500 × 15 = 3000 + 7500
    ['claude-sonnet-4.5', { input_tokens: 1000, output_tokens: 500 }, 10_500],
    ['claude-sonnet-4-5-20250929', { input_tokens: 1_000_000, output_tokens: 1_000_000 }, 18_000_000],
    // 10 × 0.30 + 3 × 2.50 = 3 + 7.5 = 10.5 → 11 (half up)
    ['gemini-2.5-flash', { input_tokens: 10, output_tokens: 3 }, 11],
    ['gemini-2.5-flash', { input_tokens: 1_000_000, output_tokens: 1_000_000 }, 2_800_000],
    // 7 × 0.10 + 1 × 0.42 = 1.12 → 1
    ['deepseek-v3.2', { input_tokens: 7, output_tokens: 1 }, 1],
    ['deepseek-v3.2', { input_tokens: 1_000_000, output_tokens: 1_000_000 }, 520_000],
    // 1 × 0.10 + 1 × 0.42 = 0.52 → 1; 1 × 0.10 = 0.1 → 0
    ['deepseek-v3.2', { input_tokens: 1, output_tokens: 1 }, 1],
    ['deepseek-v3.2', { input_tokens: 1 }, 0],
    ['gpt-4.1', {}, 0],
  ])('%s %o → %i micro-USD', (model, u, expected) => {
    expect(costMicroUsd(rowOf(model), usage(u))).toBe(expected);
  });
});

describe('cached input', () => {
  it('is billed at the cached rate and not also at the full rate (OpenAI: prompt_tokens includes cached)', () => {
    const u = usageFromOpenAIChat({
      prompt_tokens: 10_000,
      completion_tokens: 100,
      prompt_tokens_details: { cached_tokens: 8000 },
    });
    expect(u).toMatchObject({ input_tokens: 10_000, cached_input_tokens: 8000, output_tokens: 100 });
    // 2000 × 2 + 8000 × 0.50 + 100 × 8 = 4000 + 4000 + 800 (not 10000 × 2 + 4000 + 800 = 24800)
    expect(
      costMicroUsd(
        rowOf('gpt-4.1'),
        usage({ input_tokens: 10_000, cached_input_tokens: 8000, output_tokens: 100 }),
      ),
    ).toBe(8800);
  });

  it('Anthropic: cache reads are outside input_tokens there; normalised, then billed once', () => {
    const u = usageFromAnthropic({
      input_tokens: 100,
      cache_read_input_tokens: 5000,
      cache_creation_input_tokens: 0,
      output_tokens: 200,
    });
    expect(u.input_tokens).toBe(5100);
    // 100 × 3 + 5000 × 0.30 + 200 × 15 = 300 + 1500 + 3000
    expect(
      costMicroUsd(
        rowOf('claude-sonnet-4.5'),
        usage({ input_tokens: 5100, cached_input_tokens: 5000, output_tokens: 200 }),
      ),
    ).toBe(4800);
  });

  it('Anthropic cache writes are billed at the write rate', () => {
    // 1000 × 3 + 1000 × 3.75 = 3000 + 3750
    expect(
      costMicroUsd(rowOf('claude-sonnet-4.5'), usage({ input_tokens: 2000, cache_write_tokens: 1000 })),
    ).toBe(6750);
  });

  it('DeepSeek cache hits are billed at the hit rate', () => {
    const u = usageFromDeepSeek({
      prompt_tokens: 10_000,
      completion_tokens: 1000,
      prompt_cache_hit_tokens: 9000,
      prompt_cache_miss_tokens: 1000,
    });
    expect(u).toMatchObject({ input_tokens: 10_000, cached_input_tokens: 9000 });
    // deepseek-chat (V3.2 rates): 1000 × 0.28 + 9000 × 0.028 + 1000 × 0.42 = 280 + 252 + 420
    expect(
      costMicroUsd(
        rowOf('deepseek-chat'),
        usage({ input_tokens: 10_000, cached_input_tokens: 9000, output_tokens: 1000 }),
      ),
    ).toBe(952);
  });

  it('a row without a cached rate charges cached tokens at the input rate, once', () => {
    // gemini-2.5-flash has no verified cache rate: 1000 × 0.30 = 300, not 300 + 600 × something
    expect(
      costMicroUsd(rowOf('gemini-2.5-flash'), usage({ input_tokens: 1000, cached_input_tokens: 600 })),
    ).toBe(300);
  });

  it('cached counts larger than the total are clamped, never negative', () => {
    expect(costMicroUsd(rowOf('gpt-4.1'), usage({ input_tokens: 100, cached_input_tokens: 500 }))).toBe(50);
  });
});

describe('reasoning tokens', () => {
  it('OpenAI: reasoning is inside output_tokens and is not counted twice', () => {
    // o3 after the June 2025 cut: 100 × 2 + 1000 × 8 = 200 + 8000
    expect(
      costMicroUsd(rowOf('o3'), usage({ input_tokens: 100, output_tokens: 1000, reasoning_tokens: 800 })),
    ).toBe(8200);
  });

  it('Gemini: thoughts are outside candidates there; normalised into output once', () => {
    const u = usageFromGemini({
      promptTokenCount: 100,
      candidatesTokenCount: 50,
      thoughtsTokenCount: 950,
      totalTokenCount: 1100,
    });
    expect(u).toMatchObject({ input_tokens: 100, output_tokens: 1000, reasoning_tokens: 950 });
    // 100 × 0.30 + 1000 × 2.50 = 30 + 2500
    expect(
      costMicroUsd(
        rowOf('gemini-2.5-flash'),
        usage({ input_tokens: 100, output_tokens: 1000, reasoning_tokens: 950 }),
      ),
    ).toBe(2530);
  });

  it('is priced separately only where a row says so', () => {
    const data = parseCatalog(
      {
        version: 't',
        models: [
          {
            provider: 'x',
            model: 'thinker',
            input: 1,
            output: 2,
            reasoning: 5,
            effective_from: '2025-01-01',
            source: 'test',
          },
        ],
      },
      'test',
    );
    const row = createCatalog(data).resolve('thinker', JAN_2026)!;
    // 200 plain output × 2 + 800 reasoning × 5 = 400 + 4000 (input 0)
    const b = costBreakdown(row, usage({ output_tokens: 1000, reasoning_tokens: 800 }));
    expect(b.cost_micro_usd).toBe(4400);
    expect(b.reasoning_tokens_priced_separately).toBe(800);
  });
});

describe('dates and tiers', () => {
  it('prices an event by the row in effect at its timestamp', () => {
    const u = usage({ input_tokens: 100, output_tokens: 1000 });
    // before the cut: 100 × 10 + 1000 × 40
    expect(costMicroUsd(rowOf('o3', Date.UTC(2025, 4, 1)), u)).toBe(41_000);
    expect(costMicroUsd(rowOf('o3', Date.UTC(2025, 6, 1)), u)).toBe(8200);
  });

  it('applies the long-context tier above its threshold only', () => {
    // 200k: 200000 × 1.25 + 1000 × 10 = 250000 + 10000
    expect(costMicroUsd(rowOf('gemini-2.5-pro'), usage({ input_tokens: 200_000, output_tokens: 1000 }))).toBe(
      260_000,
    );
    // 300k: 300000 × 2.50 + 1000 × 15 = 750000 + 15000
    const b = costBreakdown(rowOf('gemini-2.5-pro'), usage({ input_tokens: 300_000, output_tokens: 1000 }));
    expect(b).toMatchObject({ cost_micro_usd: 765_000, long_context: true });
  });
});

describe('inputs', () => {
  it('refuses negative or fractional counts', () => {
    expect(() => costMicroUsd(rowOf('gpt-4.1'), usage({ input_tokens: -1 }))).toThrow(RangeError);
    expect(() => costMicroUsd(rowOf('gpt-4.1'), usage({ output_tokens: 1.5 }))).toThrow(RangeError);
  });

  it('stays exact for very large counts', () => {
    // 4e9 tokens × $75/M = $300,000 = 3e11 micro-USD
    expect(costMicroUsd(rowOf('claude-opus-4.1'), usage({ output_tokens: 4_000_000_000 }))).toBe(
      300_000_000_000,
    );
  });
});

// Issue 18: every unit OpenAI's audio and image APIs bill, worked by hand to the micro-dollar.
describe('cost of audio and image models, per billed unit', () => {
  it('Whisper: seconds of audio at $0.006 per minute ($0.0001 a second)', () => {
    // 9 s × 100 micro-USD = 900; an hour = 3600 × 100 = $0.36
    expect(costMicroUsd(rowOf('whisper-1'), usage({}), { unit: 'audio_second', quantity: 9 })).toBe(900);
    expect(costMicroUsd(rowOf('whisper-1'), usage({}), { unit: 'audio_second', quantity: 3600 })).toBe(
      360_000,
    );
  });

  it('TTS: characters at $15 (tts-1) and $30 (tts-1-hd) per million', () => {
    // 1000 chars × 15 micro-USD = 15,000; 33 × 30 = 990; 1 × 15 = 15
    expect(costMicroUsd(rowOf('tts-1'), usage({}), { unit: 'character', quantity: 1000 })).toBe(15_000);
    expect(costMicroUsd(rowOf('tts-1-hd'), usage({}), { unit: 'character', quantity: 33 })).toBe(990);
    expect(costMicroUsd(rowOf('tts-1'), usage({}), { unit: 'character', quantity: 1 })).toBe(15);
  });

  it('DALL·E: images by size and quality', () => {
    const d3 = rowOf('dall-e-3');
    expect(costMicroUsd(d3, usage({}), { unit: 'image_1024x1024_standard', quantity: 1 })).toBe(40_000);
    expect(costMicroUsd(d3, usage({}), { unit: 'image_1792x1024_standard', quantity: 1 })).toBe(80_000);
    expect(costMicroUsd(d3, usage({}), { unit: 'image_1024x1024_hd', quantity: 1 })).toBe(80_000);
    expect(costMicroUsd(d3, usage({}), { unit: 'image_1024x1792_hd', quantity: 2 })).toBe(240_000);
    const d2 = rowOf('dall-e-2');
    expect(costMicroUsd(d2, usage({}), { unit: 'image_256x256_standard', quantity: 3 })).toBe(48_000);
    expect(costMicroUsd(d2, usage({}), { unit: 'image_512x512_standard', quantity: 1 })).toBe(18_000);
    expect(() => costMicroUsd(d2, usage({}), { unit: 'image_1024x1024_hd', quantity: 1 })).toThrow(
      RangeError,
    );
  });

  it('GPT-4o transcribe: audio input tokens at their own rate, text input and output at theirs', () => {
    // 1000 audio × 6 + 20 text × 2.5 + 150 out × 10 = 6000 + 50 + 1500 = 7550
    const u = usage({ input_tokens: 1020, audio_input_tokens: 1000, output_tokens: 150 });
    expect(costMicroUsd(rowOf('gpt-4o-transcribe'), u)).toBe(7550);
    // mini: 1000 × 3 + 20 × 1.25 + 150 × 5 = 3000 + 25 + 750 = 3775
    expect(costMicroUsd(rowOf('gpt-4o-mini-transcribe'), u)).toBe(3775);
    const b = costBreakdown(rowOf('gpt-4o-transcribe'), u);
    expect(b).toMatchObject({ audio_input_tokens: 1000, uncached_input_tokens: 20 });
  });

  it('Gemini 2.5 Flash: audio input at $1.00, text at $0.30 per million', () => {
    // 1000 audio × 1.00 + 40 text × 0.30 + 20 out × 2.50 = 1000 + 12 + 50
    const u = usage({ input_tokens: 1040, audio_input_tokens: 1000, output_tokens: 20 });
    expect(costMicroUsd(rowOf('gemini-2.5-flash'), u)).toBe(1062);
  });

  it('Gemini 2.5 Flash: cached audio at the cached rate, not the audio rate', async () => {
    const { usageFromGemini } = await import('./provider-usage.js');
    // 500 text + 1000 audio tokens, the audio from the context cache; 20 out. The row has no
    // cached rate (null: cached tokens at input, 0.30): 1000 × 0.30 + 500 × 0.30 + 20 × 2.50 =
    // 300 + 150 + 50. Before the fix the cached audio was also counted as audio and the clamp put
    // 500 tokens at the audio rate: 300 + 500 + 50 = 850.
    const e = usageFromGemini({
      promptTokenCount: 1500,
      cachedContentTokenCount: 1000,
      candidatesTokenCount: 20,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: 500 },
        { modality: 'AUDIO', tokenCount: 1000 },
      ],
      cacheTokensDetails: [{ modality: 'AUDIO', tokenCount: 1000 }],
    });
    const u = usage({
      input_tokens: e.input_tokens!,
      cached_input_tokens: e.cached_input_tokens!,
      output_tokens: e.output_tokens!,
      audio_input_tokens: e.audio_input_tokens!,
    });
    expect(costBreakdown(rowOf('gemini-2.5-flash'), u)).toMatchObject({
      cost_micro_usd: 500,
      cached_input_tokens: 1000,
      audio_input_tokens: 0,
      uncached_input_tokens: 500,
    });
  });

  it('Gemini Flash-Lite: 2.5 bills audio at $0.30, 2.0 bills audio at its single input rate', () => {
    // 1000 audio × 0.30 + 40 text × 0.10 + 20 out × 0.40 = 300 + 4 + 8
    const u = usage({ input_tokens: 1040, audio_input_tokens: 1000, output_tokens: 20 });
    expect(costMicroUsd(rowOf('gemini-2.5-flash-lite'), u)).toBe(312);
    // 1040 in × 0.075 + 20 out × 0.30 = 78 + 6
    expect(costMicroUsd(rowOf('gemini-2.0-flash-lite'), u)).toBe(84);
  });

  it('GPT Image 1 Mini: text 2.00, cached text 0.20, image input 2.50, image output 8.00', () => {
    // 50 text × 2 + 100 cached × 0.20 + 1000 image × 2.50 + 4160 out × 8 = 100 + 20 + 2500 + 33,280
    const u = usage({
      input_tokens: 1150,
      cached_input_tokens: 100,
      image_input_tokens: 1000,
      output_tokens: 4160,
    });
    expect(costMicroUsd(rowOf('gpt-image-1-mini'), u)).toBe(35_900);
  });

  it('GPT-4o mini TTS: text input tokens and audio output tokens', () => {
    // 25 × 0.60 + 1200 × 12 = 15 + 14,400
    expect(costMicroUsd(rowOf('gpt-4o-mini-tts'), usage({ input_tokens: 25, output_tokens: 1200 }))).toBe(
      14_415,
    );
  });

  it('GPT Image: text and image input tokens apart, image output tokens', () => {
    // generation: 50 text × 5 + 4160 image out × 40 = 250 + 166,400 (a high-quality 1024x1024)
    expect(costMicroUsd(rowOf('gpt-image-1'), usage({ input_tokens: 50, output_tokens: 4160 }))).toBe(
      166_650,
    );
    // edit: 40 text × 5 + 323 image in × 10 + 1056 out × 40 = 200 + 3230 + 42,240
    const edit = usage({ input_tokens: 363, image_input_tokens: 323, output_tokens: 1056 });
    expect(costMicroUsd(rowOf('gpt-image-1'), edit)).toBe(45_670);
  });

  it('a row with no token rates refuses tokens; a token row refuses units it does not price', () => {
    expect(() => costMicroUsd(rowOf('whisper-1'), usage({ input_tokens: 1 }))).toThrow(RangeError);
    expect(() => costMicroUsd(rowOf('gpt-4.1'), usage({}), { unit: 'character', quantity: 1 })).toThrow(
      RangeError,
    );
  });

  it('Gemini long context: above the threshold the whole request is billed at the tier', () => {
    // 2.5 Pro at 200,000 prompt tokens: 200,000 × 1.25 + 1000 × 10 = 250,000 + 10,000
    expect(costMicroUsd(rowOf('gemini-2.5-pro'), usage({ input_tokens: 200_000, output_tokens: 1000 }))).toBe(
      260_000,
    );
    // at 200,001: 200,001 × 2.50 + 1000 × 15 = 500,002.5 + 15,000 → 515,003 (half up)
    expect(costMicroUsd(rowOf('gemini-2.5-pro'), usage({ input_tokens: 200_001, output_tokens: 1000 }))).toBe(
      515_003,
    );
    // 1.5 Pro's tier starts above 128k: 128,001 × 2.50 + 100 × 10 = 320,002.5 + 1000 → 321,003
    expect(
      costMicroUsd(rowOf('gemini-1.5-pro-002'), usage({ input_tokens: 128_001, output_tokens: 100 })),
    ).toBe(321_003);
  });
});
