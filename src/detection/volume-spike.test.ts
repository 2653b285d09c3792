import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { Detector } from './detector.js';
import { fire, testEvent } from './detector-test-kit.js';
import { createVolumeSpikeDetector } from './volume-spike.js';

/** `perMinute` requests per minute for `minutes`, evenly spaced; returns how many fired. */
function drive(d: Detector, clock: ManualClock, perMinute: number, minutes: number, user = 'alice'): number {
  let fired = 0;
  const gap = 60_000 / perMinute;
  for (let i = 0; i < perMinute * minutes; i++) {
    if (fire(d, clock, testEvent(clock, { user_id: user, api_key_id: `key-${user}` })).length > 0) fired++;
    clock.advance(gap);
  }
  return fired;
}

describe('volume.spike', () => {
  it('fires when a warmed-up user runs far above their own baseline', () => {
    const clock = new ManualClock();
    const d = createVolumeSpikeDetector();
    expect(drive(d, clock, 4, 120)).toBe(0); // two hours of 4/min learns ~20 per 5 min
    const before = clock.now();
    let firstMs = -1;
    for (let i = 0; i < 600 && firstMs < 0; i++) {
      const c = fire(d, clock, testEvent(clock, { user_id: 'alice', api_key_id: 'key-alice' }));
      if (c.length > 0) {
        firstMs = clock.now();
        expect(c[0]!.subject).toEqual({ kind: 'user', value: 'alice' });
        expect(c[0]!.figures.baseline).toBeGreaterThan(10);
        expect(c[0]!.figures.threshold).toBeGreaterThanOrEqual(50);
      }
      clock.advance(500); // 2 requests per second: a runaway loop
    }
    expect(firstMs).toBeGreaterThan(0);
    expect(firstMs - before).toBeLessThan(60_000);
  });

  it('stays quiet on the same user doubling their rate (a busy afternoon)', () => {
    const clock = new ManualClock();
    const d = createVolumeSpikeDetector();
    drive(d, clock, 4, 120);
    expect(drive(d, clock, 8, 60)).toBe(0);
  });

  it('stays quiet on a quiet user bursting under the floor, and on the first morning requests', () => {
    const clock = new ManualClock();
    const d = createVolumeSpikeDetector();
    expect(drive(d, clock, 1, 120, 'bob')).toBe(0);
    clock.advance(12 * 3_600_000); // the night
    expect(drive(d, clock, 20, 1, 'bob')).toBe(0); // 20 requests in a minute
  });

  it('before warm-up, fires only above the cold floor', () => {
    const clock = new ManualClock();
    const d = createVolumeSpikeDetector({ coldFloor: 50 });
    expect(drive(d, clock, 8, 5, 'new')).toBe(0);
    expect(drive(d, clock, 60, 2, 'new')).toBeGreaterThan(0);
  });
});
