/**
 * The provider quota summary in SQLite (see provider-quota-rollups.ts): written by `apply` inside
 * the transaction that inserts a batch (createSqliteRollups calls it), read by the security page
 * and `tollgate report security`. A store written before it gets it built from its events once, on
 * first open; `rebuild` does the same on demand (both in one transaction).
 */
import type Database from 'better-sqlite3';
import { TollgateError } from '../../core/errors.js';
import {
  foldProviderQuota,
  providerQuotaOfRows,
  QUOTA_COLUMNS,
  QUOTA_KINDS,
  quotaMergeSet,
  quotaRanges,
  type ProviderQuotaEvent,
  type ProviderQuotaSummary,
  type QuotaRow,
} from '../provider-quota-rollups.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS provider_quota_rollups (
  granularity INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  key TEXT NOT NULL,
  kind INTEGER NOT NULL,
  provider TEXT NOT NULL,
  remaining INTEGER NOT NULL,
  lim INTEGER,
  reset TEXT,
  at_ms INTEGER NOT NULL,
  readings INTEGER NOT NULL,
  lowest_share REAL,
  lowest_at_ms INTEGER,
  PRIMARY KEY (granularity, bucket, key, kind)
) WITHOUT ROWID;
`;
const STATE = 'provider_quota_v1';
const CHUNK = 64;
const UPSERT_TAIL = `ON CONFLICT (granularity, bucket, key, kind) DO UPDATE SET ${quotaMergeSet('sqlite')}`;
/** The event columns the fold reads (names as in AuditEvent). */
const EVENT_FIELDS = [
  'timestamp',
  'api_provider',
  'api_key_id',
  'provider_key_id',
  ...QUOTA_KINDS.flatMap((k) => [k.remaining, k.limit, k.reset]),
] as const;

export interface SqliteProviderQuota {
  /** Adds a batch of written events. Call inside the transaction that inserts them. */
  apply(events: readonly ProviderQuotaEvent[]): void;
  providerQuota(sinceMs: number, untilMs: number, top: number): ProviderQuotaSummary;
  /** Recomputes every row from the stored events, in one transaction. */
  rebuild(): void;
}

/** Creates the table (built from the stored events the first time) and returns its writer and reads. */
export function createSqliteProviderQuota(db: Database.Database): SqliteProviderQuota {
  const one = `(${QUOTA_COLUMNS.map(() => '?').join(', ')})`;
  const head = `INSERT INTO provider_quota_rollups (${QUOTA_COLUMNS.join(', ')}) VALUES`;
  let many: Database.Statement | null = null;
  let single: Database.Statement | null = null;
  const write = (rows: readonly QuotaRow[]): void => {
    let i = 0;
    for (; i + CHUNK <= rows.length; i += CHUNK)
      many!.run(...rows.slice(i, i + CHUNK).flatMap((r) => QUOTA_COLUMNS.map((c) => r[c])));
    for (; i < rows.length; i++) single!.run(...QUOTA_COLUMNS.map((c) => rows[i]![c]));
  };
  /** Every stored event with a reading, in keyset pages (the writers cannot run while a statement is read). */
  const fromEvents = (): void => {
    const columns = new Set(
      (db.prepare(`SELECT name FROM pragma_table_info('events')`).pluck().all() as string[]) ?? [],
    );
    // No events table, or one from before the readings existed: nothing to build from.
    if (!EVENT_FIELDS.every((f) => f === 'timestamp' || columns.has(f))) return;
    const page = db.prepare(
      `SELECT rowid_, ${EVENT_FIELDS.join(', ')} FROM events
       WHERE rowid_ > ? AND (${QUOTA_KINDS.map((k) => `${k.remaining} IS NOT NULL`).join(' OR ')})
       ORDER BY rowid_ LIMIT 5000`,
    );
    let after = 0;
    for (;;) {
      const rows = page.all(after) as (ProviderQuotaEvent & { rowid_: number })[];
      if (rows.length === 0) return;
      write(foldProviderQuota(rows));
      after = rows[rows.length - 1]!.rowid_;
    }
  };

  let ready = true;
  if (db.readonly)
    ready =
      db
        .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'provider_quota_rollups'`)
        .get() !== undefined;
  else {
    db.exec(SCHEMA);
    many = db.prepare(`${head} ${Array(CHUNK).fill(one).join(', ')} ${UPSERT_TAIL}`);
    single = db.prepare(`${head} ${one} ${UPSERT_TAIL}`);
    db.transaction(() => {
      if (db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${STATE}'`).get() !== undefined) return;
      db.prepare('DELETE FROM provider_quota_rollups').run();
      fromEvents();
      db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${STATE}', 1)`).run();
    })();
  }

  const statements = new Map<number, Database.Statement>();
  /** UNION ALL of one primary-key range scan per bucket range. */
  const rangesStatement = (n: number): Database.Statement => {
    let st = statements.get(n);
    if (!st) {
      const arm = `SELECT ${QUOTA_COLUMNS.join(', ')} FROM provider_quota_rollups WHERE granularity = ? AND bucket >= ? AND bucket < ?`;
      statements.set(n, (st = db.prepare(Array(n).fill(arm).join(' UNION ALL '))));
    }
    return st;
  };

  return {
    apply(events) {
      if (!many) return;
      write(foldProviderQuota(events));
    },

    providerQuota(sinceMs, untilMs, top) {
      const ranges = quotaRanges(sinceMs, untilMs);
      if (!ready || ranges.length === 0) return { rows: [], sampled: false };
      const rows = rangesStatement(ranges.length).all(
        ...ranges.flatMap((r) => [r.granularity, r.from, r.to]),
      ) as QuotaRow[];
      return providerQuotaOfRows(rows, top);
    },

    rebuild() {
      if (!many)
        throw new TollgateError('TG_ERR_STORE_WRITE', {
          table: 'provider_quota_rollups',
          reason: 'read-only',
        });
      db.transaction(() => {
        db.prepare('DELETE FROM provider_quota_rollups').run();
        fromEvents();
      })();
    },
  };
}
