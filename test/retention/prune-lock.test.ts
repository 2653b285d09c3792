/**
 * One prune at a time per store: the retention lock refuses a second prune (CLI beside the
 * gateway's schedule, two replicas) with TG_ERR_RETENTION_BUSY naming the holder, deletes nothing
 * meanwhile, and is freed by a holder that dies.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { formatVerifyReport } from '../../src/integrity/verify-report-format.js';
import { postgresService, uniqueName } from '../support/services.js';
import { DAY, RetentionSite } from './retention-fixture.js';

let site: RetentionSite | undefined;
let dir: string | undefined;
afterEach(() => {
  site?.close();
  site = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tenDaysOnDisk(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-prune-lock-'));
  const path = join(dir, 'tollgate.db');
  site = new RetentionSite(10, path);
  for (let d = 0; d < 10; d++) {
    await site.traffic(10, () => undefined);
    site.clock.advance(DAY);
  }
  await site.flushCheckpoint();
  return path;
}

describe('prune lock on SQLite', () => {
  it('refuses a prune while another connection holds the lock, deletes nothing, then prunes once it is released', async () => {
    const path = await tenDaysOnDisk();
    const other = new SqliteEventStore(openSqlite(path));
    const taken = await other.lockRetention('gateway gw-1');
    expect('lock' in taken).toBe(true);

    await expect(site!.prune({ eventsMs: 5 * DAY })).rejects.toMatchObject({
      code: 'TG_ERR_RETENTION_BUSY',
      detail: { holder: 'gateway gw-1', pid: process.pid },
    });
    expect(await site!.events.count({ chainId: 'gw-1' })).toBe(100);
    // A dry run changes nothing and takes no lock.
    expect((await site!.prune({ eventsMs: 5 * DAY }, true)).events[0]).toMatchObject({ deleted: 50 });

    if ('lock' in taken) await taken.lock.release();
    const res = await site!.prune({ eventsMs: 5 * DAY });
    expect(res.deleted).toBe(50);
    const report = await site!.verify();
    expect(report.ok, formatVerifyReport(report)).toBe(true);
    // Released after the prune: the other connection may take it now.
    const again = await other.lockRetention('gateway gw-1');
    expect('lock' in again).toBe(true);
    if ('lock' in again) await again.lock.release();
    other.db.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const path = await tenDaysOnDisk();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const db = openSqlite(path);
    await new SqliteEventStore(db).lockRetention('warm-up'); // creates the table
    db.prepare('UPDATE retention_lock SET pid = ?, holder = ? WHERE id = 1').run(dead, 'crashed cli');
    db.close();
    const res = await site!.prune({ eventsMs: 5 * DAY });
    expect(res.deleted).toBe(50);
  });
});

const service = await postgresService();

describe.skipIf(!service.available)('prune lock on PostgreSQL', () => {
  const schema = uniqueName('tg_prune_lock');
  const pool = new pg.Pool({ connectionString: service.url, max: 2 });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('is a session advisory lock: a second store is refused with the holder named, and a dead session frees it', async () => {
    const a = await openEventStore(`${service.url}?schema=${schema}`);
    const b = await openEventStore(`${service.url}?schema=${schema}`);
    try {
      const first = await a.store.lockRetention('replica-a');
      expect('lock' in first).toBe(true);
      const second = await b.store.lockRetention('replica-b');
      expect(second).toMatchObject({ heldBy: { holder: 'tollgate prune (replica-a)' } });
      if ('lock' in first) await first.lock.release();
      const third = await b.store.lockRetention('replica-b');
      expect('lock' in third).toBe(true);

      // The holder's session ends (the process died): the lock goes with it.
      const holders = await pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'tollgate prune (replica-b)'",
      );
      expect(holders.rows).toHaveLength(1);
      // With a timeout the call waits until the backend has exited (PostgreSQL 14+): its locks are gone then.
      await pool.query('SELECT pg_terminate_backend($1, 10000)', [holders.rows[0]!.pid]);
      const fourth = await a.store.lockRetention('replica-a');
      expect('lock' in fourth).toBe(true);
      if ('lock' in fourth) await fourth.lock.release();
      if ('lock' in third) await third.lock.release(); // its connection is gone: released without throwing
    } finally {
      await a.store.close();
      await b.store.close();
    }
  });
});
