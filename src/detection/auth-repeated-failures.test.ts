import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { createAuthFailuresDetector } from './auth-repeated-failures.js';
import { fire, testEvent } from './detector-test-kit.js';

const failed = { status: 'AUTH_FAILED', auth_result: 'FAILED', http_status_code: 401 } as const;

describe('auth.repeated-failures', () => {
  it('fires HIGH on the 5th failure for one key within 60 s', () => {
    const clock = new ManualClock();
    const d = createAuthFailuresDetector();
    const fired = [];
    for (let i = 0; i < 5; i++) {
      fired.push(
        fire(d, clock, testEvent(clock, { ...failed, api_key_id: 'kf_1', ip_address: `198.51.100.${i}` })),
      );
      clock.advance(5_000);
    }
    expect(fired.slice(0, 4).every((f) => f.length === 0)).toBe(true);
    expect(fired[4]!.map((c) => c.subject)).toEqual([{ kind: 'api_key', value: 'kf_1' }]);
    expect(fired[4]![0]!.figures).toMatchObject({ observed: 5, threshold: 5, window_ms: 60_000 });
    expect(d.severity).toBe('HIGH');
  });

  it('stays quiet on a client retrying a stale key once a minute', () => {
    const clock = new ManualClock();
    const d = createAuthFailuresDetector();
    for (let i = 0; i < 30; i++) {
      expect(
        fire(
          d,
          clock,
          testEvent(clock, {
            ...failed,
            auth_result: 'EXPIRED',
            api_key_id: 'kf_old',
            ip_address: '198.51.100.9',
          }),
        ),
      ).toEqual([]);
      clock.advance(61_000);
    }
  });

  it('fires on one IP trying many different keys (credential stuffing) even when each key fails once', () => {
    const clock = new ManualClock();
    const d = createAuthFailuresDetector({ threshold: 50 });
    const out = [];
    for (let i = 0; i < 4; i++) {
      out.push(
        fire(d, clock, testEvent(clock, { ...failed, api_key_id: `guess-${i}`, ip_address: '203.0.113.66' })),
      );
      clock.advance(20_000);
    }
    expect(out[3]!.map((c) => c.subject)).toEqual([{ kind: 'ip', value: '203.0.113.66' }]);
    expect(out[3]![0]!.figures.unit).toBe('distinct_keys');
  });

  it('stays quiet on a busy shared IP with a few failures spread out', () => {
    const clock = new ManualClock();
    const d = createAuthFailuresDetector();
    for (let i = 0; i < 40; i++) {
      const bad = i % 12 === 0;
      const e = testEvent(
        clock,
        bad
          ? { ...failed, api_key_id: `k${i}`, ip_address: '192.0.2.1' }
          : { api_key_id: `k${i}`, ip_address: '192.0.2.1' },
      );
      expect(fire(d, clock, e)).toEqual([]);
      clock.advance(10_000);
    }
  });

  it('counts only failures inside the window', () => {
    const clock = new ManualClock();
    const d = createAuthFailuresDetector();
    for (let i = 0; i < 4; i++) fire(d, clock, testEvent(clock, { ...failed, api_key_id: 'kf_2' }));
    clock.advance(70_000);
    expect(fire(d, clock, testEvent(clock, { ...failed, api_key_id: 'kf_2' }))).toEqual([]);
  });
});
