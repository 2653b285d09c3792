import type { AuditEvent } from '../core/audit-event.js';

/**
 * One event as one JSONL line (without the newline). JSON.stringify already escapes CR and LF
 * inside strings (RFC 8259 §7), so a value cannot start a new line; U+2028 and U+2029 are legal
 * raw in JSON but are line terminators to JavaScript and to some log tooling, so they are escaped too.
 */
export function jsonlLine(event: AuditEvent): string {
  return JSON.stringify(event).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}
