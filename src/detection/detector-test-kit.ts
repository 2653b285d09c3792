/** Helpers for detector tests: complete events and a clock-driven observe. Not used in production code. */
import type { AuditEvent } from '../core/audit-event.js';
import { blankEvent } from '../core/audit-event.js';
import type { ManualClock } from '../core/clock.js';
import type { AlertCandidate, DetectionHints, Detector } from './detector.js';

let seq = 0;

/** A complete, successful event at the clock's time, with fields overridden. */
export function testEvent(clock: ManualClock, over: Partial<AuditEvent> = {}): AuditEvent {
  seq++;
  return {
    ...blankEvent({ id: `evt-${seq}`, timestamp: new Date(clock.now()).toISOString(), source: 'gateway' }),
    auth_result: 'SUCCESS',
    http_status_code: 200,
    ...over,
  };
}

/** Observes at the clock's current time; returns the candidates as a list (empty when quiet). */
export function fire(
  detector: Detector,
  clock: ManualClock,
  event: AuditEvent,
  hints: DetectionHints = {},
): AlertCandidate[] {
  const r = detector.observe(event, { nowMs: clock.now(), hints });
  if (r === null) return [];
  return Array.isArray(r) ? [...(r as readonly AlertCandidate[])] : [r as AlertCandidate];
}
