/**
 * The canonical JSON of a stored event (canonical-json.ts) written by PostgreSQL itself, for
 * `verify`'s worker threads on a PostgreSQL store, as canonical-sql.ts does on SQLite: reading a
 * row's 62 columns through the driver and serializing them cost the client ~24 µs per event, the
 * server ~3.5; this text costs the client ~12–15 and the server ~15 (bench/verify.bench.ts
 * --postgres, docs/benchmarks.md "2026-12-07 evening: verify on PostgreSQL"): about the same CPU in
 * all, but the server's share runs in its own processes, one backend per worker, beside the
 * workers. The SELECT writes the event as one text in RFC 8785 key order and only the chain links
 * and the two JSON columns come back as values (finished by SqliteCanonicalRows, which splices
 * those in).
 *
 * Why the text is the reference's, or the row takes the reference:
 * - text is written with `to_json(text)`, whose escaping is JSON.stringify's for every string
 *   PostgreSQL can hold (valid UTF-8, no NUL): `\"`, `\\`, `\b \f \n \r \t`, other controls as
 *   lowercase `\u00xx`, nothing else escaped (checked in test/integrity/canonical-pg.test.ts).
 * - bigint as its exact decimal: the same as ECMAScript for every value up to 2^53; a larger one is
 *   written exactly by PostgreSQL and rounded by the reference, so the bytes differ.
 * - double precision as PostgreSQL's shortest round-trip text (`extra_float_digits = 1`, set by the
 *   reader's session: a lower setting rounds, and two doubles could then print alike, so the text
 *   is null unless the setting is at least 1); where it writes a number otherwise than ECMAScript
 *   (`1e+16`, `-0`, `NaN`, the last not JSON at all), the hash differs.
 * - Booleans as the store decodes them (true, false, null).
 * - The later fields are left out while null, as the reference does.
 * A row whose bytes differ from the reference fails its hash there and is checked from its columns
 * (postgres-segment-reader.ts), like an admin event: a row is only ever confirmed by the
 * reference's bytes, so the text is the reference's or is not canonical JSON at all (the test
 * stores hostile rows and compares).
 */
import {
  BOOLEAN_FIELDS,
  INTEGER_FIELDS,
  JSON_FIELDS,
  REAL_FIELDS,
  isLaterNullableField,
  type AuditEventField,
} from '../core/audit-event.js';
import { HASHED_FIELDS } from './canonical-json.js';

/** Placeholder of a JSON column in the text, replaced by SqliteCanonicalRows (canonical-sql.ts). */
const PLACEHOLDER = '0';

function value(f: string): string {
  const field = f as AuditEventField;
  if (JSON_FIELDS.has(field)) return `'${PLACEHOLDER}'`;
  if (BOOLEAN_FIELDS.has(field))
    return `CASE WHEN ${f} THEN 'true' WHEN NOT ${f} THEN 'false' ELSE 'null' END`;
  if (INTEGER_FIELDS.has(field) || REAL_FIELDS.has(field)) return `coalesce(${f}::text, 'null')`;
  return `coalesce(to_json(${f})::text, 'null')`;
}

if (isLaterNullableField(HASHED_FIELDS[0]!)) throw new Error('the first hashed field must always be present');
const TEXT = `${HASHED_FIELDS.map((f, i) => {
  const key = `'${i === 0 ? '{' : ','}"${f}":'`;
  return isLaterNullableField(f)
    ? `CASE WHEN ${f} IS NULL THEN '' ELSE ${key} || ${value(f)} END`
    : `${key} || ${value(f)}`;
}).join(' || ')} || '}'`;

/**
 * The SELECT list of a PostgreSQL row for SqliteCanonicalRows.json: the columns named by SQL_* in
 * canonical-sql.ts, in that order (the later fields are already left out: the last column is 1).
 */
export const CANONICAL_PG_COLUMNS = [
  'seq, chain_id, hash, prev_hash, http_method, redactions::text, threat_indicators::text',
  // No text in a session that rounds doubles (the reader sets 1; a pooler could hand it another).
  `CASE WHEN current_setting('extra_float_digits')::int >= 1 THEN ${TEXT} END`,
  '1',
].join(',\n  ');
