/**
 * canonical-sql.ts: the canonical JSON SQLite writes for verify's workers is the reference's bytes,
 * or a text that can never be a hash input (not canonical JSON: the row's hash then differs and
 * the worker reads it the slow way), or null / a failed statement (read the slow way). Checked over
 * hostile rows as SQLite stores them (type affinity, invalid UTF-8, BLOBs, any double anywhere).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AUDIT_EVENT_FIELDS } from '../../src/core/audit-event.js';
import { canonicalEventJson, canonicalize } from '../../src/integrity/canonical-json.js';
import { CANONICAL_SQL_COLUMNS, SqliteCanonicalRows } from '../../src/integrity/canonical-sql.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { EVENT_COLUMNS, SqliteEventStore, fromColumns } from '../../src/store/sqlite/sqlite-event-store.js';
import { toRow } from '../../src/store/sqlite/sqlite-event-rows.js';
import { sampleEvent } from './sample-events.js';

function openTable(): { db: ReturnType<typeof openSqlite>; store: SqliteEventStore } {
  const db = openSqlite(':memory:');
  return { db, store: new SqliteEventStore(db) };
}

/** The reference bytes of a stored row, or its error. */
function reference(values: readonly unknown[]): string | Error {
  try {
    return canonicalEventJson(fromColumns(values));
  } catch (err) {
    return err as Error;
  }
}

type Outcome = 'same' | 'slow';

/** Inserts `row` (AUDIT_EVENT_FIELDS order) as is and compares the SQL bytes with the reference. */
function compare(
  db: ReturnType<typeof openSqlite>,
  sql: SqliteCanonicalRows,
  row: readonly unknown[],
): Outcome {
  db.prepare('DELETE FROM events').run();
  db.prepare(
    `INSERT INTO events (ts_ms, ${EVENT_COLUMNS}) VALUES (0, ${AUDIT_EVENT_FIELDS.map(() => '?').join(', ')})`,
  ).run(...row);
  const values = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events`).raw().get() as unknown[];
  let json: string | null;
  try {
    json = sql.json(db.prepare(`SELECT ${CANONICAL_SQL_COLUMNS} FROM events`).raw().get() as unknown[]);
  } catch {
    return 'slow'; // A BLOB: the statement fails and the worker reads the segment's columns.
  }
  if (json === null) return 'slow';
  const ref = reference(values);
  if (json === ref) return 'same';
  // Any other text must not be canonical JSON, so that it can never equal a hashed form.
  let canonical: string | undefined;
  try {
    canonical = canonicalize(JSON.parse(json));
  } catch {
    canonical = undefined;
  }
  expect(
    canonical,
    `SQL wrote canonical JSON that is not the reference's: ${json} vs ${String(ref)}`,
  ).not.toBe(json);
  return 'slow';
}

/** A value better-sqlite3 binds (booleans as 0/1, bigints past int64 as text). */
function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v >= -(2n ** 63n) && v < 2n ** 63n ? v : String(v);
  return v;
}

const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '\u2028\u2029',
    '\u0000\u001f\u007f',
    '"\\/',
    '😀',
    'é',
    '',
    'null',
    '0',
    ',"redactions":0,',
  ),
);
const anyValue = fc.oneof(
  fc.constant(null),
  hostileString,
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 1e-7, 5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 62, 80, 80.5, 0.1 + 0.2),
  fc.constantFrom(0, 1, 2, '1', 'true', 1.0, 0.5),
  fc.constantFrom(
    '[]',
    '[{"type":"email","count":1}]',
    '[{"count":1,"type":"email"}]',
    '["a","b"]',
    'null',
    'not json',
    '[{"type":"a","count":1e400}]',
  ),
  fc.constant(Buffer.from('blob')),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
);

describe('canonical JSON written by SQLite (canonical-sql.ts)', () => {
  it('is the reference bytes, or never canonical JSON, over hostile rows as SQLite stores them', () => {
    const { db } = openTable();
    const sql = new SqliteCanonicalRows();
    const seen: Record<Outcome, number> = { same: 0, slow: 0 };
    fc.assert(
      fc.property(
        fc.nat(1000),
        fc.array(fc.tuple(fc.nat(AUDIT_EVENT_FIELDS.length - 1), anyValue), { minLength: 1, maxLength: 6 }),
        (i, changes) => {
          const row = toRow(sampleEvent(i)).slice(1);
          for (const [col, v] of changes) row[col] = bindable(v);
          // The id is unique and NOT NULL in the table.
          row[AUDIT_EVENT_FIELDS.indexOf('id')] = `id-${i}`;
          seen[compare(db, sql, row)]++;
        },
      ),
      { numRuns: 3000 },
    );
    // Most hostile rows are still written by SQLite (the property is not vacuous).
    expect(seen.same).toBeGreaterThan(1000);
  });

  it('writes every ordinary event as the reference, later fields absent while null', () => {
    const { db } = openTable();
    const sql = new SqliteCanonicalRows();
    for (let i = 0; i < 300; i++) {
      const e: AuditEvent = sampleEvent(i);
      if (i % 3 === 0) e.cache_write_tokens = i;
      if (i % 4 === 0) e.provider_key_id = `pk_${i}`;
      if (i % 5 === 0) e.redactions = [];
      if (i % 6 === 0) e.unpriced_reason = 'no price';
      if (i % 7 === 0) e.threat_indicators = ['prompt_injection', 'é😀'];
      if (i % 8 === 0) e.latency_ms = i;
      if (i % 9 === 0) e.is_anomalous = true;
      e.prompt = ['\u2028', '😀 "q" \\', '\u0000\u001f', 'é', ',"redactions":0,', 'x'][i % 6]!;
      expect(compare(db, sql, toRow(e).slice(1))).toBe('same');
    }
  });

  it('reads text that is not UTF-8 as the column read does', () => {
    const { db } = openTable();
    const sql = new SqliteCanonicalRows();
    const row = toRow(sampleEvent(1)).slice(1);
    for (const hex of ['ff', 'c3', 'eda080', 'f09f98', 'c328', '80', 'e2']) {
      db.prepare('DELETE FROM events').run();
      db.prepare(
        `INSERT INTO events (ts_ms, ${EVENT_COLUMNS}) VALUES (0, ${AUDIT_EVENT_FIELDS.map(() => '?').join(', ')})`,
      ).run(...row);
      db.prepare(
        `UPDATE events SET prompt = CAST(X'41${hex}' AS TEXT), team = CAST(X'${hex}' AS TEXT)`,
      ).run();
      const values = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events`).raw().get() as unknown[];
      const json = sql.json(
        db.prepare(`SELECT ${CANONICAL_SQL_COLUMNS} FROM events`).raw().get() as unknown[],
      );
      expect(json === null || json === reference(values)).toBe(true);
    }
  });
});
