import { describe, expect, it } from 'vitest';
import type { Alert, AlertChange } from '../alerting/alert.js';
import { ManualClock } from '../core/clock.js';
import { createAuthFailuresDetector } from './auth-repeated-failures.js';
import { createCostBudgetDetector } from './cost-budget.js';
import { createDetectionEngine } from './detection-engine.js';
import type { Detector } from './detector.js';
import { testEvent } from './detector-test-kit.js';
import type { IncidentClaim, IncidentClaims } from './shared-windows.js';

const failed = {
  status: 'AUTH_FAILED',
  auth_result: 'FAILED',
  api_key_id: 'kf',
  ip_address: '203.0.113.5',
} as const;

function setup(detectors: Detector[], opts: { cooldownMs?: number; evidenceCap?: number } = {}) {
  const clock = new ManualClock();
  const seen: { alert: Alert; change: AlertChange }[] = [];
  const engine = createDetectionEngine({
    detectors,
    clock,
    onAlert: (alert, change) => void seen.push({ alert, change }),
    ...opts,
  });
  return { clock, seen, engine };
}

describe('detection engine', () => {
  it('marks the events a rule fires on and leaves others alone', () => {
    const { clock, engine } = setup([createAuthFailuresDetector()]);
    const events = Array.from({ length: 6 }, () => testEvent(clock, { ...failed, ip_address: null }));
    for (const e of events) engine.observe(e);
    expect(events.map((e) => e.is_anomalous)).toEqual([false, false, false, false, true, true]);
    expect(events[5]!.threat_indicators).toEqual(['auth.repeated-failures']);
  });

  it('raises ONE alert per incident and updates it (cooldown), with evidence capped', () => {
    const { clock, seen, engine } = setup([createAuthFailuresDetector()], { evidenceCap: 5 });
    for (let i = 0; i < 200; i++) {
      engine.observe(testEvent(clock, { ...failed, ip_address: null }));
      clock.advance(1000);
    }
    const ids = new Set(seen.map((s) => s.alert.id));
    expect(ids.size).toBe(1);
    expect(seen.filter((s) => s.change === 'new')).toHaveLength(1);
    const last = seen[seen.length - 1]!.alert;
    expect(last.count).toBe(196);
    expect(last.evidence.event_ids).toHaveLength(5);
    expect(last.evidence.evidence_truncated).toBe(true);
    expect(Date.parse(last.last_seen) - Date.parse(last.first_seen)).toBe(195_000);
    expect(engine.stats()).toMatchObject({ alertsRaised: 1, alertsUpdated: 195 });
  });

  it('raises a new alert after a quiet gap longer than the cooldown', () => {
    const { clock, seen, engine } = setup([createAuthFailuresDetector()], { cooldownMs: 5 * 60_000 });
    const burst = () => {
      for (let i = 0; i < 6; i++) engine.observe(testEvent(clock, { ...failed, ip_address: null }));
    };
    burst();
    clock.advance(4 * 60_000);
    burst();
    expect(new Set(seen.map((s) => s.alert.id)).size).toBe(1);
    clock.advance(6 * 60_000);
    burst();
    expect(new Set(seen.map((s) => s.alert.id)).size).toBe(2);
  });

  it('escalates the severity of an open alert instead of raising a second one', () => {
    const { clock, seen, engine } = setup([
      createCostBudgetDetector({ budgets: [{ scope: 'user', subject: '*', period: 'day', limit_usd: 1 }] }),
    ]);
    for (let i = 0; i < 11; i++) {
      engine.observe(testEvent(clock, { user_id: 'u', cost_micro_usd: 100_000 }));
      clock.advance(60_000);
    }
    expect(seen.map((s) => s.change)).toEqual(['new', 'escalated', 'updated']);
    expect(seen[2]!.alert.severity).toBe('HIGH');
  });

  it('never throws into the caller: a failing detector or onAlert is counted and reported', async () => {
    const clock = new ManualClock();
    const errors: string[] = [];
    const broken: Detector = {
      id: 'broken',
      severity: 'LOW',
      description: 'throws',
      observe: () => {
        throw new Error('boom');
      },
      sweep: () => 0,
    };
    const engine = createDetectionEngine({
      detectors: [broken, createAuthFailuresDetector({ threshold: 1 })],
      clock,
      onAlert: async () => {
        throw new Error('sink down');
      },
      onError: (_e, where) => errors.push(where),
    });
    const e = testEvent(clock, failed);
    expect(() => engine.observe(e)).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(e.threat_indicators).toEqual(['auth.repeated-failures']);
    expect(errors).toContain('broken');
    expect(errors).toContain('onAlert');
    expect(engine.stats()).toMatchObject({ detectorErrors: 1, sinkErrors: 2 });
  });

  it('hands out snapshots: later updates do not mutate an alert already delivered', () => {
    const { clock, seen, engine } = setup([createAuthFailuresDetector({ threshold: 1 })]);
    engine.observe(testEvent(clock, { ...failed, ip_address: null }));
    engine.observe(testEvent(clock, { ...failed, ip_address: null }));
    expect(seen[0]!.alert.count).toBe(1);
    expect(seen[1]!.alert.count).toBe(2);
  });

  it('with incident claims, publishes a new incident as new when it wins and as an update of the owner when another replica raised it', async () => {
    const claims = new MemoryIncidentClaims();
    const make = () => {
      const seen: { alert: Alert; change: AlertChange }[] = [];
      const engine = createDetectionEngine({
        detectors: [createAuthFailuresDetector({ threshold: 1 })],
        clock: new ManualClock(),
        incidentClaims: claims,
        onAlert: (alert, change) => void seen.push({ alert, change }),
      });
      return { seen, engine };
    };
    const a = make();
    const b = make();
    a.engine.observe(testEvent(new ManualClock(), { ...failed, ip_address: null }));
    a.engine.observe(testEvent(new ManualClock(), { ...failed, ip_address: null })); // held until the claim answers
    await new Promise((r) => setImmediate(r));
    b.engine.observe(testEvent(new ManualClock(), { ...failed, ip_address: null }));
    await new Promise((r) => setImmediate(r));
    expect(a.seen.map((s) => [s.change, s.alert.count])).toEqual([['new', 2]]);
    expect(b.seen.map((s) => s.change)).toEqual(['updated']);
    expect(b.seen[0]!.alert.id).toBe(a.seen[0]!.alert.id);
    expect(b.engine.stats()).toMatchObject({ alertsRaised: 0, alertsJoined: 1 });
  });

  it('with incident claims, the first replica to see a joined incident at a higher severity sends the escalation, once', async () => {
    const claims = new MemoryIncidentClaims();
    const clock = new ManualClock();
    const budgets = [{ scope: 'user' as const, subject: '*', period: 'day' as const, limit_usd: 0.0001 }];
    const make = () => {
      const seen: AlertChange[] = [];
      const engine = createDetectionEngine({
        detectors: [createCostBudgetDetector({ budgets })],
        clock,
        incidentClaims: claims,
        onAlert: (_alert, change) => void seen.push(change),
      });
      return { seen, engine };
    };
    const [a, b, c] = [make(), make(), make()];
    a.engine.observe(testEvent(clock, { user_id: 'u1', cost_micro_usd: 80 })); // 80 %: MEDIUM warning
    await new Promise((r) => setImmediate(r));
    b.engine.observe(testEvent(clock, { user_id: 'u1', cost_micro_usd: 100 })); // 100 %: HIGH, joins a's alert
    await new Promise((r) => setImmediate(r));
    c.engine.observe(testEvent(clock, { user_id: 'u1', cost_micro_usd: 100 })); // HIGH again: already escalated
    await new Promise((r) => setImmediate(r));
    a.engine.observe(testEvent(clock, { user_id: 'u1', cost_micro_usd: 100 })); // a escalates its own copy: b sent it
    await new Promise((r) => setImmediate(r));
    expect([a.seen, b.seen, c.seen]).toEqual([['new', 'updated'], ['escalated'], ['updated']]);
  });
});

/** IncidentClaims in memory, shared by the engines of a test as Redis is by replicas. */
class MemoryIncidentClaims implements IncidentClaims {
  private readonly owners = new Map<string, { id: string; rank: number }>();

  async claim(incident: string, alertId: string, _ttlMs: number, severityRank = 0): Promise<IncidentClaim> {
    const o = this.owners.get(incident);
    if (o === undefined) {
      this.owners.set(incident, { id: alertId, rank: severityRank });
      return { owner: alertId, escalated: false };
    }
    const escalated = severityRank > o.rank;
    if (escalated) o.rank = severityRank;
    return { owner: o.id, escalated };
  }
}
