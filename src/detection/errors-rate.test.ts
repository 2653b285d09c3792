import { describe, expect, it } from 'vitest';
import type { EventStatus } from '../core/audit-event.js';
import { ManualClock } from '../core/clock.js';
import { createErrorsRateDetector } from './errors-rate.js';
import { fire, testEvent } from './detector-test-kit.js';

describe('errors.rate', () => {
  it('fires on a storm of failures for one key', () => {
    const clock = new ManualClock();
    const d = createErrorsRateDetector();
    const hits = [];
    for (let i = 0; i < 20; i++) {
      const status: EventStatus = i % 3 === 0 ? 'SUCCESS' : 'SERVER_ERROR';
      hits.push(
        fire(d, clock, testEvent(clock, { api_key_id: 'k-storm', model_used: 'gpt-4o-mini', status })),
      );
      clock.advance(1_000);
    }
    const first = hits.findIndex((h) => h.length > 0);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(12);
    expect(hits[first]![0]!.subject).toEqual({ kind: 'api_key', value: 'k-storm' });
    expect(hits[first]![0]!.figures.observed).toBeGreaterThanOrEqual(0.25);
  });

  it('stays quiet on a few failures of a quiet user (under the minimum counts)', () => {
    const clock = new ManualClock();
    const d = createErrorsRateDetector();
    for (let i = 0; i < 8; i++) {
      const status: EventStatus = i < 4 ? 'RATE_LIMITED' : 'SUCCESS';
      expect(fire(d, clock, testEvent(clock, { user_id: 'quiet', status }))).toEqual([]);
      clock.advance(20_000);
    }
  });

  it('stays quiet on a busy model at a normal 3% error rate, and on cancellations and auth failures', () => {
    const clock = new ManualClock();
    const d = createErrorsRateDetector();
    for (let i = 0; i < 2000; i++) {
      const status: EventStatus =
        i % 33 === 0 ? 'SERVER_ERROR' : i % 5 === 0 ? 'CANCELLED' : i % 7 === 0 ? 'AUTH_FAILED' : 'SUCCESS';
      expect(
        fire(d, clock, testEvent(clock, { model_used: 'gpt-4o', api_key_id: `k${i % 50}`, status })),
      ).toEqual([]);
      clock.advance(300);
    }
  });
});
