import { describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../alerting/alert.js';
import { ManualClock } from '../core/clock.js';
import { stateUnavailable } from './redis-connection.js';
import { createSharedStateHealth } from './shared-state-health.js';

describe('shared-state health', () => {
  it('raises one alert per outage, closes it when Redis answers, and raises a new one for the next outage', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const raised: { alert: Alert; change: AlertChange }[] = [];
    let up = false;
    const health = createSharedStateHealth({
      ping: () => (up ? Promise.resolve('PONG') : Promise.reject(new Error('ECONNREFUSED'))),
      clock,
      instanceId: 'gw-1',
      policy: 'fail-open',
      alert: (alert, change) => raised.push({ alert, change }),
      log: () => undefined,
      probeMs: 10,
    });
    for (let i = 0; i < 5; i++) health.onUnavailable(stateUnavailable('limiter.take', new Error('down')));
    expect(health.down).toBe(true);
    expect(raised.map((r) => r.change)).toEqual(['new']);
    expect(raised[0]!.alert).toMatchObject({
      rule_id: 'state.unavailable',
      severity: 'HIGH',
      subject: { kind: 'instance', value: 'gw-1' },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(health.down).toBe(true);
    up = true;
    clock.advance(30_000);
    for (let t = 0; t < 50 && health.down; t++) await new Promise((r) => setTimeout(r, 10));
    expect(health.down).toBe(false);
    expect(raised.map((r) => r.change)).toEqual(['new', 'resolved']);
    expect(raised[1]!.alert.id).toBe(raised[0]!.alert.id);
    expect(raised[1]!.alert.count).toBe(5);
    expect(raised[1]!.alert.description).toContain('after 30 s');
    health.onUnavailable(stateUnavailable('lockout.check', new Error('down')));
    expect(raised.map((r) => r.change)).toEqual(['new', 'resolved', 'new']);
    expect(raised[2]!.alert.id).not.toBe(raised[0]!.alert.id);
    health.close();
  });

  it('is CRITICAL under fail-closed (requests are refused)', () => {
    const raised: Alert[] = [];
    const health = createSharedStateHealth({
      ping: () => new Promise(() => undefined),
      clock: new ManualClock(0),
      instanceId: 'gw-2',
      policy: 'fail-closed',
      alert: (a) => raised.push(a),
      log: () => undefined,
    });
    health.onUnavailable(stateUnavailable('limiter.take', null));
    expect(raised[0]!.severity).toBe('CRITICAL');
    health.close();
  });
});
