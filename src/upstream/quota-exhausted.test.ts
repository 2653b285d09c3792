import { describe, expect, it } from 'vitest';
import { quotaExhaustedInText, quotaExhaustedReason } from './quota-exhausted.js';

describe('quotaExhaustedReason', () => {
  it("names each provider's out-of-credit answer", () => {
    expect(quotaExhaustedReason({ error: { type: 'insufficient_quota', code: 'insufficient_quota' } })).toBe(
      'insufficient_quota',
    );
    expect(
      quotaExhaustedReason({ error: { code: 'billing_hard_limit_reached', type: 'invalid_request_error' } }),
    ).toBe('billing_hard_limit_reached');
    expect(quotaExhaustedReason({ type: 'error', error: { type: 'billing_error', message: 'x' } })).toBe(
      'billing_error',
    );
    expect(
      quotaExhaustedReason({
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'Your credit balance is too low to access the Anthropic API.',
        },
      }),
    ).toBe('credit_balance_too_low');
    expect(
      quotaExhaustedReason({
        error: { code: 403, status: 'PERMISSION_DENIED', details: [{ reason: 'BILLING_DISABLED' }] },
      }),
    ).toBe('BILLING_DISABLED');
    expect(
      quotaExhaustedReason({
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          details: [{ violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }] }],
        },
      }),
    ).toBe('RESOURCE_EXHAUSTED');
  });

  it('leaves rate limits and other errors alone', () => {
    expect(quotaExhaustedReason({ error: { code: 'rate_limit_exceeded', type: 'requests' } })).toBeNull();
    expect(quotaExhaustedReason({ type: 'error', error: { type: 'rate_limit_error' } })).toBeNull();
    expect(
      quotaExhaustedReason({
        error: {
          status: 'RESOURCE_EXHAUSTED',
          details: [{ violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }] }],
        },
      }),
    ).toBeNull();
    expect(quotaExhaustedInText('not json')).toBeNull();
  });
});
