import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { Lockout } from './lockout.js';

describe('Lockout', () => {
  it('locks on the Nth failure within the window, for the cool-off, then expires', () => {
    const clock = new ManualClock();
    const lock = new Lockout({ clock, maxFailures: 3, windowMs: 60_000, coolOffMs: 300_000 });
    expect(lock.recordFailure('ip:10.0.0.1')).toMatchObject({
      locked: false,
      failures: 1,
      justLocked: false,
    });
    expect(lock.recordFailure('ip:10.0.0.1')).toMatchObject({ locked: false, failures: 2 });
    const third = lock.recordFailure('ip:10.0.0.1');
    expect(third).toEqual({ locked: true, until: clock.now() + 300_000, failures: 3, justLocked: true });
    expect(lock.check('ip:10.0.0.1')).toEqual({ locked: true, until: clock.now() + 300_000 });
    expect(lock.check('ip:10.0.0.2').locked).toBe(false);
    // Further failures while locked neither extend the lock nor alert again.
    expect(lock.recordFailure('ip:10.0.0.1')).toMatchObject({
      locked: true,
      justLocked: false,
      until: clock.now() + 300_000,
    });
    clock.advance(299_999);
    expect(lock.check('ip:10.0.0.1').locked).toBe(true);
    clock.advance(1);
    expect(lock.check('ip:10.0.0.1')).toEqual({ locked: false, until: null });
    // After the cool-off the count starts afresh.
    expect(lock.recordFailure('ip:10.0.0.1')).toMatchObject({ locked: false, failures: 1 });
  });

  it('counts only failures inside the sliding window', () => {
    const clock = new ManualClock();
    const lock = new Lockout({ clock, maxFailures: 3, windowMs: 60_000, coolOffMs: 1000 });
    lock.recordFailure('key:abc');
    clock.advance(30_000);
    lock.recordFailure('key:abc');
    clock.advance(30_001); // the first failure left the window
    expect(lock.recordFailure('key:abc')).toMatchObject({ locked: false, failures: 2 });
    expect(lock.recordFailure('key:abc')).toMatchObject({ locked: true, failures: 3 });
  });

  it('stays bounded, forgetting idle subjects first', () => {
    const clock = new ManualClock();
    const lock = new Lockout({ clock, maxFailures: 2, windowMs: 1000, coolOffMs: 60_000, maxSubjects: 10 });
    lock.recordFailure('ip:locked');
    lock.recordFailure('ip:locked');
    for (let i = 0; i < 9; i++) lock.recordFailure(`ip:${i}`);
    clock.advance(2000);
    for (let i = 0; i < 50; i++) lock.recordFailure(`ip:new${i}`);
    expect(lock.size).toBeLessThanOrEqual(10);
    expect(lock.check('ip:locked').locked).toBe(true);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new Lockout({ clock: new ManualClock(), maxFailures: 0 })).toThrow(
      expect.objectContaining({ code: 'TG_ERR_CONFIG_INVALID' }),
    );
  });
});
