import type pg from 'pg';
import type { Alert, AlertDelivery } from '../../alerting/alert.js';
import { severityRank } from '../../alerting/alert.js';
import type { AlertFilter, AlertStore } from '../../alerting/alert-store.js';
import { TollgateError } from '../../core/errors.js';
import { alertFromRow as toAlert, type AlertRow } from '../alert-row.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';

/** Versioned migrations of the `alerts` component (same layout as the SQLite table, ms timestamps). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE {schema}.alerts (
     id text PRIMARY KEY,
     rule_id text NOT NULL,
     severity text NOT NULL,
     severity_rank integer NOT NULL,
     subject_kind text NOT NULL,
     subject_value text NOT NULL,
     title text NOT NULL,
     description text NOT NULL,
     evidence text NOT NULL,
     first_seen_ms bigint NOT NULL,
     last_seen_ms bigint NOT NULL,
     count integer NOT NULL,
     status text NOT NULL,
     acknowledged_by text,
     acknowledged_at_ms bigint,
     deliveries jsonb NOT NULL DEFAULT '[]'
   );
   CREATE INDEX alerts_last_seen ON {schema}.alerts (last_seen_ms);
   CREATE INDEX alerts_rule ON {schema}.alerts (rule_id, last_seen_ms);`,
  // Each writer's (replica's) own count of an incident they share (alert claims through Redis):
  // the stored count is their sum.
  `ALTER TABLE {schema}.alerts ADD COLUMN counts jsonb NOT NULL DEFAULT '{}';
   UPDATE {schema}.alerts SET counts = jsonb_build_object('', count);`,
];

/**
 * AlertStore in PostgreSQL, beside the events (same schema, the event store's pool), so every
 * replica's alerts are listed, acknowledged and delivered from one table.
 *
 * Concurrency: an upsert is one `INSERT … ON CONFLICT DO UPDATE` (never a unique violation). One
 * incident may be written by several replicas (they join one alert id through Redis claims), each
 * with its own count, and one replica's writes can reach the server out of order (each takes
 * whichever pooled connection is free). So the stored incident only moves forward: each writer's
 * count is kept apart (`counts`, the larger value wins) and `count` is their sum; `last_seen`
 * keeps the later time, `first_seen` the earlier, severity the higher; description and evidence
 * come from the write with the latest `last_seen`. Delivery records are merged by one UPDATE
 * under the row lock.
 */
export class PostgresAlertStore implements AlertStore {
  private readonly s: string;
  private readonly ready: Promise<void>;

  /**
   * `writer` names this store's writer (the replica's instance id): replicas that update one
   * incident each count their own part, and the stored count is the sum of the parts.
   */
  constructor(
    private readonly pool: pg.Pool,
    schema = 'tollgate',
    private readonly writer = '',
  ) {
    this.s = schemaIdent(schema);
    this.ready = migratePostgres(pool, schema, 'alerts', MIGRATIONS);
    this.ready.catch(() => undefined); // observed by each call
  }

  /** Resolves once the table exists (or rejects with the migration's error). */
  opened(): Promise<void> {
    return this.ready;
  }

