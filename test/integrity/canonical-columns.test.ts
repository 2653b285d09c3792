import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AUDIT_EVENT_FIELDS, JSON_FIELDS } from '../../src/core/audit-event.js';
import { CanonicalColumns, type ColumnCodec } from '../../src/integrity/canonical-columns.js';
import { canonicalEventJson } from '../../src/integrity/canonical-json.js';
import { fromTextColumns } from '../../src/store/postgres/postgres-event-store.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { EVENT_COLUMNS, SqliteEventStore, fromColumns } from '../../src/store/sqlite/sqlite-event-store.js';
import { toRow } from '../../src/store/sqlite/sqlite-event-rows.js';
import { sampleEvent } from './sample-events.js';

/** The reference: the event the store decodes, through the generic canonical JSON (or its error). */
function reference(codec: ColumnCodec, values: readonly unknown[]): string | Error {
  try {
    const e: AuditEvent = codec === 'sqlite' ? fromColumns(values) : fromTextColumns(values);
    return canonicalEventJson(e);
  } catch (err) {
    return err as Error;
  }
}

/** The specialised serializer must give the reference's bytes, or hand the row to the reference. */
function expectSameAsReference(codec: ColumnCodec, values: readonly unknown[]): boolean {
  const fast = new CanonicalColumns(codec).fast(values);
  if (fast === null) return false;
  expect(fast).toBe(reference(codec, values));
  return true;
}

/** A sample event's columns as the store reads them. */
function sqliteColumns(e: AuditEvent): unknown[] {
  return toRow(e).slice(1);
}
function postgresColumns(e: AuditEvent): unknown[] {
  return AUDIT_EVENT_FIELDS.map((f) => {
    const v = e[f];
    if (JSON_FIELDS.has(f)) return JSON.stringify(v);
    if (typeof v === 'number' && Number.isInteger(v) && f !== 'latency_ms') return String(v);
    return v;
  });
}

const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('\ud800', 'a\udc00b', '\u2028\u2029', '\u0000\u001f\u007f', '"\\/', '😀', 'é', ''),
);
const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 1e-7, 5e-324, Number.MAX_SAFE_INTEGER + 2, NaN, Infinity, -Infinity),
);
const jsonText = fc.oneof(
  fc.constantFrom(
    '[]',
    '[{"type":"email","count":1}]',
    '[{"count":1,"type":"email"}]',
    '[{"type": "email", "count": 1}, {"type": "phone", "count": 2}]',
    '[{"type":"email","count":1,"x":2}]',
    '[{"type":"\\ud800","count":1}]',
    '["\\ud800"]',
    '["a","b"]',
    '[1]',
    '[[]]',
    'null',
    '{}',
    '5',
    '"x"',
    'not json',
    '[{"type":"a","count":1e400}]',
    '[{"type":"a","count":-0}]',
  ),
  fc
    .array(fc.record({ type: hostileString, count: hostileNumber }), { maxLength: 3 })
    .map((a) => JSON.stringify(a)),
  fc.array(hostileString, { maxLength: 3 }).map((a) => JSON.stringify(a)),
);
const anyValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constantFrom(0, 1, 2, '1', 'true'),
  jsonText,
  fc.constant(Buffer.from('blob')),
  fc.bigInt(),
);

/** A real event's columns with some replaced by hostile values. */
const hostileRow = (codec: ColumnCodec): fc.Arbitrary<unknown[]> =>
  fc
    .tuple(
      fc.nat(1000),
      fc.array(fc.tuple(fc.nat(AUDIT_EVENT_FIELDS.length - 1), anyValue), { minLength: 1, maxLength: 6 }),
    )
    .map(([i, changes]) => {
      const row = (codec === 'sqlite' ? sqliteColumns : postgresColumns)(sampleEvent(i));
      for (const [col, v] of changes) row[col] = v;
      return row;
    });

describe('canonical JSON from columns (canonical-columns.ts)', () => {
  for (const codec of ['sqlite', 'postgres'] as const) {
    it(`${codec}: is byte-identical to the generic canonical form over hostile values`, () => {
      let fastRows = 0;
      fc.assert(
        fc.property(hostileRow(codec), (row) => {
          if (expectSameAsReference(codec, row)) fastRows++;
        }),
        { numRuns: 3000 },
      );
      // Most hostile rows are still written on the fast path (the property is not vacuous).
      expect(fastRows).toBeGreaterThan(300);
    });

    it(`${codec}: writes every ordinary event on the fast path, later fields absent while null`, () => {
      for (let i = 0; i < 200; i++) {
        const e = sampleEvent(i);
        if (i % 3 === 0) e.cache_write_tokens = i;
        if (i % 4 === 0) e.provider_key_id = `pk_${i}`;
        if (i % 5 === 0) e.redactions = [];
        if (i % 7 === 0) e.threat_indicators = ['prompt_injection', 'é😀'];
        const row = codec === 'sqlite' ? sqliteColumns(e) : postgresColumns(e);
        expect(expectSameAsReference(codec, row)).toBe(true);
        expect(new CanonicalColumns(codec).fast(row)).toBe(canonicalEventJson(e));
      }
    });
  }

  it('sqlite: is identical for rows as SQLite stores and returns them (type affinity, UTF-8)', async () => {
    const db = openSqlite(':memory:');
    const store = new SqliteEventStore(db);
    const events: AuditEvent[] = [];
    const strings = ['\ud800x', 'a\u2028b', '😀', '\u0000', 'é', '"q"'];
    for (let i = 0; i < 60; i++) {
      const e = sampleEvent(i);
      e.prompt = strings[i % strings.length]!;
      e.latency_ms = [-0, 1e21, 0.1 + 0.2, 5e-324, 12][i % 5]!;
      e.redactions = i % 2 === 0 ? [{ type: strings[i % strings.length]!, count: i }] : [];
      events.push(e);
    }
    await store.append(events);
    const rows = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY rowid_`).raw().all() as unknown[][];
    // Values a tamperer may leave in the file: text in an integer column, a real in a boolean one.
    rows[1]![AUDIT_EVENT_FIELDS.indexOf('seq')] = 'seven';
    rows[2]![AUDIT_EVENT_FIELDS.indexOf('stream')] = 0.5;
    rows[3]![AUDIT_EVENT_FIELDS.indexOf('redactions')] = 17;
    let fast = 0;
    for (const row of rows) if (expectSameAsReference('sqlite', row)) fast++;
    // Every sixth row has a redaction type with a lone surrogate in its JSON text: the reference's.
    expect(fast).toBe(50);
    await store.close();
  });
});
