/**
 * The canonical JSON of a stored event (canonical-json.ts) written by SQLite itself, for `verify`'s
 * worker threads: turning a row's 62 columns into JavaScript values costs more than hashing it
 * (~0.2 µs per column, even for NULL: bench/verify.bench.ts), so the SELECT writes the event as one
 * `json_object` in RFC 8785 key order and only the chain links and the two JSON columns come back
 * as values. Measured on the bench store: 13 µs per row to read and 3.6 µs to finish, against
 * 21 µs to read the columns and 11 µs to serialize them (CanonicalColumns), under the same load.
 *
 * Why the text is the reference's, or the row takes the reference:
 * - TEXT is written with `json_quote`'s escaping, which is JSON.stringify's for every well-formed
 *   string (checked for every code point in the property test); INTEGER as its exact decimal.
 * - The REAL columns with an integral value are cast to INTEGER (ECMAScript writes 80, SQLite
 *   80.0); other doubles in SQLite's round-trip form. Where SQLite writes a number otherwise than
 *   ECMAScript (1.0e+21, an integer past 2^53), the hash differs and the caller reads the row the
 *   slow way: the bytes only ever equal the reference's when the values do (the property test
 *   stores hostile rows and compares).
 * - Booleans as the store decodes them (NULL, 1 true, anything else false).
 * - A BLOB anywhere makes `json_object` fail: the caller reads the segment the slow way.
 * - The JSON columns are spliced in here (their entries re-ordered as canonical-columns.ts does).
 * - The later fields, absent while null: left out by SQLite when all are null (the usual row),
 *   else written and their `,"field":null` removed here (a `"` inside a JSON string is always
 *   escaped, so the pattern only matches a key).
 */
import { LATER_NULLABLE_FIELDS, isLaterNullableField } from '../core/audit-event.js';
import { JsonColumnCache, NOT_FAST, canonicalRedactions, canonicalStringList } from './canonical-columns.js';
import { HASHED_FIELDS } from './canonical-json.js';

/** REAL columns: an integral value is written as an integer, as ECMAScript does. */
const REAL_FIELDS: ReadonlySet<string> = new Set(['latency_ms', 'queue_time_ms', 'upstream_latency_ms']);
/** Placeholder of a JSON column in the object, replaced here. */
const PLACEHOLDER = '0';

function argument(f: string): string {
  if (f === 'stream' || f === 'is_anomalous')
    return `CASE WHEN ${f} IS NULL THEN NULL WHEN ${f} = 1 THEN json('true') ELSE json('false') END`;
  if (REAL_FIELDS.has(f))
    return `CASE WHEN ${f} = CAST(${f} AS INTEGER) THEN CAST(${f} AS INTEGER) ELSE ${f} END`;
  if (f === 'redactions' || f === 'threat_indicators') return PLACEHOLDER;
  return f;
}

const object = (fields: readonly string[]): string =>
  `json_object(${fields.map((f) => `'${f}', ${argument(f)}`).join(', ')})`;
const allLaterNull = `coalesce(${LATER_NULLABLE_FIELDS.join(', ')}) IS NULL`;

/** Columns of a row of CANONICAL_SQL_COLUMNS. */
export const SQL_SEQ = 0;
export const SQL_CHAIN_ID = 1;
export const SQL_HASH = 2;
export const SQL_PREV_HASH = 3;
export const SQL_HTTP_METHOD = 4;
const SQL_REDACTIONS = 5;
const SQL_THREATS = 6;
const SQL_OBJECT = 7;
const SQL_LATER_NULL = 8;

/** The SELECT list of `SqliteCanonicalRows.json` (the columns named in SQL_* above, in order). */
export const CANONICAL_SQL_COLUMNS = [
  'seq, chain_id, hash, prev_hash, http_method, redactions, threat_indicators',
  `CASE WHEN ${allLaterNull} THEN ${object(HASHED_FIELDS.filter((f) => !isLaterNullableField(f)))} ELSE ${object(HASHED_FIELDS)} END`,
  allLaterNull,
].join(',\n  ');

const LATER_NULL_KEYS = new RegExp(`,"(?:${LATER_NULLABLE_FIELDS.join('|')})":null`, 'g');
const REDACTIONS_KEY = `,"redactions":${PLACEHOLDER},`;
const THREATS_KEY = `,"threat_indicators":${PLACEHOLDER},`;

const jsonText = (v: unknown): unknown => (v === NOT_FAST ? NOT_FAST : JSON.stringify(v));

/** Finishes the canonical JSON of rows read with CANONICAL_SQL_COLUMNS; one per reading thread. */
export class SqliteCanonicalRows {
  // A JSON column's text → its canonical JSON text (the same few texts repeat).
  private readonly redactions = new JsonColumnCache((v) => jsonText(canonicalRedactions(v)));
  private readonly threats = new JsonColumnCache((v) => jsonText(canonicalStringList(v)));

  /** The canonical JSON of the row's event, or null: the caller reads that row the slow way. */
  json(row: readonly unknown[]): string | null {
    const object = row[SQL_OBJECT];
    if (typeof object !== 'string') return null;
    const s = row[SQL_LATER_NULL] === 1 ? object : object.replace(LATER_NULL_KEYS, '');
    const redactions = this.column(row[SQL_REDACTIONS], this.redactions);
    const threats = this.column(row[SQL_THREATS], this.threats);
    if (typeof redactions !== 'string' || typeof threats !== 'string') return null;
    // The first occurrence is the key: a string value cannot hold an unescaped `"`.
    const r = s.indexOf(REDACTIONS_KEY);
    const t = s.indexOf(THREATS_KEY, r);
    if (r < 0 || t < 0) return null;
    return (
      s.slice(0, r + REDACTIONS_KEY.length - 2) +
      redactions +
      s.slice(r + REDACTIONS_KEY.length - 1, t + THREATS_KEY.length - 2) +
      threats +
      s.slice(t + THREATS_KEY.length - 1)
    );
  }

  /** As the store decodes a JSON column: a value that is not text is []. */
  private column(v: unknown, cache: JsonColumnCache): unknown {
    return typeof v !== 'string' || v === '[]' ? '[]' : cache.get(v);
  }
}
