/**
 * What is kept beside the events, in the same store: alerts, gateway-issued keys, per-person
 * data keys and rollups. One SQLite file, or one PostgreSQL schema shared by every replica, so
 * `tollgate serve` and the CLI see the same keys, alerts and figures whichever replica wrote them.
 */
import type { AlertStore } from '../alerting/alert-store.js';
import type { KeyStore } from '../access/key-store.js';
import type { DataKeyStore } from '../privacy/data-key-store.js';
import { SqliteDataKeyStore } from './sqlite/sqlite-data-key-store.js';
import type { OpenedEventStore } from './open-event-store.js';
import type { PostgresDataKeyStore } from './postgres/postgres-data-keys.js';
import type { RollupReader } from './rollups.js';
import { createSqliteAlertStore } from './sqlite/sqlite-alerts.js';
import { SqliteKeyStore } from './sqlite/sqlite-keys.js';
import { createSqliteRollups, sqliteRollupReader, type SqliteRollups } from './sqlite/sqlite-rollups.js';
import { eventsSql, type SqliteEventFilter } from './sqlite/sqlite-event-filter.js';

/** A config budget's scope (see config.budgets). */
export type BudgetScope = 'key' | 'user' | 'feature' | 'team';

/** The event column each budget scope sums over (the same on both stores). */
const SCOPE_COLUMN: Record<BudgetScope, string> = {
  key: 'COALESCE(virtual_key_id, api_key_id)',
  user: 'user_id',
  feature: 'feature_name',
  team: 'team',
};

export interface StoreTables {
  alerts: AlertStore;
  keys: KeyStore;
  rollups: RollupReader;
  /** Spend (micro-USD) of one gateway-issued key since `sinceMs` (managed-mode budgets are seeded from it). */
  keySpentSince(virtualKeyId: string, sinceMs: number): Promise<number>;
  /** Spend (micro-USD) of a config budget's subject since `sinceMs` (config budgets are seeded from it). */
  scopeSpentSince(scope: BudgetScope, subject: string, sinceMs: number): Promise<number>;
  /** Models seen since `sinceMs` in events without a cost, most requests first (`tollgate prices check`). */
  unpricedModelsSince(sinceMs: number): Promise<UnpricedModel[]>;
  /** The data-key store (encrypted mode); opened on first call, closed by `close()`. */
  dataKeys(options?: { onError?: (err: unknown) => void; refreshMs?: number }): Promise<DataKeyStore>;
  /**
   * Rebuilds the summaries kept at write time: session summaries from the hour segments, security
   * rollups from the events (each in one transaction); returns the number of sessions.
   */
  rebuildSummaries(): Promise<{ sessions: number }>;
  /** Closes what these tables opened (not the event store). */
  close(): Promise<void>;
}

export interface UnpricedModel {
  model: string;
  requests: number;
  /** The newest such event's timestamp (ISO-8601). */
  last_seen: string;
}

/** `{events}` is replaced by the events table; the bound is epoch ms (SQLite) or a timestamp (PostgreSQL). */
const UNPRICED_SQL = `SELECT COALESCE(model_used, model_requested) AS model, COUNT(*) AS requests, MAX(timestamp) AS last_seen
  FROM {events} WHERE {since} AND cost_micro_usd IS NULL AND COALESCE(model_used, model_requested) IS NOT NULL
  GROUP BY 1 ORDER BY requests DESC`;

export interface StoreTablesOptions {
  /** SQLite: the rollups the writer maintains (so reads and the write hook share one instance). */
  sqliteRollups?: SqliteRollups;
  /** PostgreSQL: who writes alerts (the replica's instance id), so replicas sharing an incident add up their counts. */
  alertWriter?: string;
}

