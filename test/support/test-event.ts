import { blankEvent, type AuditEvent } from '../../src/core/audit-event.js';

/** When test events happen unless a test says otherwise. */
export const TEST_EVENT_TIME = '2026-01-01T00:00:00.000Z';

/** A UUIDv7-shaped event id numbered `i` (ids sort as their numbers do). */
export function testEventId(i: number): string {
  return `0190a0c0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
}

/**
 * The audit-event factory of the tests: a blank event (every field present, null where unknown,
 * as `blankEvent` makes it) numbered `i`, from the gateway at TEST_EVENT_TIME, then `patch`.
 */
export function testEvent(patch: Partial<AuditEvent> = {}, i = 1): AuditEvent {
  return { ...blankEvent({ id: testEventId(i), timestamp: TEST_EVENT_TIME, source: 'gateway' }), ...patch };
}
