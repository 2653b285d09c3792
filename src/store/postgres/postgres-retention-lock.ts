import type pg from 'pg';
import type { RetentionLock, RetentionLockHolder } from '../retention-lock.js';

/**
 * The retention lock of a PostgreSQL store: a session advisory lock on a connection held for the
 * prune (`pg_try_advisory_lock`, keyed by the schema), so a replica or CLI that dies frees it with
 * its session. Who holds it is read from `pg_locks` / `pg_stat_activity` for the refusal.
 */
export async function lockPostgresRetention(
  pool: pg.Pool,
  schema: string,
  holder: string,
): Promise<{ lock: RetentionLock } | { heldBy: RetentionLockHolder }> {
  const key = `tollgate.retention.${schema}`;
  const client = await pool.connect();
  // A held connection that dies (server restart, terminated) emits 'error'; the pool listens only
  // to idle ones, so without this a lost lock would crash the process. The lock ends with the session.
  let lost: Error | null = null;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  let got = false;
  try {
    await client.query("SELECT set_config('application_name', $1, false)", [`tollgate prune (${holder})`]);
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key]);
    got = r.rows[0]?.ok === true;
    if (!got) {
      const who = await client.query<{ application_name: string; pid: number; backend_start: Date }>(
        `SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objid = (hashtext($1)::bigint & 4294967295)::oid LIMIT 1`,
        [key],
      );
      const w = who.rows[0];
      return {
        heldBy: {
          holder: w?.application_name ?? 'another session',
          pid: w?.pid ?? null,
          host: null,
          since: w ? new Date(w.backend_start).toISOString() : new Date().toISOString(),
        },
      };
    }
  } finally {
    if (!got) {
      client.off('error', onError);
      client.release();
    }
  }
  let released = false;
  return {
    lock: {
      async release() {
        if (released) return;
        released = true;
        client.off('error', onError);
        if (lost !== null) return client.release(lost);
        try {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
          await client.query('RESET application_name');
          client.release();
        } catch (err) {
          client.release(err instanceof Error ? err : true); // drop the connection: its session ends, and the lock with it
        }
      },
    },
  };
}
