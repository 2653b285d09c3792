import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { createSecretInPromptDetector, createSecretInResponseDetector } from './content-secret.js';
import { fire, testEvent } from './detector-test-kit.js';

describe('content.secret-in-prompt / content.secret-in-response', () => {
  const clock = new ManualClock();

  it('fires on a credential type and stays quiet on personal data', () => {
    const p = createSecretInPromptDetector();
    const secret = testEvent(clock, {
      user_id: 'u',
      redactions: [
        { type: 'email', count: 2 },
        { type: 'aws_access_key', count: 1 },
      ],
    });
    const c = fire(p, clock, secret);
    expect(c).toHaveLength(1);
    expect(c[0]!.title).toContain('aws_access_key');
    expect(c[0]!.title).not.toContain('email');
    const pii = testEvent(clock, {
      user_id: 'u',
      redactions: [
        { type: 'email', count: 1 },
        { type: 'credit_card', count: 1 },
        { type: 'us_ssn', count: 1 },
      ],
    });
    expect(fire(p, clock, pii)).toEqual([]);
  });

  it('uses the per-part hint to tell prompt from response', () => {
    const p = createSecretInPromptDetector();
    const r = createSecretInResponseDetector();
    const e = testEvent(clock, { api_key_id: 'k', redactions: [{ type: 'github_token', count: 1 }] });
    const hints = { redactionsByPart: { prompt: [], response: [{ type: 'github_token', count: 1 }] } };
    expect(fire(p, clock, e, hints)).toEqual([]);
    expect(fire(r, clock, e, hints)[0]?.subject).toEqual({ kind: 'api_key', value: 'k' });
  });

  it('without the hint, reports the prompt rule only (unless configured to raise both)', () => {
    const e = testEvent(clock, { user_id: 'u', redactions: [{ type: 'private_key', count: 1 }] });
    expect(fire(createSecretInPromptDetector(), clock, e)).toHaveLength(1);
    expect(fire(createSecretInResponseDetector(), clock, e)).toEqual([]);
    expect(fire(createSecretInResponseDetector({ unattributed: 'both' }), clock, e)).toHaveLength(1);
  });
});
