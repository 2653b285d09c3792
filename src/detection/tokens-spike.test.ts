import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { fire, testEvent } from './detector-test-kit.js';
import { createTokensSpikeDetector } from './tokens-spike.js';

describe('tokens.spike', () => {
  function warm(clock: ManualClock) {
    const d = createTokensSpikeDetector();
    // Two hours of a request every 20 s with 3,000 tokens: ~9,000 tokens a minute.
    for (let i = 0; i < 360; i++) {
      expect(
        fire(d, clock, testEvent(clock, { user_id: 'ana', api_key_id: 'k-ana', total_tokens: 3000 })),
      ).toEqual([]);
      clock.advance(20_000);
    }
    return d;
  }

  it('fires when a key sends many times its usual tokens per minute', () => {
    const clock = new ManualClock();
    const d = warm(clock);
    let fired = 0;
    for (let i = 0; i < 30; i++) {
      const c = fire(
        d,
        clock,
        testEvent(clock, { user_id: 'ana', api_key_id: 'k-ana', total_tokens: 12_000 }),
      );
      if (c.length > 0) {
        fired++;
        expect(c[0]!.figures.unit).toBe('tokens');
        expect(c[0]!.figures.window_ms).toBe(60_000);
      }
      clock.advance(2_000);
    }
    expect(fired).toBeGreaterThan(0);
  });

  it('stays quiet on one large request (a long document) from the same user', () => {
    const clock = new ManualClock();
    const d = warm(clock);
    expect(
      fire(d, clock, testEvent(clock, { user_id: 'ana', api_key_id: 'k-ana', total_tokens: 60_000 })),
    ).toEqual([]);
  });

  it('falls back to input + output when total_tokens is missing, and ignores token-less events', () => {
    const clock = new ManualClock();
    const d = createTokensSpikeDetector({ coldFloor: 1000 });
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'k', total_tokens: null }))).toEqual([]);
    const c = fire(
      d,
      clock,
      testEvent(clock, { api_key_id: 'k', total_tokens: null, input_tokens: 700, output_tokens: 400 }),
    );
    expect(c[0]?.subject).toEqual({ kind: 'api_key', value: 'k' });
  });
});
