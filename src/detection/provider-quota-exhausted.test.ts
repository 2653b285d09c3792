import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { fire, testEvent } from './detector-test-kit.js';
import { createQuotaExhaustedDetector } from './provider-quota-exhausted.js';

describe('provider.quota-exhausted', () => {
  const clock = new ManualClock();
  const d = createQuotaExhaustedDetector();

  it('fires CRITICAL-by-default on an out-of-credit answer, named by the provider key', () => {
    const managed = testEvent(clock, {
      error_code: 'TG_ERR_UPSTREAM_QUOTA_EXHAUSTED',
      http_status_code: 429,
      api_provider: 'openai',
      virtual_key_id: 'vk_1',
      api_key_id: 'aaaaaaaaaaaaaaaa',
    });
    const [c] = fire(d, clock, managed);
    expect(c!.subject).toEqual({ kind: 'api_key', value: 'provider:openai' });
    expect(d.severity).toBe('CRITICAL');
    const passthrough = testEvent(clock, {
      error_code: 'TG_ERR_UPSTREAM_QUOTA_EXHAUSTED',
      virtual_key_id: null,
      api_key_id: 'bbbbbbbbbbbbbbbb',
    });
    expect(fire(d, clock, passthrough)[0]!.subject).toEqual({ kind: 'api_key', value: 'bbbbbbbbbbbbbbbb' });
  });

  it('stays quiet on a rate limit', () => {
    expect(
      fire(d, clock, testEvent(clock, { error_code: 'rate_limit_exceeded', http_status_code: 429 })),
    ).toEqual([]);
  });
});
