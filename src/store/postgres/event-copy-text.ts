import type { AuditEvent, AuditEventField } from '../../core/audit-event.js';
import { AUDIT_EVENT_FIELDS } from '../../core/audit-event.js';

/** Characters the COPY text format escapes (PostgreSQL docs, COPY "Text Format"). */
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : s;
}

function cell(v: unknown, json: boolean): string {
  if (json) return escapeText(JSON.stringify(v ?? []));
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '\\N';
  return escapeText(typeof v === 'string' ? v : JSON.stringify(v));
}

/**
 * Events as COPY text-format rows, columns `ts` then every wire field in AUDIT_EVENT_FIELDS order
 * (`ts` is the event's `timestamp` string, which PostgreSQL parses as timestamptz). COPY is the
 * cheapest way into PostgreSQL: its text parser costs the server about half of what
 * json_to_recordset or array parameters cost per row (bench/postgres.bench.ts).
 */
export function* eventsAsCopyText(
  events: readonly AuditEvent[],
  jsonFields: ReadonlySet<AuditEventField>,
  rowsPerChunk = 500,
): Generator<string> {
  let out = '';
  let n = 0;
  for (const e of events) {
    let line = escapeText(e.timestamp);
    for (const f of AUDIT_EVENT_FIELDS) line += `\t${cell(e[f], jsonFields.has(f))}`;
    out += `${line}\n`;
    if (++n === rowsPerChunk) {
      yield out;
      out = '';
      n = 0;
    }
  }
  if (out) yield out;
}
