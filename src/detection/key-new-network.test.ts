import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { fire, testEvent } from './detector-test-kit.js';
import { createNewNetworkDetector } from './key-new-network.js';

function warm(clock: ManualClock) {
  const d = createNewNetworkDetector({ warmupMs: 60 * 60_000, warmupEvents: 20 });
  for (let i = 0; i < 40; i++) {
    expect(
      fire(
        d,
        clock,
        testEvent(clock, { api_key_id: 'k1', ip_address: i % 2 ? '198.51.100.7' : '2001:db8:aa:1::5' }),
      ),
    ).toEqual([]);
    clock.advance(3 * 60_000);
  }
  return d;
}

describe('key.new-network', () => {
  it('fires when a warmed-up key is used from a new /24', () => {
    const clock = new ManualClock();
    const d = warm(clock);
    const c = fire(d, clock, testEvent(clock, { api_key_id: 'k1', ip_address: '203.0.113.50' }));
    expect(c[0]?.subject).toEqual({ kind: 'api_key', value: 'k1' });
    expect(c[0]?.title).toContain('203.0.113.0/24');
    // Further requests from it keep firing during quarantine, then it is learned.
    clock.advance(10 * 60_000);
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'k1', ip_address: '203.0.113.51' }))).toHaveLength(
      1,
    );
    clock.advance(61 * 60_000);
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'k1', ip_address: '203.0.113.52' }))).toEqual([]);
  });

  it('stays quiet on another host of a known /24 or /48, and during warm-up', () => {
    const clock = new ManualClock();
    const d = warm(clock);
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'k1', ip_address: '198.51.100.200' }))).toEqual([]);
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'k1', ip_address: '2001:db8:aa:ffff::1' }))).toEqual(
      [],
    );
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'fresh', ip_address: '192.0.2.1' }))).toEqual([]);
    expect(fire(d, clock, testEvent(clock, { api_key_id: 'fresh', ip_address: '192.0.3.1' }))).toEqual([]);
  });

  it('ignores failed authentications (they belong to auth.repeated-failures)', () => {
    const clock = new ManualClock();
    const d = warm(clock);
    const e = testEvent(clock, {
      api_key_id: 'k1',
      ip_address: '203.0.113.9',
      status: 'AUTH_FAILED',
      auth_result: 'FAILED',
    });
    expect(fire(d, clock, e)).toEqual([]);
  });
});
