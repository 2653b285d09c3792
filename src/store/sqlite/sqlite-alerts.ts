import type Database from 'better-sqlite3';
import type { AlertDelivery } from '../../alerting/alert.js';
import { severityRank } from '../../alerting/alert.js';
import type { AlertFilter, AlertStore } from '../../alerting/alert-store.js';
import { TollgateError } from '../../core/errors.js';
import { alertFromRow as toAlert, type AlertRow } from '../alert-row.js';

/** Its own table beside `events`; created on first use. */
const SCHEMA = `CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  subject_kind TEXT NOT NULL,
  subject_value TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  evidence TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  status TEXT NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at_ms INTEGER,
  deliveries TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts(last_seen_ms);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule_id, last_seen_ms);`;

function wrap<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // The message carries the operation only; SQLite errors may quote values.
    throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'sqlite', table: 'alerts', op }, { cause: err });
  }
}

/**
 * AlertStore on a better-sqlite3 handle (the same database file as the events, own table).
 * Timestamps are stored as epoch ms so `--since` filters use the index.
 */
export function createSqliteAlertStore(db: Database.Database): AlertStore {
  db.exec(SCHEMA);
  const upsert = db.prepare(
    `INSERT INTO alerts (id, rule_id, severity, severity_rank, subject_kind, subject_value, title, description,
       evidence, first_seen_ms, last_seen_ms, count, status, acknowledged_by, acknowledged_at_ms, deliveries)
     VALUES (@id, @rule_id, @severity, @severity_rank, @subject_kind, @subject_value, @title, @description,
       @evidence, @first_seen_ms, @last_seen_ms, @count, @status, @acknowledged_by, @acknowledged_at_ms, @deliveries)
     ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, severity_rank = excluded.severity_rank,
       title = excluded.title, description = excluded.description, evidence = excluded.evidence,
       last_seen_ms = excluded.last_seen_ms, count = excluded.count`,
  );
  const getOne = db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id = ?');
  const ack = db.prepare<[string, number, string]>(
    `UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at_ms = ? WHERE id = ?`,
  );
  const setDeliveries = db.prepare<[string, string]>('UPDATE alerts SET deliveries = ? WHERE id = ?');
  const getDeliveries = db.prepare<[string], { deliveries: string }>(
    'SELECT deliveries FROM alerts WHERE id = ?',
  );
  // Run IMMEDIATE (below): it reads, then writes, while the append thread may commit meanwhile.
  const recordDelivery = db.transaction((id: string, delivery: AlertDelivery) => {
    const row = getDeliveries.get(id);
    if (!row) return;
    const others = (JSON.parse(row.deliveries) as AlertDelivery[]).filter((d) => d.sink !== delivery.sink);
    setDeliveries.run(JSON.stringify([...others, delivery]), id);
  });

  return {
    async upsert(alert) {
      wrap('upsert', () =>
        upsert.run({
          id: alert.id,
          rule_id: alert.rule_id,
          severity: alert.severity,
          severity_rank: severityRank(alert.severity),
          subject_kind: alert.subject.kind,
          subject_value: alert.subject.value,
          title: alert.title,
          description: alert.description,
          evidence: JSON.stringify(alert.evidence),
          first_seen_ms: Date.parse(alert.first_seen),
          last_seen_ms: Date.parse(alert.last_seen),
          count: alert.count,
          status: alert.status,
          acknowledged_by: alert.acknowledged_by,
          acknowledged_at_ms: alert.acknowledged_at === null ? null : Date.parse(alert.acknowledged_at),
          deliveries: JSON.stringify(alert.deliveries),
        }),
      );
    },

    async list(filter: AlertFilter = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const add = (clause: string, value: string | number): void => {
        where.push(clause);
        params.push(value);
      };
      if (filter.sinceMs !== undefined) add('last_seen_ms >= ?', filter.sinceMs);
      if (filter.untilMs !== undefined) add('first_seen_ms < ?', filter.untilMs);
      if (filter.minSeverity !== undefined) add('severity_rank >= ?', severityRank(filter.minSeverity));
      if (filter.ruleId !== undefined) add('rule_id = ?', filter.ruleId);
      if (filter.status !== undefined) add('status = ?', filter.status);
      let sql = 'SELECT * FROM alerts';
      if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
      sql += ' ORDER BY last_seen_ms DESC, id DESC';
      if (filter.limit !== undefined) {
        sql += ' LIMIT ?';
        params.push(filter.limit);
      }
      const rows = wrap('list', () => db.prepare<(string | number)[], AlertRow>(sql).all(...params));
      return rows.map(toAlert);
    },

    async get(id) {
      const row = wrap('get', () => getOne.get(id));
      return row ? toAlert(row) : null;
    },

    async acknowledge(id, by, atMs) {
      const changed = wrap('acknowledge', () => ack.run(by, atMs, id).changes);
      if (changed === 0) return null;
      const row = getOne.get(id);
      return row ? toAlert(row) : null;
    },

    async recordDelivery(id, delivery) {
      wrap('recordDelivery', () => recordDelivery.immediate(id, delivery));
    },
  };
}
