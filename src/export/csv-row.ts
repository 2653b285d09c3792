import { AUDIT_EVENT_FIELDS, type AuditEvent } from '../core/audit-event.js';

/** RFC 4180 §2: records end with CRLF. */
export const CSV_EOL = '\r\n';

// OWASP "CSV Injection": a cell a spreadsheet reads as a formula starts with = + - @ (or a tab or
// CR that some spreadsheets skip before one). Such text cells get a leading apostrophe, which
// spreadsheets show as plain text.
const FORMULA_START = /^[=+\-@\t\r]/;

/** The header row: the wire-format field names, in schema order. */
export function csvHeader(): string {
  return AUDIT_EVENT_FIELDS.join(',');
}

/** One event as one CSV record (without the line end). */
export function csvRow(event: AuditEvent): string {
  let out = '';
  for (let i = 0; i < AUDIT_EVENT_FIELDS.length; i++) {
    if (i > 0) out += ',';
    out += csvCell(event[AUDIT_EVENT_FIELDS[i]!]);
  }
  return out;
}

/**
 * One cell: null is empty, numbers and booleans as written, lists and objects as JSON, text
 * neutralised against formulas. RFC 4180 §2.6–2.7: a cell with a comma, quote, CR or LF is quoted,
 * and quotes inside are doubled.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
