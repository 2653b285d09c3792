import type { Clock } from '../core/clock.js';
import { loadOptional, POSTGRES_PACKAGES } from '../core/optional-dependency.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { isPostgresUrl } from './postgres-url.js';
import { openSqlite, type SqliteDatabase } from './sqlite/open-sqlite.js';
import { SqliteCheckpointStore } from './sqlite/sqlite-checkpoints.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';
import type { PostgresEventStore } from './postgres/postgres-event-store.js';
import type { PostgresRollups } from './postgres/postgres-rollups.js';

/** The event store a `--db` / `TOLLGATE_DB` value names, with the checkpoints kept beside it. */
export type OpenedEventStore =
  | {
      kind: 'sqlite';
      store: SqliteEventStore;
      checkpoints: CheckpointStore;
      /** The SQLite handle, for the other tables (rollups, alerts, keys). */ db: SqliteDatabase;
    }
  | {
      kind: 'postgres';
      store: PostgresEventStore;
      checkpoints: CheckpointStore;
      /** Cost rollups shared by every replica, written in each append transaction (hook registered). */
      rollups: PostgresRollups;
    };

export { isPostgresUrl } from './postgres-url.js';

export interface OpenEventStoreOptions {
  clock?: Clock;
  /** PostgreSQL: errors of idle pooled connections (the server went away); logged, never thrown. */
  onPoolError?: (err: Error) => void;
}

/**
 * Opens the store by scheme: a PostgreSQL URL (tables in the schema named by its `schema`
 * query parameter, default `tollgate`), or else a SQLite file path. Migrations run here.
 */
export async function openEventStore(
  dbSpec: string,
  options: OpenEventStoreOptions = {},
): Promise<OpenedEventStore> {
  if (isPostgresUrl(dbSpec)) {
    // The driver loads only when a PostgreSQL store is opened (SQLite commands start ~60 ms sooner).
    // pg and pg-copy-streams are optional peers: a missing one is named (TG_ERR_DEPENDENCY_MISSING).
    const [{ PostgresEventStore }, { PostgresCheckpointStore }, { PostgresRollups }] = await loadOptional(
      POSTGRES_PACKAGES,
      () =>
        Promise.all([
          import('./postgres/postgres-event-store.js'),
          import('./postgres/postgres-checkpoint-store.js'),
          import('./postgres/postgres-rollups.js'),
        ]),
    );
    const u = new URL(dbSpec);
    const schema = u.searchParams.get('schema') ?? 'tollgate';
    // Not a libpq parameter: removed before the URL reaches the driver.
    u.searchParams.delete('schema');
    const store = await PostgresEventStore.open({
      url: u.toString(),
      schema,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.onPoolError ? { onPoolError: options.onPoolError } : {}),
    });
    const checkpoints = new PostgresCheckpointStore(store.connectionPool, schema);
    let rollups: PostgresRollups;
    try {
      await checkpoints.opened();
      rollups = await PostgresRollups.open(store.connectionPool, schema);
    } catch (err) {
      await store.close();
      throw err;
    }
    store.addInTransactionHook((client, inserted) => rollups.apply(client, inserted));
    return { kind: 'postgres', store, checkpoints, rollups };
  }
  const db = openSqlite(dbSpec);
  return { kind: 'sqlite', store: new SqliteEventStore(db), checkpoints: new SqliteCheckpointStore(db), db };
}
