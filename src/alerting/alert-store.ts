import type { Alert, AlertDelivery, AlertStatus, Severity } from './alert.js';

/** Filters of `tollgate alerts`; all optional, combined with AND. */
export interface AlertFilter {
  /** Alerts active at or after this time: `last_seen >= sinceMs` (epoch ms). */
  sinceMs?: number;
  /** Alerts that started before this time: `first_seen < untilMs` (epoch ms). */
  untilMs?: number;
  /** This severity or higher (`--severity HIGH` lists HIGH and CRITICAL). */
  minSeverity?: Severity;
  ruleId?: string;
  status?: AlertStatus;
  /** Newest `last_seen` first; at most this many. */
  limit?: number;
}

/**
 * Storage of alerts. Implementations: memory (`memory-alert-store.ts`), SQLite
 * (`store/sqlite/sqlite-alerts.ts`), PostgreSQL (`store/postgres/postgres-alerts.ts`); all pass
 * `alert-store.contract.ts`.
 */
export interface AlertStore {
  /**
   * Inserts the alert or updates the incident fields (severity, title, description, evidence,
   * last_seen, count) of the stored one. Never changes status, acknowledgement or deliveries.
   */
  upsert(alert: Alert): Promise<void>;
  /** Matching alerts, newest `last_seen` first. */
  list(filter?: AlertFilter): Promise<Alert[]>;
  get(id: string): Promise<Alert | null>;
  /** Marks the alert acknowledged; returns it, or null when no alert has this id. */
  acknowledge(id: string, by: string, atMs: number): Promise<Alert | null>;
  /** Records (replaces) the delivery status of the alert for `delivery.sink`; no-op for unknown ids. */
  recordDelivery(id: string, delivery: AlertDelivery): Promise<void>;
}
