import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AUDIT_EVENT_FIELDS, LATER_NULLABLE_FIELDS } from '../../src/core/audit-event.js';
import {
  HASHED_FIELDS,
  canonicalEventJson,
  canonicalize,
  eventHash,
  sortedEventObject,
} from '../../src/integrity/canonical-json.js';
import { wellFormedValue } from '../../src/integrity/well-formed-event.js';
import { sampleEvent } from './sample-events.js';

/**
 * The package's canonical form of the event as stored: strings well-formed (lone surrogates as
 * U+FFFD), the fields added after schema v1's first release left out while null.
 */
function reference(e: AuditEvent): string {
  const { hash: _hash, ...rest } = e;
  const r = rest as Record<string, unknown>;
  for (const f of LATER_NULLABLE_FIELDS) if (r[f] === null) delete r[f];
  return canonicalize(wellFormedValue(r))!;
}

/** The event as a store written before the provider-quota fields existed holds it. */
function firstReleaseForm(e: AuditEvent): Record<string, unknown> {
  const old = { ...e } as Record<string, unknown>;
  for (const f of LATER_NULLABLE_FIELDS) delete old[f];
  return old;
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

  it('hashes an event without provider quota readings exactly as before those fields existed', () => {
    const e = sampleEvent(9);
    const { hash: _h, ...old } = firstReleaseForm(e);
    // What the first release hashed: the package's canonical form of the event without the fields.
    const before = createHash('sha256').update(canonicalize(old)!, 'utf8').digest('hex');
    expect(eventHash(e)).toBe(before);
    expect(eventHash(firstReleaseForm(e) as unknown as AuditEvent)).toBe(before);
  });

  it('hashes provider quota readings once set: setting or clearing one changes the hash', () => {
    const e = sampleEvent(11);
    const none = eventHash(e);
    e.provider_requests_remaining = 12;
    e.provider_requests_limit = 500;
    e.provider_requests_reset = '2026-01-01T00:01:00.000Z';
    e.provider_tokens_remaining = 0;
    e.provider_tokens_limit = 30_000;
    e.provider_tokens_reset = '2026-01-01T00:00:06.500Z';
    e.provider_key_id = '0123456789abcdef';
    e.cache_write_tokens = 2000;
    e.audio_input_tokens = 640;
    e.image_input_tokens = 0;
    e.billing_unit = 'audio_second';
    e.billing_quantity = 9;
    e.unpriced_reason = 'the answer reported no usage';
    expect(canonicalEventJson(e)).toBe(reference(e));
    expect(canonicalEventJson(e)).toContain('"provider_tokens_remaining":0');
    const set = eventHash(e);
    expect(set).not.toBe(none);
    for (const f of LATER_NULLABLE_FIELDS) {
      const changed = { ...e, [f]: null } as AuditEvent;
      expect(eventHash(changed), f).not.toBe(set);
    }
  });

  it('refuses numbers JSON cannot carry', () => {
    const e = sampleEvent(3);
    e.latency_ms = Number.NaN;
    expect(() => canonicalEventJson(e)).toThrow(/TG_ERR_INTEGRITY_NOT_CANONICAL/);
  });
});
