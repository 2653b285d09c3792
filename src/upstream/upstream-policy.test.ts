import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_UPSTREAM_POLICY, parseRetryAfter } from './upstream-policy.js';

const retry = DEFAULT_UPSTREAM_POLICY.retry;

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  it('reads delay-seconds', () => expect(parseRetryAfter({ 'retry-after': '3' }, now)).toBe(3000));
  it('reads an HTTP-date', () =>
    expect(parseRetryAfter({ 'retry-after': 'Thu, 26 Nov 2026 12:00:07 GMT' }, now)).toBe(7000));
  it('prefers retry-after-ms', () =>
    expect(parseRetryAfter({ 'retry-after': '3', 'retry-after-ms': '150' }, now)).toBe(150));
  it('treats a past date as zero', () =>
    expect(parseRetryAfter({ 'retry-after': 'Thu, 26 Nov 2026 11:00:00 GMT' }, now)).toBe(0));
  it('ignores garbage', () => expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeNull());
  it('is null when absent', () => expect(parseRetryAfter({}, now)).toBeNull());
});

describe('backoffMs', () => {
  it('draws within the doubling ceiling (full jitter)', () => {
    expect(backoffMs(1, retry, null, () => 0.999)).toBe(Math.floor(0.999 * 250));
    expect(backoffMs(3, retry, null, () => 0.999)).toBe(Math.floor(0.999 * 1000));
    expect(backoffMs(3, retry, null, () => 0)).toBe(0);
  });
  it('caps the ceiling at maxDelayMs', () => {
    expect(backoffMs(20, retry, null, () => 0.5)).toBe(4000);
  });
  it('honours and clamps Retry-After', () => {
    expect(backoffMs(1, retry, 1500)).toBe(1500);
    expect(backoffMs(1, retry, 3_600_000)).toBe(retry.maxRetryAfterMs);
  });
});
