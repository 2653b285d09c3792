import type { Pool, PoolClient } from 'pg';
import { TollgateError } from '../../core/errors.js';

/** A quoted, validated schema name; only plain lower-case identifiers are accepted (no injection). */
export function schemaIdent(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'postgres schema' });
  return `"${schema}"`;
}

/**
 * Runs the versioned migrations of one component in `schema`, as the SQLite store does: one row
 * per component in `schema_migrations`; the pending migrations and their version bump commit in
 * one transaction (PostgreSQL DDL is transactional), so a failed start leaves the old version. A transaction-level advisory lock serialises replicas starting at the same time, so two
 * of them never run the same migration twice.
 */
export async function migratePostgres(
  pool: Pool,
  schema: string,
  component: string,
  migrations: readonly string[],
): Promise<void> {
  const s = schemaIdent(schema);
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    // Key the lock by schema so test schemas migrate in parallel.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tollgate-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (component text PRIMARY KEY, version integer NOT NULL)`,
    );
    const res = await client.query<{ version: number }>(
      `SELECT version FROM ${s}.schema_migrations WHERE component = $1`,
      [component],
    );
    const current = res.rows[0]?.version ?? 0;
    for (let v = current; v < migrations.length; v++) {
      await client.query(migrations[v]!.replaceAll('{schema}', s));
      await client.query(
        `INSERT INTO ${s}.schema_migrations (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
        [component, v + 1],
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new TollgateError('TG_ERR_STORE_OPEN', { store: 'postgres', component }, { cause: err });
  } finally {
    client.release();
  }
}
