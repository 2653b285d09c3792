import type { Alert, AlertDelivery, AlertEvidence, AlertSubject, Severity } from '../alerting/alert.js';
import { SEVERITIES } from '../alerting/alert.js';

/**
 * An `alerts` row as SQLite and PostgreSQL return it (same columns): times are epoch ms (bigint
 * comes back from PostgreSQL as a string), deliveries are JSON text (SQLite) or parsed jsonb.
 */
export interface AlertRow {
  id: string;
  rule_id: string;
  severity: string;
  subject_kind: string;
  subject_value: string;
  title: string;
  description: string;
  evidence: string;
  first_seen_ms: number | string;
  last_seen_ms: number | string;
  count: number;
  status: string;
  acknowledged_by: string | null;
  acknowledged_at_ms: number | string | null;
  deliveries: string | AlertDelivery[];
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

/** The alert a stored row holds (an unknown severity reads as LOW, an unknown status as open). */
export function alertFromRow(row: AlertRow): Alert {
  return {
    id: row.id,
    rule_id: row.rule_id,
    severity: (SEVERITIES as readonly string[]).includes(row.severity) ? (row.severity as Severity) : 'LOW',
    subject: { kind: row.subject_kind as AlertSubject['kind'], value: row.subject_value },
    title: row.title,
    description: row.description,
    evidence: JSON.parse(row.evidence) as AlertEvidence,
    first_seen: iso(row.first_seen_ms),
    last_seen: iso(row.last_seen_ms),
    count: row.count,
    status: row.status === 'acknowledged' ? 'acknowledged' : 'open',
    acknowledged_by: row.acknowledged_by,
    acknowledged_at: row.acknowledged_at_ms === null ? null : iso(row.acknowledged_at_ms),
    deliveries:
      typeof row.deliveries === 'string' ? (JSON.parse(row.deliveries) as AlertDelivery[]) : row.deliveries,
  };
}