/** Opens the tables kept beside the events of an opened store; PostgreSQL migrations run here. */
export async function openStoreTables(
  opened: OpenedEventStore,
  options: StoreTablesOptions = {},
): Promise<StoreTables> {
  if (opened.kind === 'sqlite') {
    const db = opened.db;
    const sqliteRollups = options.sqliteRollups ?? createSqliteRollups(db);
    /** The cost sum of the rows `sql` selects (a `cost_micro_usd` column). */
    const sumCost = (sql: string, params: readonly unknown[]): number =>
      (
        db.prepare(`SELECT COALESCE(SUM(cost_micro_usd), 0) AS s FROM (${sql})`).get(...params) as {
          s: number;
        }
      ).s;
    /** A cost sum of the events a filter matches: user, feature and virtual key read through their lookups. */
    const spent = (filter: SqliteEventFilter): number => {
      const { sql, params } = eventsSql(['cost_micro_usd'], filter);
      return sumCost(sql, params);
    };
    return {
      alerts: createSqliteAlertStore(db),
      keys: new SqliteKeyStore(db),
      rollups: sqliteRollupReader(sqliteRollups),
      rebuildSummaries: async () => {
        const sessions = sqliteRollups.rebuildSessionTotals();
        sqliteRollups.rebuildSecurity();
        return { sessions };
      },
      keySpentSince: async (id, sinceMs) => spent({ virtualKey: id, sinceMs }),
      scopeSpentSince: async (scope, subject, sinceMs) => {
        if (scope === 'user') return spent({ user: subject, sinceMs });
        if (scope === 'feature') return spent({ feature: subject, sinceMs });
        return sumCost(`SELECT cost_micro_usd FROM events WHERE ${SCOPE_COLUMN[scope]} = ? AND ts_ms >= ?`, [
          subject,
          sinceMs,
        ]);
      },
      unpricedModelsSince: async (sinceMs) =>
        db
          .prepare(UNPRICED_SQL.replace('{events}', 'events').replace('{since}', 'ts_ms >= ?'))
          .all(sinceMs) as UnpricedModel[],
      dataKeys: async () => new SqliteDataKeyStore(db),
      close: async () => undefined,
    };
  }
  // Loaded only for PostgreSQL: the driver and its stores cost ~60 ms at start, which every
  // SQLite command would otherwise pay.
  const [{ PostgresAlertStore }, { PostgresKeyStore }, { PostgresDataKeyStore }, { schemaIdent }] =
    await Promise.all([
      import('./postgres/postgres-alerts.js'),
      import('./postgres/postgres-keys.js'),
      import('./postgres/postgres-data-keys.js'),
      import('./postgres/postgres-migrate.js'),
    ]);
  const pool = opened.store.connectionPool;
  const schema = opened.store.schema;
  const s = schemaIdent(schema);
  const alerts = new PostgresAlertStore(pool, schema, options.alertWriter);
  const keys = new PostgresKeyStore(pool, { schema });
  await Promise.all([alerts.opened(), keys.opened()]);
  let dataKeys: Promise<PostgresDataKeyStore> | null = null;
  return {
    alerts,
    keys,
    // Maintained in each append transaction (the hook is registered by openEventStore).
    rollups: opened.rollups,
    async rebuildSummaries() {
      const sessions = await opened.rollups.rebuildSessionTotals();
      await opened.rollups.rebuildSecurity();
      return { sessions };
    },
    keySpentSince: (id, sinceMs) => opened.store.spentSince(id, sinceMs),
    async scopeSpentSince(scope, subject, sinceMs) {
      const res = await pool.query<{ s: string }>(
        `SELECT COALESCE(SUM(cost_micro_usd), 0) AS s FROM ${s}.events WHERE ${SCOPE_COLUMN[scope]} = $1 AND ts >= $2::timestamptz`,
        [subject, new Date(sinceMs).toISOString()],
      );
      return Number(res.rows[0]!.s);
    },
    async unpricedModelsSince(sinceMs) {
      const sql = UNPRICED_SQL.replace('{events}', `${s}.events`).replace('{since}', 'ts >= $1::timestamptz');
      const res = await pool.query<{ model: string; requests: string; last_seen: string }>(sql, [
        new Date(sinceMs).toISOString(),
      ]);
      return res.rows.map((r) => ({ model: r.model, requests: Number(r.requests), last_seen: r.last_seen }));
    },
    dataKeys(o = {}) {
      dataKeys ??= PostgresDataKeyStore.open(pool, { schema, ...o });
      return dataKeys;
    },
    async close() {
      if (dataKeys) await (await dataKeys.catch(() => null))?.close();
    },
  };
}
