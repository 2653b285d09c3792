import { describe, expect, it } from 'vitest';
import { estimateUsage, TOKENIZE_CHAR_LIMIT } from './token-estimate.js';

describe('estimateUsage', () => {
  it('counts prompt and output with a real tokenizer', () => {
    expect(estimateUsage({ model: 'gpt-4.1', promptText: 'Hello, world!', outputText: 'Hi there.' })).toEqual(
      {
        input_tokens: 4,
        output_tokens: 3,
      },
    );
  });

  it('grows with the text, not with the character count alone', () => {
    const words = estimateUsage({
      model: null,
      promptText: 'the cat sat on the mat '.repeat(100),
      outputText: null,
    });
    expect(words.input_tokens).toBeGreaterThan(500);
    expect(words.input_tokens).toBeLessThan(800);
  });

  it('is zero for missing text', () => {
    expect(estimateUsage({ model: 'x', promptText: null, outputText: '' })).toEqual({
      input_tokens: 0,
      output_tokens: 0,
    });
  });

  it('falls back to chars/4 above the tokenizing limit', () => {
    const big = 'a'.repeat(TOKENIZE_CHAR_LIMIT + 4);
    expect(estimateUsage({ model: 'x', promptText: big, outputText: null }).input_tokens).toBe(
      TOKENIZE_CHAR_LIMIT / 4 + 1,
    );
  });
});
