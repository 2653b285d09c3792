import type { AuditEvent } from '../core/audit-event.js';

/**
 * Search in what the store holds: the stored (already redacted) prompt and response, and the
 * event's text fields (user, session, feature, model, key prefix, request id, IP, error). Content
 * stored encrypted or not at all (`content_mode` `encrypted`/`none`) is never searched: what was
 * not stored in the clear cannot be found, and an erased person stays erased.
 */
export interface ContentSearch {
  /** Matching events, newest first. Every term must match (AND); a term matches a whole word. */
  search(q: SearchQuery): Promise<AuditEvent[]>;
}

export interface SearchQuery {
  /** Words to find; `"quoted words"` match as a phrase. */
  text: string;
  sinceMs?: number;
  untilMs?: number;
  limit: number;
}

/** Content modes whose stored prompt and response are plain text (redacted or full). */
export const SEARCHABLE_CONTENT_MODES = ['redacted', 'full'] as const;

/** At most this many terms per search (a query is user input). */
const MAX_TERMS = 12;

/**
 * The terms of a search text: `"quoted phrases"` and bare words, at most 12, each at most 100
 * characters, without characters a full-text query language would read as syntax.
 */
export function searchTerms(text: string): string[] {
  const terms: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|(\S+)/g)) {
    const t = (m[1] ?? m[2] ?? '')
      .replace(/[^\p{L}\p{N}_\-.:@/\s]/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 100);
    if (t !== '') terms.push(t);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}
