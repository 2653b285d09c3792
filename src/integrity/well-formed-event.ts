/**
 * Well-formed Unicode for the hashed form of an event.
 *
 * A JS string may hold a lone surrogate (`"x\ud800y"` parsed from a client's JSON body). The
 * stores cannot keep one: SQLite and PostgreSQL receive UTF-8, where a lone surrogate becomes
 * U+FFFD, while JSON.stringify (and so RFC 8785) writes it as the escape `\ud800`. Hashing the
 * in-memory string would therefore hash something the store never holds, and `verify` would
 * report the event as modified forever. The canonical form is defined over well-formed strings
 * (each lone surrogate replaced with U+FFFD, as the UTF-8 encoder does), which is exactly what
 * the store gives back.
 */
import type { AuditEvent } from '../core/audit-event.js';

/**
 * Replaces every lone surrogate in the event's strings (including string lists and redaction
 * types) with U+FFFD, in place, so the event in memory, the hashed form and the stored row agree.
 * Returns the event.
 */
export function makeEventWellFormed(event: AuditEvent): AuditEvent {
  const record = event as unknown as Record<string, unknown>;
  for (const k in record) {
    const v = record[k];
    if (typeof v === 'string') {
      if (!v.isWellFormed()) record[k] = v.toWellFormed();
    } else if (typeof v === 'object' && v !== null && !isWellFormedValue(v)) {
      record[k] = wellFormedValue(v);
    }
  }
  return event;
}

/** True when no string in the value (deeply) holds a lone surrogate. */
export function isWellFormedValue(v: unknown): boolean {
  if (typeof v === 'string') return v.isWellFormed();
  if (Array.isArray(v)) return v.every(isWellFormedValue);
  if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) if (!k.isWellFormed() || !isWellFormedValue(x)) return false;
  }
  return true;
}

/** A copy of the value (deeply) whose strings and keys are well-formed; other values as they are. */
export function wellFormedValue(v: unknown): unknown {
  if (typeof v === 'string') return v.isWellFormed() ? v : v.toWellFormed();
  if (Array.isArray(v)) return v.map(wellFormedValue);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k.toWellFormed()] = wellFormedValue(x);
    return out;
  }
  return v;
}
