import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { fire, testEvent } from './detector-test-kit.js';
import { createContextGrowthDetector } from './session-context-growth.js';

describe('session.context-growth', () => {
  it('fires on a session whose input grows on every request', () => {
    const clock = new ManualClock();
    const d = createContextGrowthDetector();
    let firstAt = -1;
    for (let i = 0; i < 20; i++) {
      const c = fire(d, clock, testEvent(clock, { session_id: 's-leak', input_tokens: 4000 + i * 2500 }));
      if (c.length > 0 && firstAt < 0) {
        firstAt = i;
        expect(c[0]!.subject).toEqual({ kind: 'session', value: 's-leak' });
      }
      clock.advance(3_000);
    }
    expect(firstAt).toBe(7);
  });

  it('stays quiet on a chat that trims its context', () => {
    const clock = new ManualClock();
    const d = createContextGrowthDetector();
    let input = 1000;
    for (let i = 0; i < 200; i++) {
      input += 1500;
      if (input > 14_000) input = 6_000; // the application summarises
      expect(fire(d, clock, testEvent(clock, { session_id: 's-chat', input_tokens: input }))).toEqual([]);
      clock.advance(30_000);
    }
  });

  it('treats a retry with the same input as neither growth nor a reset', () => {
    const clock = new ManualClock();
    const d = createContextGrowthDetector({ minConsecutive: 3, minInputTokens: 0, minGrowthFactor: 1 });
    expect(fire(d, clock, testEvent(clock, { session_id: 's', input_tokens: 100 }))).toEqual([]);
    expect(fire(d, clock, testEvent(clock, { session_id: 's', input_tokens: 200 }))).toEqual([]);
    expect(fire(d, clock, testEvent(clock, { session_id: 's', input_tokens: 200 }))).toEqual([]);
    expect(fire(d, clock, testEvent(clock, { session_id: 's', input_tokens: 300 }))).toHaveLength(1);
  });
});
