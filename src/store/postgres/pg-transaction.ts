import type pg from 'pg';

/**
 * Runs `work` on one pooled connection inside one transaction (`begin` opens it: plain `BEGIN`, or
 * a snapshot such as `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`); commits what it returns,
 * rolls back and rethrows what it throws, and always gives the connection back.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
