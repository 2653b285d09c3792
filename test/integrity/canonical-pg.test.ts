/**
 * canonical-pg.ts: the canonical JSON PostgreSQL writes for verify's workers is the reference's
 * bytes, or a text that can never be a hash input (not canonical JSON: the row's hash then differs
 * and the worker reads the segment's columns), or null (read as columns). Checked over hostile rows
 * as PostgreSQL stores them (typed columns, any double, bigints past 2^53, control characters).
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AUDIT_EVENT_FIELDS, JSON_FIELDS } from '../../src/core/audit-event.js';
import { CANONICAL_PG_COLUMNS } from '../../src/integrity/canonical-pg.js';
import { canonicalEventJson, canonicalize } from '../../src/integrity/canonical-json.js';
import { SqliteCanonicalRows } from '../../src/integrity/canonical-sql.js';
import {
  EVENT_TEXT_COLUMNS,
  PostgresEventStore,
  fromTextColumns,
} from '../../src/store/postgres/postgres-event-store.js';
import { postgresService, uniqueName } from '../support/services.js';
import { sampleEvent } from './sample-events.js';

const service = await postgresService();

type Outcome = 'same' | 'slow' | 'refused';

describe.skipIf(!service.available)('canonical JSON written by PostgreSQL (canonical-pg.ts)', () => {
  const schema = uniqueName('tg_h22v_canon');
  const t = `"${schema}".events`;
  let store: PostgresEventStore;
  let client: pg.Client;
  const finish = new SqliteCanonicalRows();

  beforeAll(async () => {
    store = await PostgresEventStore.open({ url: service.url, schema });
    client = new pg.Client({ connectionString: service.url });
    await client.connect();
    // As the verify worker's session (postgres-segment-reader.ts).
    await client.query('SET extra_float_digits = 1');
  });

  afterAll(async () => {
    await client?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client?.end();
    await store?.close();
  });

  /** The event's values as bind parameters (AUDIT_EVENT_FIELDS order; JSON columns as text). */
  const params = (e: AuditEvent): unknown[] =>
    AUDIT_EVENT_FIELDS.map((f) => (JSON_FIELDS.has(f) ? JSON.stringify(e[f]) : e[f]));

  /** Stores `row` as is and compares the server's bytes with the reference of the columns read back. */
  async function compare(row: readonly unknown[]): Promise<Outcome> {
    await client.query(`DELETE FROM ${t}`);
    try {
      await client.query(
        `INSERT INTO ${t} (ts, ${AUDIT_EVENT_FIELDS.join(', ')}) VALUES (now(), ${AUDIT_EVENT_FIELDS.map((_, i) => `$${i + 1}`).join(', ')})`,
        row as unknown[],
      );
    } catch {
      return 'refused'; // Not a value of the column's type (or a NUL): it cannot be stored.
    }
    const values = (
      await client.query<unknown[]>({ text: `SELECT ${EVENT_TEXT_COLUMNS} FROM ${t}`, rowMode: 'array' })
    ).rows[0]!;
    const sqlRow = (
      await client.query<unknown[]>({ text: `SELECT ${CANONICAL_PG_COLUMNS} FROM ${t}`, rowMode: 'array' })
    ).rows[0]!;
    const json = finish.json(sqlRow);
    if (json === null) return 'slow';
    let ref: string | Error;
    try {
      ref = canonicalEventJson(fromTextColumns(values));
    } catch (err) {
      ref = err as Error;
    }
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
      `PostgreSQL wrote canonical JSON that is not the reference's: ${json} vs ${String(ref)}`,
    ).not.toBe(json);
    return 'slow';
  }

  const hostileString = fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\u0000', '')),
    fc.constantFrom(
      '\u2028\u2029',
      '\u0001\u001f\u007f\b\f\n\r\t',
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
    fc.constantFrom(
      -0,
      1e21,
      1e16,
      1e15,
      1e-7,
      1e-5,
      5e-324,
      2 ** 53,
      2 ** 53 + 2,
      80,
      80.5,
      0.1 + 0.2,
      NaN,
      Infinity,
    ),
    fc.constantFrom('9007199254740993', '-9223372036854775808', '1e3', ' 7', '007'),
    fc.constantFrom(true, false, 't', 'f', 'yes'),
    fc.constantFrom(
      '[]',
      '[{"type":"email","count":1}]',
      '[{"count":1,"type":"email"}]',
      '["a","b"]',
      'null',
      '{}',
      '[{"type":"a","count":1e400}]',
      '[{"type":"a","count":1.0}]',
    ),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  );

  it('is the reference bytes, or never canonical JSON, over hostile rows as PostgreSQL stores them', async () => {
    const seen: Record<Outcome, number> = { same: 0, slow: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.nat(1000),
        fc.array(fc.tuple(fc.nat(AUDIT_EVENT_FIELDS.length - 1), anyValue), { minLength: 1, maxLength: 6 }),
        async (i, changes) => {
          const row = params(sampleEvent(i));
          for (const [col, v] of changes)
            row[col] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
          row[AUDIT_EVENT_FIELDS.indexOf('id')] = `id-${i}`;
          seen[await compare(row)]++;
        },
      ),
      { numRuns: 1500 },
    );
    // Most hostile rows are still written by PostgreSQL (the property is not vacuous).
    expect(seen.same).toBeGreaterThan(300);
  }, 120_000);

  it('writes every ordinary event as the reference, later fields absent while null', async () => {
    for (let i = 0; i < 200; i++) {
      const e: AuditEvent = sampleEvent(i);
      if (i % 3 === 0) e.cache_write_tokens = i;
      if (i % 4 === 0) e.provider_key_id = `pk_${i}`;
      if (i % 5 === 0) e.redactions = [];
      if (i % 6 === 0) e.unpriced_reason = 'no price';
      if (i % 7 === 0) e.threat_indicators = ['prompt_injection', 'é😀'];
      if (i % 8 === 0) e.latency_ms = i;
      if (i % 9 === 0) e.is_anomalous = true;
      if (i % 10 === 0) e.latency_ms = 0.1 + 0.2;
      e.prompt = ['\u2028', '😀 "q" \\', '\u0001\u001f', 'é', ',"redactions":0,', 'x'][i % 6]!;
      expect(await compare(params(e))).toBe('same');
    }
  }, 60_000);

  it('writes no text in a session that rounds doubles, and no JSON for a double that is not finite', async () => {
    const e = sampleEvent(3);
    e.latency_ms = 0.1 + 0.2;
    expect(await compare(params(e))).toBe('same');
    const text = async (): Promise<unknown> =>
      (await client.query<unknown[]>({ text: `SELECT ${CANONICAL_PG_COLUMNS} FROM ${t}`, rowMode: 'array' }))
        .rows[0]![7];
    expect(typeof (await text())).toBe('string');
    await client.query('SET extra_float_digits = 0');
    try {
      expect(await text()).toBeNull();
    } finally {
      await client.query('SET extra_float_digits = 1');
    }
    for (const v of ['NaN', 'Infinity', '-Infinity']) {
      await client.query(`UPDATE ${t} SET queue_time_ms = $1`, [v]);
      const written = await text();
      // Written as `NaN` / `Infinity`: not JSON, so never the bytes of a hashed form.
      expect(typeof written).toBe('string');
      expect(() =>
        JSON.parse(
          String(written)
            .replace(',"redactions":0,', ',"redactions":[],')
            .replace(',"threat_indicators":0,', ',"threat_indicators":[],'),
        ),
      ).toThrow();
    }
  });
});
