import { describe, expect, it } from 'vitest';
import {
  usageFromAnthropic,
  usageFromDeepSeek,
  usageFromGemini,
  usageFromOpenAIChat,
  usageFromOpenAIResponses,
} from './provider-usage.js';

describe('provider usage conventions → event convention', () => {
  it('OpenAI chat keeps cached inside prompt_tokens and reasoning inside completion_tokens', () => {
    expect(
      usageFromOpenAIChat({
        prompt_tokens: 1200,
        completion_tokens: 300,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 256 },
      }),
    ).toEqual({
      input_tokens: 1200,
      output_tokens: 300,
      cached_input_tokens: 1024,
      reasoning_tokens: 256,
      total_tokens: 1500,
      cache_write_tokens: null,
    });
  });

  it('OpenAI Responses', () => {
    expect(
      usageFromOpenAIResponses({
        input_tokens: 50,
        output_tokens: 20,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 10 },
      }),
    ).toMatchObject({
      input_tokens: 50,
      output_tokens: 20,
      cached_input_tokens: 0,
      reasoning_tokens: 10,
      total_tokens: 70,
    });
  });

  it('Anthropic adds cache reads and writes to the input total', () => {
    expect(
      usageFromAnthropic({
        input_tokens: 10,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 500,
        output_tokens: 40,
      }),
    ).toEqual({
      input_tokens: 1510,
      output_tokens: 40,
      cached_input_tokens: 1000,
      reasoning_tokens: null,
      total_tokens: 1550,
      cache_write_tokens: 500,
    });
  });

  it('DeepSeek uses the hit/miss split', () => {
    expect(
      usageFromDeepSeek({ prompt_cache_hit_tokens: 70, prompt_cache_miss_tokens: 30, completion_tokens: 5 }),
    ).toMatchObject({
      input_tokens: 100,
      cached_input_tokens: 70,
      output_tokens: 5,
    });
  });

  it('Gemini adds thoughts to output', () => {
    expect(
      usageFromGemini({
        promptTokenCount: 10,
        candidatesTokenCount: 5,
        thoughtsTokenCount: 7,
        cachedContentTokenCount: 4,
      }),
    ).toMatchObject({
      input_tokens: 10,
      output_tokens: 12,
      reasoning_tokens: 7,
      cached_input_tokens: 4,
      total_tokens: 22,
    });
  });

  it('Gemini: the prompt’s audio tokens from promptTokensDetails, none for a text prompt', () => {
    const withAudio = usageFromGemini({
      promptTokenCount: 1040,
      candidatesTokenCount: 20,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: 40 },
        { modality: 'AUDIO', tokenCount: 1000 },
      ],
    });
    expect(withAudio).toMatchObject({ input_tokens: 1040, audio_input_tokens: 1000 });
    const textOnly = usageFromGemini({
      promptTokenCount: 9,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 9 }],
    });
    expect('audio_input_tokens' in textOnly).toBe(false);
  });

  it('Gemini: cached audio (cacheTokensDetails AUDIO) is not counted as audio input again', () => {
    // 500 text + 1000 audio, the audio served from the context cache.
    const u = usageFromGemini({
      promptTokenCount: 1500,
      cachedContentTokenCount: 1000,
      candidatesTokenCount: 20,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: 500 },
        { modality: 'AUDIO', tokenCount: 1000 },
      ],
      cacheTokensDetails: [{ modality: 'AUDIO', tokenCount: 1000 }],
    });
    expect(u).toMatchObject({ input_tokens: 1500, cached_input_tokens: 1000, audio_input_tokens: 0 });
    // Part of the audio cached: the rest is audio input.
    const part = usageFromGemini({
      promptTokenCount: 1000,
      cachedContentTokenCount: 600,
      promptTokensDetails: [{ modality: 'AUDIO', tokenCount: 1000 }],
      cacheTokensDetails: [{ modality: 'AUDIO', tokenCount: 600 }],
    });
    expect(part).toMatchObject({ cached_input_tokens: 600, audio_input_tokens: 400 });
  });

  it('ignores garbage instead of inventing counts', () => {
    expect(usageFromOpenAIChat({ prompt_tokens: 'many', completion_tokens: -3 })).toMatchObject({
      input_tokens: null,
      output_tokens: null,
      total_tokens: null,
    });
    expect(usageFromOpenAIChat(null)).toMatchObject({ input_tokens: null });
  });
});
