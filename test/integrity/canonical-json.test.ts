import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AUDIT_EVENT_FIELDS } from '../../src/core/audit-event.js';
import {
  HASHED_FIELDS,
  canonicalEventJson,
  canonicalize,
  eventHash,
  sortedEventObject,
} from '../../src/integrity/canonical-json.js';
import { wellFormedValue } from '../../src/integrity/well-formed-event.js';
import { sampleEvent } from './sample-events.js';

/** The package's canonical form of the event as stored: strings well-formed (lone surrogates as U+FFFD). */
function reference(e: AuditEvent): string {
  const { hash: _hash, ...rest } = e;
  return canonicalize(wellFormedValue(rest))!;
}

describe('canonical event JSON (RFC 8785)', () => {
  it('covers every field except hash', () => {
    expect([...HASHED_FIELDS].sort()).toEqual(AUDIT_EVENT_FIELDS.filter((f) => f !== 'hash').sort());
    expect(HASHED_FIELDS).toContain('chain_id');
    expect(HASHED_FIELDS).toContain('seq');
    expect(HASHED_FIELDS).toContain('prev_hash');
  });

  it('builds the fast-path object with its keys in RFC 8785 order', () => {
    expect(Object.keys(sortedEventObject(sampleEvent(1), []))).toEqual(HASHED_FIELDS);
  });

  it('matches the canonicalize package byte for byte', () => {
    const e = sampleEvent(42);
    e.hash = 'f'.repeat(64);
    expect(canonicalEventJson(e)).toBe(reference(e));
    expect(eventHash(e)).toBe(createHash('sha256').update(reference(e), 'utf8').digest('hex'));
  });

  it('matches the reference for arbitrary field values, including odd strings and numbers', () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'binary' }),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.array(fc.record({ type: fc.string({ unit: 'grapheme' }), count: fc.nat() }), { maxLength: 3 }),
      fc.array(fc.record({ count: fc.double(), type: fc.string(), extra: fc.option(fc.string()) }), {
        maxLength: 2,
      }),
      fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }),
      fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
      fc.object({ maxDepth: 2 }),
    );
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.dictionary(fc.constantFrom(...AUDIT_EVENT_FIELDS), value),
        (i, overrides) => {
          const e = { ...sampleEvent(i), ...overrides } as AuditEvent;
          let expected: string;
          try {
            expected = reference(e);
          } catch {
            expect(() => canonicalEventJson(e)).toThrow(/TG_ERR_INTEGRITY_NOT_CANONICAL/);
            return;
          }
          expect(canonicalEventJson(e)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hashes extra fields too, and ignores only hash', () => {
    const e = sampleEvent(1);
    const withExtra = { ...e, future_field: 'x' } as unknown as AuditEvent;
    expect(canonicalEventJson(withExtra)).toBe(reference(withExtra));
    expect(eventHash(withExtra)).not.toBe(eventHash(e));
    const rehashed = { ...e, hash: 'a'.repeat(64) };
    expect(eventHash(rehashed)).toBe(eventHash(e));
  });

  it('changes when any single field changes', () => {
    const base = sampleEvent(7);
    const h = eventHash(base);
    for (const f of HASHED_FIELDS) {
      const e = { ...base } as Record<string, unknown>;
      const v = e[f];
      e[f] =
        v === null
          ? 'x'
          : typeof v === 'string'
            ? v + 'x'
            : typeof v === 'number'
              ? v + 1
              : typeof v === 'boolean'
                ? !v
                : ['x'];
      expect(eventHash(e as unknown as AuditEvent), f).not.toBe(h);
    }
  });

  it('refuses numbers JSON cannot carry', () => {
    const e = sampleEvent(3);
    e.latency_ms = Number.NaN;
    expect(() => canonicalEventJson(e)).toThrow(/TG_ERR_INTEGRITY_NOT_CANONICAL/);
  });
});