  async upsert(alert: Alert): Promise<void> {
    // This writer's part only moves up (its writes may arrive out of order); the parts are summed.
    const counts = `a.counts || jsonb_build_object($17::text, GREATEST(COALESCE((a.counts->>$17)::int, 0), excluded.count))`;
    const latest = 'excluded.last_seen_ms >= a.last_seen_ms';
    await this.run(
      'upsert',
      `INSERT INTO ${this.s}.alerts AS a (id, rule_id, severity, severity_rank, subject_kind, subject_value, title, description,
         evidence, first_seen_ms, last_seen_ms, count, status, acknowledged_by, acknowledged_at_ms, deliveries, counts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, jsonb_build_object($17::text, $12::int))
       ON CONFLICT (id) DO UPDATE SET
         severity = CASE WHEN excluded.severity_rank > a.severity_rank THEN excluded.severity ELSE a.severity END,
         severity_rank = GREATEST(a.severity_rank, excluded.severity_rank),
         title = CASE WHEN excluded.severity_rank > a.severity_rank OR (excluded.severity_rank = a.severity_rank AND ${latest})
           THEN excluded.title ELSE a.title END,
         description = CASE WHEN ${latest} THEN excluded.description ELSE a.description END,
         evidence = CASE WHEN ${latest} THEN excluded.evidence ELSE a.evidence END,
         first_seen_ms = LEAST(a.first_seen_ms, excluded.first_seen_ms),
         last_seen_ms = GREATEST(a.last_seen_ms, excluded.last_seen_ms),
         counts = ${counts},
         count = (SELECT COALESCE(SUM(v::int), 0) FROM jsonb_each_text(${counts}) AS part(k, v))`,
      [
        alert.id,
        alert.rule_id,
        alert.severity,
        severityRank(alert.severity),
        alert.subject.kind,
        alert.subject.value,
        alert.title,
        alert.description,
        JSON.stringify(alert.evidence),
        Date.parse(alert.first_seen),
        Date.parse(alert.last_seen),
        alert.count,
        alert.status,
        alert.acknowledged_by,
        alert.acknowledged_at === null ? null : Date.parse(alert.acknowledged_at),
        JSON.stringify(alert.deliveries),
        this.writer,
      ],
    );
  }

  async list(filter: AlertFilter = {}): Promise<Alert[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const add = (clause: string, value: string | number): void => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (filter.sinceMs !== undefined) add('last_seen_ms >= ?', filter.sinceMs);
    if (filter.untilMs !== undefined) add('first_seen_ms < ?', filter.untilMs);
    if (filter.minSeverity !== undefined) add('severity_rank >= ?', severityRank(filter.minSeverity));
    if (filter.ruleId !== undefined) add('rule_id = ?', filter.ruleId);
    if (filter.status !== undefined) add('status = ?', filter.status);
    let sql = `SELECT * FROM ${this.s}.alerts`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    // COLLATE "C": the same byte order as SQLite for the id tie-break.
    sql += ' ORDER BY last_seen_ms DESC, id COLLATE "C" DESC';
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      sql += ` LIMIT $${params.length}`;
    }
    return (await this.run('list', sql, params)).map(toAlert);
  }

  async get(id: string): Promise<Alert | null> {
    const rows = await this.run('get', `SELECT * FROM ${this.s}.alerts WHERE id = $1`, [id]);
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async acknowledge(id: string, by: string, atMs: number): Promise<Alert | null> {
    const rows = await this.run(
      'acknowledge',
      `UPDATE ${this.s}.alerts SET status = 'acknowledged', acknowledged_by = $1, acknowledged_at_ms = $2 WHERE id = $3 RETURNING *`,
      [by, atMs, id],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async recordDelivery(id: string, delivery: AlertDelivery): Promise<void> {
    // One statement: the row lock orders two sinks reporting at once, neither record is lost.
    await this.run(
      'recordDelivery',
      `UPDATE ${this.s}.alerts SET deliveries =
         COALESCE((SELECT jsonb_agg(d) FROM jsonb_array_elements(deliveries) d WHERE d->>'sink' <> $2), '[]'::jsonb) || jsonb_build_array($3::jsonb)
       WHERE id = $1`,
      [id, delivery.sink, JSON.stringify(delivery)],
    );
  }

  private async run(op: string, sql: string, params: unknown[]): Promise<AlertRow[]> {
    try {
      await this.ready;
      return (await this.pool.query<AlertRow>(sql, params)).rows;
    } catch (err) {
      if (err instanceof TollgateError) throw err;
      // The operation only: driver messages may quote values.
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', table: 'alerts', op },
        { cause: err },
      );
    }
  }
}
