import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Log } from '../core/log.js';
import { isPostgresUrl } from '../store/postgres-url.js';
import { DiskSpool } from '../writer/disk-spool.js';
import { GapJournal } from '../writer/gap-journal.js';
import { SeqReservation } from '../writer/seq-reservation.js';

/** Paths of the chain's local state files (docs/reliability.md "Crash"). */
export interface ChainStateFiles {
  /** The seq high-water mark: `chain-<instance>-<store>.mark`. */
  mark: string;
  /** Gaps not recorded yet: `gaps-<instance>-<store>.json`. */
  journal: string;
  /**
   * Files an earlier version named by instance only, that exist. They are not read: nothing in
   * them tells which store they were written for (two SQLite files in one folder, or two
   * PostgreSQL databases run from one working directory, shared them).
   */
  legacy: string[];
}

/**
 * The mark and the gap journal are kept per instance and per store: the data folder is shared by
 * every SQLite file in it and by every PostgreSQL URL run from one working directory, and a mark
 * read against another store's chain would name a crash gap that never happened there.
 */
export function chainStateFiles(dir: string, instanceId: string, db: string): ChainStateFiles {
  const id = storeIdentity(db);
  const old = [join(dir, `chain-${instanceId}.mark`), join(dir, `gaps-${instanceId}.json`)];
  return {
    mark: join(dir, `chain-${instanceId}-${id}.mark`),
    journal: join(dir, `gaps-${instanceId}-${id}.json`),
    legacy: old.filter((p) => existsSync(p)),
  };
}

/**
 * A short name for the store (12 hex of SHA-256): for SQLite, the file's real path; for
 * PostgreSQL, host, port, database and schema (not the user, password or connection options,
 * which do not change where the chain is kept).
 */
export function storeIdentity(db: string): string {
  return createHash('sha256').update(storeKey(db)).digest('hex').slice(0, 12);
}

function storeKey(db: string): string {
  if (isPostgresUrl(db)) {
    const u = new URL(db);
    // libpq: the host may be given as a query parameter (a socket folder) instead of in the authority.
    const host = (u.searchParams.get('host') ?? u.hostname).toLowerCase();
    const port = u.searchParams.get('port') ?? (u.port || '5432');
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    const schema = u.searchParams.get('schema') ?? 'tollgate';
    return `postgres\n${host}\n${port}\n${database}\n${schema}`;
  }
  const path = resolve(db);
  try {
    // One file reached by two names (a symlink) is one store.
    return `sqlite\n${realpathSync(path)}`;
  } catch {
    return `sqlite\n${path}`;
  }
}

/**
 * The gateway writer's files in the data folder: the spool (named by instance only, so a replica
 * whose PostgreSQL address changed still replays it; docs/reliability.md), and the seq mark and
 * gap journal named by instance and store.
 */
export function gatewayWriterFiles(
  dir: string,
  instanceId: string,
  config: { db: string; spool: { max_bytes: number } },
  log: Log,
): { spool: DiskSpool; journal: GapJournal; reservation: SeqReservation } {
  const files = chainStateFiles(dir, instanceId, config.db);
  if (files.legacy.length > 0)
    log.warn(
      { files: files.legacy },
      'seq mark or gap journal of an earlier version ignored: it does not name its store',
    );
  return {
    spool: new DiskSpool(join(dir, `spool-${instanceId}.jsonl`), config.spool.max_bytes),
    journal: new GapJournal(files.journal),
    reservation: new SeqReservation({
      path: files.mark,
      chainId: instanceId,
      onError: () => log.error({ chain_id: instanceId }, 'chain seq mark could not be written'),
    }),
  };
}
