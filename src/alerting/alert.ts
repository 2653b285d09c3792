/**
 * An alert raised by the detection engine. One incident is one alert: while it continues the
 * engine updates `count`, `last_seen` and the evidence instead of raising new ones.
 * Alerts carry ids and figures only, never prompt content, secrets or raw keys.
 */
import { newEventId } from '../core/ids.js';

/** Alert severities, lowest first. */
export type Severity = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export const SEVERITIES: readonly Severity[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/** Orders severities: LOW 0 … CRITICAL 3. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Parses a severity name case-insensitively; null when it is not one. */
export function parseSeverity(text: string): Severity | null {
  const upper = text.toUpperCase();
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : null;
}

/** What an alert is about, e.g. `{kind: 'ip', value: '203.0.113.7'}` or `{kind: 'api_key', value: <fingerprint>}`. */
export interface AlertSubject {
  kind: 'api_key' | 'ip' | 'user' | 'model' | 'session' | 'budget' | 'instance';
  value: string;
}

/** The numbers behind an alert: what was seen, what was expected, where the line was. */
export interface AlertFigures {
  observed: number;
  baseline: number | null;
  threshold: number;
  /** Length of the window the figures cover, in ms (0 for single-event rules). */
  window_ms: number;
  /** Unit of observed/baseline/threshold, e.g. `requests`, `tokens`, `failures`, `micro_usd`, `ratio`. */
  unit: string;
}

export interface AlertEvidence {
  /** Ids of the events that fired the rule, oldest first, capped (see `evidence_truncated`). */
  event_ids: string[];
  /** True once more events fired than `event_ids` holds. */
  evidence_truncated: boolean;
  /** Figures at the latest firing. */
  figures: AlertFigures;
  /** Highest `observed` over the incident. */
  peak_observed: number;
}

export type AlertStatus = 'open' | 'acknowledged';

/** Outcome of sending one alert to one sink. */
export interface AlertDelivery {
  /** The sink's name; `<sink>:resolved` for the notice that the incident ended (see `deliveryName`). */
  sink: string;
  status: 'pending' | 'delivered' | 'failed' | 'dropped';
  attempts: number;
  /** A short reason code (`http_503`, `timeout`, `network`, `queue_full`), never a response body. */
  last_error: string | null;
  /** ISO-8601 UTC. */
  updated_at: string;
}

export interface Alert {
  /** UUIDv7. */
  id: string;
  rule_id: string;
  severity: Severity;
  subject: AlertSubject;
  title: string;
  description: string;
  evidence: AlertEvidence;
  /** ISO-8601 UTC of the first and latest firing. */
  first_seen: string;
  last_seen: string;
  /** Number of events that fired the rule in this incident. */
  count: number;
  status: AlertStatus;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  deliveries: AlertDelivery[];
}

/** What differs between newly raised alerts; `newAlert` fills in the rest. */
export interface NewAlert {
  rule_id: string;
  severity: Severity;
  subject: AlertSubject;
  title: string;
  description: string;
  figures: AlertFigures;
  /** The events that fired it (none for alerts about the gateway itself, such as a lockout). */
  eventIds?: string[];
}

/** An open, unacknowledged alert first seen at `atMs`, fired once, peaking at its observed figure. */
export function newAlert(a: NewAlert, atMs: number): Alert {
  const at = new Date(atMs).toISOString();
  return {
    id: newEventId(atMs),
    rule_id: a.rule_id,
    severity: a.severity,
    subject: a.subject,
    title: a.title,
    description: a.description,
    evidence: {
      event_ids: a.eventIds ?? [],
      evidence_truncated: false,
      figures: a.figures,
      peak_observed: a.figures.observed,
    },
    first_seen: at,
    last_seen: at,
    count: 1,
    status: 'open',
    acknowledged_by: null,
    acknowledged_at: null,
    deliveries: [],
  };
}

/**
 * Why `onAlert` is called: a new incident, more of the same, the same incident at a higher
 * severity, or the incident is over (`resolved`: for incidents with a definite end, such as a
 * Redis outage, so whoever was paged for it is told; sent to the sinks like `new`).
 */
export type AlertChange = 'new' | 'updated' | 'escalated' | 'resolved';

/**
 * The name a delivery is recorded under on the alert (`Alert.deliveries[].sink`): the sink's name,
 * and `<sink>:resolved` for the resolved notice, so it does not replace the record of the page.
 */
export function deliveryName(sink: string, change: AlertChange): string {
  return change === 'resolved' ? `${sink}:resolved` : sink;
}
