import { describe, expect, it } from 'vitest';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import { newEventId } from '../core/ids.js';
import { isSampled, samplingFromEnv } from './trace-sampling.js';

function event(traceId: string | null = null): AuditEvent {
  const e = blankEvent({ id: newEventId(), timestamp: new Date(0).toISOString(), source: 'gateway' });
  e.trace_id = traceId;
  return e;
}

const CALLER = 'a'.repeat(32);

describe('trace sampling', () => {
  it('keeps about the configured share of traces, the same decision every time for one id', () => {
    const s = { ratio: 0.1, parentBased: true };
    const events = Array.from({ length: 20_000 }, () => event());
    const kept = events.filter((e) => isSampled(s, e, null));
    // Binomial(20,000, 0.1): sd ≈ 42, so ±300 is > 7 sd.
    expect(kept.length).toBeGreaterThan(1700);
    expect(kept.length).toBeLessThan(2300);
    for (const e of events.slice(0, 500)) expect(isSampled(s, e, null)).toBe(isSampled(s, e, null));
    // A higher ratio keeps a superset (the decision is a threshold on the id).
    const more = { ratio: 0.5, parentBased: true };
    for (const e of kept) expect(isSampled(more, e, null)).toBe(true);
  });

  it('always_on and always_off are what they say', () => {
    const on = samplingFromEnv('always_on', undefined)!;
    const off = samplingFromEnv('always_off', undefined)!;
    for (let i = 0; i < 100; i++) {
      const e = event();
      expect(isSampled(on, e, null)).toBe(true);
      expect(isSampled(off, e, null)).toBe(false);
    }
  });

  it("parent-based follows the caller's sampled flag; otherwise the caller's trace id decides", () => {
    const parent = samplingFromEnv('parentbased_traceidratio', '0')!;
    const sampledCaller = { traceId: CALLER, parentSpanId: 'b'.repeat(16), flags: '01' };
    const unsampledCaller = { ...sampledCaller, flags: '00' };
    expect(isSampled(parent, event(CALLER), sampledCaller)).toBe(true);
    expect(isSampled(samplingFromEnv(undefined, undefined)!, event(CALLER), unsampledCaller)).toBe(false);
    // Not parent-based: the ratio on the caller's trace id, whatever its flag.
    const ratio = samplingFromEnv('traceidratio', '0.5')!;
    const low = '0'.repeat(32);
    const high = 'f'.repeat(32);
    expect(isSampled(ratio, event(low), { ...unsampledCaller, traceId: low })).toBe(true);
    expect(isSampled(ratio, event(high), { ...sampledCaller, traceId: high })).toBe(false);
  });

  it('reads the specification names; a bad ratio is 1, an unknown sampler is null', () => {
    expect(samplingFromEnv(undefined, undefined)).toEqual({ ratio: 1, parentBased: true });
    expect(samplingFromEnv('TraceIdRatio', '0.25')).toEqual({ ratio: 0.25, parentBased: false });
    expect(samplingFromEnv('parentbased_traceidratio', '2')).toEqual({ ratio: 1, parentBased: true });
    expect(samplingFromEnv('parentbased_traceidratio', 'x')).toEqual({ ratio: 1, parentBased: true });
    expect(samplingFromEnv('parentbased_always_off', undefined)).toEqual({ ratio: 0, parentBased: true });
    expect(samplingFromEnv('jaeger_remote', undefined)).toBeNull();
  });
});
