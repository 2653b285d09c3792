/**
 * The detection targets of issue 6, on a smaller seeded run of the evaluation harness
 * (bench/detection-eval.ts runs the full one): every incident caught, median delay ≤ 30 s of
 * simulated time, ≤ 1 false alert per 10,000 benign requests.
 */
import { describe, expect, it } from 'vitest';
import { evaluateDetection } from './evaluation/evaluate-detection.js';
import { generateTraffic } from './evaluation/simulated-traffic.js';

describe('detection evaluation (seeded)', () => {
  const traffic = generateTraffic({
    seed: 7,
    days: 9,
    users: 90,
    services: 6,
    incidentsPerKind: 2,
    warmupDays: 7,
  });
  const result = evaluateDetection(traffic);

  it('catches every injected incident with its intended rule', () => {
    expect(result.missed).toEqual([]);
    expect(result.caught).toBe(result.incidents);
    for (const r of result.rules) expect(r.caught, r.rule).toBe(r.expected);
  });

  it('detects within 30 s of simulated time (median)', () => {
    expect(result.medianDelayMs).not.toBeNull();
    expect(result.medianDelayMs!).toBeLessThanOrEqual(30_000);
  });

  it('raises at most 1 false alert per 10,000 benign requests', () => {
    expect(result.benignRequests).toBeGreaterThan(20_000);
    expect(result.falsePer10k, result.falseSamples.join('\n')).toBeLessThanOrEqual(1);
  });

  it('forgets idle subjects: no detector state is left after everything has gone idle', () => {
    expect(result.stateAfterSweep).toBe(0);
  });
});
