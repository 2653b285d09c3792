import type { Alert, AlertDelivery } from './alert.js';
import { matchesAlertFilter } from './alert-filter.js';
import type { AlertFilter, AlertStore } from './alert-store.js';

/** Alerts kept in memory (tests, `tollgate demo`, and the SDK without a database). Copies in and out. */
export class MemoryAlertStore implements AlertStore {
  private readonly alerts = new Map<string, Alert>();

  async upsert(alert: Alert): Promise<void> {
    const stored = this.alerts.get(alert.id);
    if (!stored) {
      this.alerts.set(alert.id, structuredClone(alert));
      return;
    }
    stored.severity = alert.severity;
    stored.title = alert.title;
    stored.description = alert.description;
    stored.evidence = structuredClone(alert.evidence);
    stored.last_seen = alert.last_seen;
    stored.count = alert.count;
  }

  async list(filter: AlertFilter = {}): Promise<Alert[]> {
    const out = [...this.alerts.values()]
      .filter((a) => matchesAlertFilter(a, filter))
      .sort((a, b) => Date.parse(b.last_seen) - Date.parse(a.last_seen) || (a.id < b.id ? 1 : -1));
    return structuredClone(filter.limit === undefined ? out : out.slice(0, filter.limit));
  }

  async get(id: string): Promise<Alert | null> {
    const a = this.alerts.get(id);
    return a ? structuredClone(a) : null;
  }

  async acknowledge(id: string, by: string, atMs: number): Promise<Alert | null> {
    const a = this.alerts.get(id);
    if (!a) return null;
    a.status = 'acknowledged';
    a.acknowledged_by = by;
    a.acknowledged_at = new Date(atMs).toISOString();
    return structuredClone(a);
  }

  async recordDelivery(id: string, delivery: AlertDelivery): Promise<void> {
    const a = this.alerts.get(id);
    if (!a) return;
    a.deliveries = [...a.deliveries.filter((d) => d.sink !== delivery.sink), { ...delivery }];
  }
}
