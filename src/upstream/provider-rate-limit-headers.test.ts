import { describe, expect, it } from 'vitest';
import { parseResetDuration, readProviderQuota } from './provider-rate-limit-headers.js';

describe('readProviderQuota', () => {
  const NOW = Date.parse('2026-12-06T12:00:00Z');

  it('reads OpenAI headers, resets as durations', () => {
    expect(
      readProviderQuota(
        {
          'x-ratelimit-limit-requests': '500',
          'x-ratelimit-remaining-requests': '499',
          'x-ratelimit-reset-requests': '120ms',
          'x-ratelimit-limit-tokens': '30000',
          'x-ratelimit-remaining-tokens': '29000',
          'x-ratelimit-reset-tokens': '1m30s',
        },
        NOW,
      ),
    ).toEqual({
      requests: { remaining: 499, limit: 500, resetAtMs: NOW + 120 },
      tokens: { remaining: 29_000, limit: 30_000, resetAtMs: NOW + 90_000 },
    });
  });

  it('reads Anthropic headers, resets as RFC 3339 times', () => {
    expect(
      readProviderQuota(
        {
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '3',
          'anthropic-ratelimit-requests-reset': '2026-12-06T12:00:20Z',
        },
        NOW,
      ),
    ).toEqual({ requests: { remaining: 3, limit: 50, resetAtMs: NOW + 20_000 }, tokens: null });
  });

  it('is null without such headers, and ignores malformed counts and resets', () => {
    expect(readProviderQuota({ 'content-type': 'application/json' }, NOW)).toBeNull();
    expect(readProviderQuota({ 'x-ratelimit-remaining-requests': 'lots' }, NOW)).toBeNull();
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('1.5s')).toBe(1500);
    expect(parseResetDuration('soon')).toBeNull();
  });
});
