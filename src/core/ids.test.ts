import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newEventId } from './ids.js';

/** The 48-bit millisecond time at the front of a UUIDv7. */
const msOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('newEventId', () => {
  it('is a lowercase UUIDv7 (RFC 9562: version 7, variant 10) with the current millisecond', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(msOf(id)).toBeGreaterThanOrEqual(before);
    expect(msOf(id)).toBeLessThanOrEqual(after + 1);
  });

  it('is strictly increasing within a process, also within one millisecond (the counter)', () => {
    const ids = Array.from({ length: 20_000 }, () => newEventId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('takes a given millisecond', () => {
    const id = newEventId(1_796_600_000_123);
    expect(version(id)).toBe(7);
    expect(msOf(id)).toBe(1_796_600_000_123);
  });
});
