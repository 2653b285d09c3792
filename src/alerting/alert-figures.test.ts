import { describe, expect, it } from 'vitest';
import { figuresText, formatFigure } from './alert-figures.js';

describe('alert figures in their unit', () => {
  it('a ratio is a percentage, money is dollars, counts keep their unit', () => {
    expect(formatFigure(0.3684210526315789, 'ratio')).toBe('36.8 %');
    expect(formatFigure(12_500_000, 'micro_usd')).toBe('$12.50');
    expect(formatFigure(420_000, 'micro_usd_per_hour')).toBe('$0.42/h');
    expect(formatFigure(1234, 'input_tokens')).toBe('1,234 input tokens');
    expect(formatFigure(2.3456, 'requests')).toBe('2.35 requests');
  });

  it('the figures line', () => {
    expect(
      figuresText({ observed: 0.5, baseline: null, threshold: 0.2, window_ms: 300_000, unit: 'ratio' }),
    ).toBe('observed 50.0 %, baseline —, threshold 20.0 %, window 300 s');
  });
});
