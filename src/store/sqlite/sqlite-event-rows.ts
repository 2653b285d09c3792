/**
 * An audit event as a row of the SQLite `events` table and back: booleans as 0/1, the JSON
 * fields as text, `ts_ms` beside the ISO timestamp. The store writes with toRow and reads with
 * fromRow (row objects) or fromColumns (`.raw()` arrays, which verify reads a chain with).
 */
import type { AuditEvent } from '../../core/audit-event.js';
import { AUDIT_EVENT_FIELDS, BOOLEAN_FIELDS as BOOL_FIELDS, JSON_FIELDS } from '../../core/audit-event.js';

const KIND_PLAIN = 0;
const KIND_JSON = 1;
const KIND_BOOL = 2;
/** Each field's conversion, looked up once rather than twice per field and event. */
const FIELD_KINDS = AUDIT_EVENT_FIELDS.map((f) =>
  JSON_FIELDS.has(f) ? KIND_JSON : BOOL_FIELDS.has(f) ? KIND_BOOL : KIND_PLAIN,
);

/** The insert parameters of an event: `ts_ms`, then AUDIT_EVENT_FIELDS in order. */
export function toRow(e: AuditEvent): unknown[] {
  const row: unknown[] = new Array(AUDIT_EVENT_FIELDS.length + 1);
  row[0] = Date.parse(e.timestamp);
  for (let i = 0; i < AUDIT_EVENT_FIELDS.length; i++) {
    const v = e[AUDIT_EVENT_FIELDS[i]!];
    const kind = FIELD_KINDS[i];
    if (kind === KIND_JSON) row[i + 1] = Array.isArray(v) && v.length === 0 ? '[]' : JSON.stringify(v);
    else if (kind === KIND_BOOL) row[i + 1] = v === null ? null : v ? 1 : 0;
    else row[i + 1] = v;
  }
  return row;
}

/** How each column of AUDIT_EVENT_FIELDS is decoded: 0 as is, 1 JSON, 2 boolean. */
const COLUMN_KINDS: readonly number[] = AUDIT_EVENT_FIELDS.map((f) =>
  JSON_FIELDS.has(f) ? 1 : BOOL_FIELDS.has(f) ? 2 : 0,
);

/** `SELECT` list of the event columns in AUDIT_EVENT_FIELDS order, for `fromColumns`. */
export const EVENT_COLUMNS = AUDIT_EVENT_FIELDS.join(', ');

/**
 * The event of a row read with `.raw()` over EVENT_COLUMNS (the same values as fromRow): arrays
 * cost less to read than row objects (verify reads a whole chain this way).
 */
export function fromColumns(values: readonly unknown[]): AuditEvent {
  const e: Record<string, unknown> = {};
  for (let i = 0; i < COLUMN_KINDS.length; i++) {
    const v = values[i];
    const kind = COLUMN_KINDS[i];
    e[AUDIT_EVENT_FIELDS[i]!] =
      kind === 1
        ? typeof v === 'string'
          ? JSON.parse(v)
          : []
        : kind === 2
          ? v === null || v === undefined
            ? null
            : v === 1
          : (v ?? null);
  }
  return e as unknown as AuditEvent;
}

/** Rebuilds the wire form, with every field, from a stored row. */
export function fromRow(row: Record<string, unknown>): AuditEvent {
  const e: Record<string, unknown> = {};
  for (const f of AUDIT_EVENT_FIELDS) {
    const v = row[f];
    if (JSON_FIELDS.has(f)) e[f] = typeof v === 'string' ? JSON.parse(v) : [];
    else if (BOOL_FIELDS.has(f)) e[f] = v === null || v === undefined ? null : v === 1;
    else e[f] = v ?? null;
  }
  return e as unknown as AuditEvent;
}
