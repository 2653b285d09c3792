import type { ContentSearch } from './content-search.js';
import type { OpenedEventStore } from './open-event-store.js';

/**
 * The content search of an opened store: FTS5 in its SQLite file, or full-text in its PostgreSQL
 * schema. The PostgreSQL side loads only for a PostgreSQL store (like the driver itself).
 */
export async function openContentSearch(opened: OpenedEventStore): Promise<ContentSearch> {
  if (opened.kind === 'sqlite') {
    const { SqliteContentSearch } = await import('./sqlite/sqlite-content-search.js');
    return new SqliteContentSearch(opened.db);
  }
  const [{ PostgresContentSearch }, { schemaIdent }] = await Promise.all([
    import('./postgres/postgres-content-search.js'),
    import('./postgres/postgres-migrate.js'),
  ]);
  return new PostgresContentSearch(opened.store.connectionPool, schemaIdent(opened.store.schema));
}
