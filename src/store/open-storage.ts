import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { EventStore } from './event-store.js';
import type { ContentSearch } from './content-search.js';
import { openContentSearch } from './open-content-search.js';
import { openEventStore } from './open-event-store.js';
import { attachSqliteWriteHooks } from './sqlite/sqlite-write-hooks.js';
import { openStoreTables, type StoreTables } from './store-tables.js';

/** Everything a gateway keeps in its store: the events, their checkpoints, and the tables beside them. */
export interface Storage {
  store: EventStore;
  checkpoints: CheckpointStore;
  /** Alerts, keys, data keys and rollups: one SQLite file, or the PostgreSQL schema every replica shares. */
  tables: StoreTables;
  /** Search in the stored (redacted) content and fields. */
  search: ContentSearch;
}

/**
 * Opens the store a `--db` value names (SQLite path or PostgreSQL URL) with the tables kept beside
 * the events, rollups maintained in the append transaction, and both closes recorded in `life`.
 */
export async function openStorage(
  dbSpec: string,
  deps: {
    clock: Clock;
    /** PostgreSQL: who writes alerts (the replica's instance id), so replicas add up shared incidents. */
    alertWriter: string;
    onPoolError?: (err: Error) => void;
  },
  life: Lifetime,
): Promise<Storage> {
  const opened = await openEventStore(dbSpec, {
    clock: deps.clock,
    ...(deps.onPoolError ? { onPoolError: deps.onPoolError } : {}),
  });
  life.own('event store', opened.store, (s) => s.close());
  // SQLite: rollups are updated in the events' write transaction (PostgreSQL registers its own hook).
  const sqliteRollups =
    opened.kind === 'sqlite' ? attachSqliteWriteHooks(opened.store, opened.db) : undefined;
  const tables = life.own(
    'store tables',
    await openStoreTables(opened, {
      alertWriter: deps.alertWriter,
      ...(sqliteRollups ? { sqliteRollups } : {}),
    }),
    (t) => t.close(),
  );
  return {
    store: opened.store,
    checkpoints: opened.checkpoints,
    tables,
    search: await openContentSearch(opened),
  };
}
