import { describe, expect, it } from 'vitest';
import { parseTimeBound } from './duration.js';

describe('parseTimeBound', () => {
  const now = Date.UTC(2026, 10, 26);
  it('reads durations back from now', () => {
    expect(parseTimeBound('1h', now)).toBe(now - 3_600_000);
    expect(parseTimeBound('30d', now)).toBe(now - 30 * 86_400_000);
    expect(parseTimeBound('90s', now)).toBe(now - 90_000);
  });
  it('reads ISO dates', () =>
    expect(parseTimeBound('2026-11-01T00:00:00Z', now)).toBe(Date.UTC(2026, 10, 1)));
  it('refuses anything else', () => expect(() => parseTimeBound('yesterday', now)).toThrow(/TG_ERR_USAGE/));
});
