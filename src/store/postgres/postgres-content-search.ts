/**
 * Full-text search over the shared PostgreSQL store: `to_tsvector('simple', …)` of the stored
 * (redacted) content and the text fields, matched with a `websearch_to_tsquery` per term and read
 * inside the time window (partitions outside it are pruned). There is no full-text index: a
 * search's cost grows with the events in its window (the dashboard's default is 24 hours), and
 * the write path of every replica pays nothing.
 */
import type pg from 'pg';
import type { AuditEvent } from '../../core/audit-event.js';
import {
  SEARCHABLE_CONTENT_MODES,
  searchTerms,
  type ContentSearch,
  type SearchQuery,
} from '../content-search.js';
import { fromRow } from './postgres-event-store.js';

const DOCUMENT = `to_tsvector('simple',
  CASE WHEN content_mode IN (${SEARCHABLE_CONTENT_MODES.map((m) => `'${m}'`).join(', ')})
       THEN coalesce(prompt, '') || ' ' || coalesce(response, '') ELSE '' END
  || ' ' || concat_ws(' ', user_id, session_id, feature_name, model_requested, model_used, api_key_prefix,
                      virtual_key_id, request_id, ip_address, error_code, error_message))`;

/** Search of one PostgreSQL schema's events. */
export class PostgresContentSearch implements ContentSearch {
  /** `schemaSql` is the quoted schema name, as the event store uses it. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly schemaSql: string,
  ) {}

  async search(q: SearchQuery): Promise<AuditEvent[]> {
    const terms = searchTerms(q.text);
    if (terms.length === 0) return [];
    const params: unknown[] = [];
    const conds: string[] = [];
    for (const t of terms) {
      params.push(`"${t}"`);
      // A quoted websearch term is a phrase of its words (user text is never query syntax).
      conds.push(`${DOCUMENT} @@ websearch_to_tsquery('simple', $${params.length})`);
    }
    if (q.sinceMs !== undefined) {
      params.push(new Date(q.sinceMs).toISOString());
      conds.push(`ts >= $${params.length}::timestamptz`);
    }
    if (q.untilMs !== undefined) {
      params.push(new Date(q.untilMs).toISOString());
      conds.push(`ts < $${params.length}::timestamptz`);
    }
    const limit = Math.max(1, Math.min(500, Math.floor(q.limit)));
    const res = await this.pool.query(
      `SELECT * FROM ${this.schemaSql}.events WHERE ${conds.join(' AND ')} ORDER BY ts DESC, cursor_ DESC LIMIT ${limit}`,
      params,
    );
    return res.rows.map(fromRow);
  }
}
