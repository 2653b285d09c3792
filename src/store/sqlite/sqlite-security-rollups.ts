/**
 * Security rollups in SQLite (see security-rollups.ts): written by `apply` inside the
 * transaction that inserts a batch (createSqliteRollups calls it), read by the security page.
 * A store written before them gets them built from its events once, on first open; `rebuild`
 * does the same on demand (both in one transaction, from the events table).
 */
import type Database from 'better-sqlite3';
import { TollgateError } from '../../core/errors.js';
import { DAY_MS, G_DAY, G_HOUR, G_MINUTE, HOUR_MS, MINUTE_MS } from '../rollups.js';
import {
  FLAG_NO_IP,
  FLAG_NO_KEY,
  FLAG_NO_PREFIX,
  FLAG_NO_USER,
  FLAG_REFUSED,
  foldSecurity,
  hourRanges,
  KIND_AUTH_FAILURE,
  KIND_ERRORS_BY_KEY,
  KIND_ERRORS_BY_MODEL,
  KIND_EVENTS,
  KIND_REDACTION,
  KIND_SESSION_ANOMALIES,
  KIND_SESSION_INDICATORS,
  pairOf,
  reportCountsOf,
  SECURITY_COLUMNS,
  securityRanges,
  type AuthFailureCounts,
  type RedactionHits,
  type SecurityReportCounts,
  type SecurityRollupEvent,
} from '../security-rollups.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS security_rollups (
  granularity INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  c TEXT NOT NULL,
  flags INTEGER NOT NULL,
  n INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  PRIMARY KEY (granularity, kind, bucket, a, b, c, flags)
) WITHOUT ROWID;
`;
const STATE = 'security_rollups_v1';
/** The report-only kinds (events, error rates, anomalous sessions) exist. */
const REPORT_STATE = 'security_rollups_report_v1';
const CHUNK = 64;

const GRANULARITY_ROWS = `(SELECT ${G_MINUTE} AS g, ${MINUTE_MS} AS size UNION ALL SELECT ${G_HOUR}, ${HOUR_MS} UNION ALL SELECT ${G_DAY}, ${DAY_MS}) AS gs`;
const HOUR_DAY_ROWS = `(SELECT ${G_HOUR} AS g, ${HOUR_MS} AS size UNION ALL SELECT ${G_DAY}, ${DAY_MS}) AS gs`;
/** Neither an auth failure (isAuthFailure) nor CANCELLED: the requests error rates count. */
const COUNTED_REQUEST = `status <> 'AUTH_FAILED' AND (auth_result IS NULL OR auth_result = 'SUCCESS') AND status <> 'CANCELLED'`;
const UPSERT_TAIL = `ON CONFLICT (granularity, kind, bucket, a, b, c, flags) DO UPDATE SET
  n = n + excluded.n, hits = hits + excluded.hits, last_ts = MAX(last_ts, excluded.last_ts)`;

/** The rows foldSecurity would write for every stored event, in SQL (first open and rebuild). */
const FROM_EVENTS = [
  `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')})
   SELECT gs.g, ${KIND_AUTH_FAILURE}, ts_ms - (ts_ms % gs.size), COALESCE(ip_address, ''), COALESCE(api_key_id, ''),
     COALESCE(api_key_prefix, ''),
     (CASE WHEN ip_address IS NULL THEN ${FLAG_NO_IP} ELSE 0 END) | (CASE WHEN api_key_id IS NULL THEN ${FLAG_NO_KEY} ELSE 0 END)
       | (CASE WHEN api_key_prefix IS NULL THEN ${FLAG_NO_PREFIX} ELSE 0 END)
       | (CASE WHEN status IN ('AUTH_FAILED', 'BLOCKED') THEN ${FLAG_REFUSED} ELSE 0 END) AS fl,
     COUNT(*), 0, MAX(ts_ms)
   FROM events, ${GRANULARITY_ROWS}
   WHERE status = 'AUTH_FAILED' OR (auth_result IS NOT NULL AND auth_result <> 'SUCCESS')
   GROUP BY 1, 3, 4, 5, 6, 7
   ${UPSERT_TAIL}`,
  `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')})
   SELECT gs.g, ${KIND_REDACTION}, ts_ms - (ts_ms % gs.size), json_extract(r.value, '$.type') AS t, '', '', 0,
     COUNT(*), SUM(json_extract(r.value, '$.count')), MAX(ts_ms)
   FROM events, json_each(events.redactions) AS r, ${GRANULARITY_ROWS}
   WHERE events.redactions <> '[]'
   GROUP BY 1, 3, 4
   ${UPSERT_TAIL}`,
];

/** The report-only kinds foldSecurity would write for every stored event, in SQL. */
const REPORT_FROM_EVENTS = [
  `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')})
   SELECT gs.g, ${KIND_EVENTS}, ts_ms - (ts_ms % gs.size) AS b0, '', '', '', 0, COUNT(*), 0, MAX(ts_ms)
   FROM events, ${HOUR_DAY_ROWS} GROUP BY 1, 3
   ${UPSERT_TAIL}`,
  ...(
    [
      [KIND_ERRORS_BY_MODEL, 'COALESCE(model_used, model_requested)'],
      [KIND_ERRORS_BY_KEY, 'api_key_id'],
    ] as const
  ).map(
    ([kind, column]) => `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')})
   SELECT gs.g, ${kind}, ts_ms - (ts_ms % gs.size), ${column} AS k, '', '', 0, COUNT(*),
     SUM(CASE WHEN status <> 'SUCCESS' THEN 1 ELSE 0 END), MAX(ts_ms)
   FROM events, ${HOUR_DAY_ROWS}
   WHERE ${COUNTED_REQUEST} AND ${column} IS NOT NULL
   GROUP BY 1, 3, 4
   ${UPSERT_TAIL}`,
  ),
  `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')})
   SELECT gs.g, ${KIND_SESSION_ANOMALIES}, ts_ms - (ts_ms % gs.size), session_id, COALESCE(user_id, ''), '',
     CASE WHEN user_id IS NULL THEN ${FLAG_NO_USER} ELSE 0 END, COUNT(*), 0, MAX(ts_ms)
   FROM events, ${HOUR_DAY_ROWS}
   WHERE is_anomalous = 1 AND session_id IS NOT NULL
   GROUP BY 1, 3, 4, 5, 7
   ${UPSERT_TAIL}`,
  `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')})
   SELECT gs.g, ${KIND_SESSION_INDICATORS}, ts_ms - (ts_ms % gs.size), session_id, t.value, '', 0,
     COUNT(DISTINCT events.rowid_), 0, MAX(ts_ms)
   FROM events, json_each(events.threat_indicators) AS t, ${HOUR_DAY_ROWS}
   WHERE session_id IS NOT NULL AND events.threat_indicators <> '[]'
   GROUP BY 1, 3, 4, 5
   ${UPSERT_TAIL}`,
];

export interface SqliteSecurityRollups {
  /** Adds a batch of written events. Call inside the transaction that inserts them. */
  apply(events: readonly SecurityRollupEvent[]): void;
  authFailures(sinceMs: number, untilMs: number, bucketMs: number): AuthFailureCounts;
  redactionHits(sinceMs: number, untilMs: number): RedactionHits[];
  /** The report-only kinds over [fromMs, toMs), whole hours. */
  reportCounts(fromMs: number, toMs: number): SecurityReportCounts;
  /** Threat indicators per session over [fromMs, toMs), whole hours, sorted. */
  sessionIndicators(sessionIds: readonly string[], fromMs: number, toMs: number): Map<string, string[]>;
  /** Recomputes every row from the stored events, in one transaction. */
  rebuild(): void;
}

/** Creates the table (built from the stored events the first time) and returns its writer and reads. */
export function createSqliteSecurityRollups(db: Database.Database): SqliteSecurityRollups {
  const hasEvents = (): boolean =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'`).get() !== undefined;
  const fromEvents = (): void => {
    if (!hasEvents()) return;
    for (const sql of [...FROM_EVENTS, ...REPORT_FROM_EVENTS]) db.prepare(sql).run();
  };
  let ready = true;
  if (db.readonly)
    ready =
      db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'security_rollups'`).get() !==
      undefined;
  else
    db.transaction(() => {
      if (db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${STATE}'`).get() !== undefined) return;
      db.exec(SCHEMA);
      db.prepare('DELETE FROM security_rollups').run();
      fromEvents();
      db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${STATE}', 1)`).run();
      db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${REPORT_STATE}', 1)`).run();
    })();
  // A store written before the report-only kinds: add them from its events, once.
  let reportReady = true;
  if (db.readonly)
    reportReady = db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${REPORT_STATE}'`).get() !== undefined;
  else
    db.transaction(() => {
      if (db.prepare(`SELECT 1 FROM rollup_state WHERE name = '${REPORT_STATE}'`).get() !== undefined) return;
      if (hasEvents()) for (const sql of REPORT_FROM_EVENTS) db.prepare(sql).run();
      db.prepare(`INSERT INTO rollup_state (name, value) VALUES ('${REPORT_STATE}', 1)`).run();
    })();

  const one = `(${SECURITY_COLUMNS.map(() => '?').join(', ')})`;
  const head = `INSERT INTO security_rollups (${SECURITY_COLUMNS.join(', ')}) VALUES`;
  const many =
    ready && !db.readonly ? db.prepare(`${head} ${Array(CHUNK).fill(one).join(', ')} ${UPSERT_TAIL}`) : null;
  const single = ready && !db.readonly ? db.prepare(`${head} ${one} ${UPSERT_TAIL}`) : null;

  const statements = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    let st = statements.get(sql);
    if (!st) statements.set(sql, (st = db.prepare(sql)));
    return st;
  };
  /** UNION ALL of one primary-key range scan per bucket range, of one kind. */
  const rowsOf = (kind: number, sinceMs: number, untilMs: number, chartMs?: number) => {
    const ranges = securityRanges(sinceMs, untilMs, chartMs);
    const sql = ranges
      .map(
        () =>
          `SELECT bucket, a, b, c, flags, n, hits, last_ts FROM security_rollups WHERE granularity = ? AND kind = ${kind} AND bucket >= ? AND bucket < ?`,
      )
      .join(' UNION ALL ');
    return { sql, params: ranges.flatMap((r) => [r.granularity, r.from, r.to]) };
  };

  return {
    apply(events) {
      if (!many || !single) return;
      const rows = foldSecurity(events);
      // Flat values spread as arguments (see ChunkedWriter in sqlite-rollups.ts): cheaper to bind.
      const p: (string | number)[] = [];
      let i = 0;
      for (; i + CHUNK <= rows.length; i += CHUNK) {
        p.length = 0;
        for (let j = i; j < i + CHUNK; j++) for (const c of SECURITY_COLUMNS) p.push(rows[j]![c]);
        many.run(...p);
      }
      for (; i < rows.length; i++) single.run(...SECURITY_COLUMNS.map((c) => rows[i]![c]));
    },

    authFailures(sinceMs, untilMs, bucketMs) {
      if (!ready) return { pairs: [], over_time: [] };
      const { sql, params } = rowsOf(KIND_AUTH_FAILURE, sinceMs, untilMs, bucketMs);
      if (!sql) return { pairs: [], over_time: [] };
      return db.transaction(() => {
        const pairs = (
          statement(
            `SELECT a, b, c, flags, SUM(n) AS n, MAX(last_ts) AS last FROM (${sql}) GROUP BY a, b, c, flags`,
          ).all(...params) as { a: string; b: string; c: string; flags: number; n: number; last: number }[]
        ).map((r) => pairOf(r.a, r.b, r.c, r.flags, r.n, r.last));
        const overTime = statement(
          `SELECT bucket - (bucket % ${bucketMs}) AS start_ms, (flags & ${FLAG_REFUSED}) <> 0 AS refused, SUM(n) AS failures
           FROM (${sql}) GROUP BY start_ms, refused ORDER BY start_ms`,
        ).all(...params) as { start_ms: number; refused: number; failures: number }[];
        return {
          pairs,
          over_time: overTime.map((r) => ({
            start_ms: r.start_ms,
            refused: r.refused === 1,
            failures: r.failures,
          })),
        };
      })();
    },

    redactionHits(sinceMs, untilMs) {
      if (!ready) return [];
      const { sql, params } = rowsOf(KIND_REDACTION, sinceMs, untilMs);
      if (!sql) return [];
      return statement(
        `SELECT a AS type, SUM(hits) AS hits, SUM(n) AS events FROM (${sql}) GROUP BY a ORDER BY hits DESC, a ASC`,
      ).all(...params) as RedactionHits[];
    },

    reportCounts(fromMs, toMs) {
      const ranges = hourRanges(fromMs, toMs);
      if (!reportReady || ranges.length === 0) return reportCountsOf([]);
      const kinds = [KIND_EVENTS, KIND_ERRORS_BY_MODEL, KIND_ERRORS_BY_KEY, KIND_SESSION_ANOMALIES];
      // One primary-key range scan per (kind, range), summed per key.
      const arms = kinds.flatMap((kind) =>
        ranges.map(
          () =>
            `SELECT kind, a, b, flags, n, hits FROM security_rollups WHERE granularity = ? AND kind = ${kind} AND bucket >= ? AND bucket < ?`,
        ),
      );
      const params = kinds.flatMap(() => ranges.flatMap((r) => [r.granularity, r.from, r.to]));
      const rows = statement(
        `SELECT kind, a, b, flags, SUM(n) AS n, SUM(hits) AS hits FROM (${arms.join(' UNION ALL ')})
         GROUP BY kind, a, b, flags`,
      ).all(...params) as { kind: number; a: string; b: string; flags: number; n: number; hits: number }[];
      return reportCountsOf(rows);
    },

    sessionIndicators(sessionIds, fromMs, toMs) {
      const out = new Map<string, string[]>();
      const ranges = hourRanges(fromMs, toMs);
      if (!reportReady || ranges.length === 0) return out;
      const st = statement(
        `SELECT DISTINCT b FROM (${ranges
          .map(
            () =>
              `SELECT b FROM security_rollups WHERE granularity = ? AND kind = ${KIND_SESSION_INDICATORS} AND bucket >= ? AND bucket < ? AND a = ?`,
          )
          .join(' UNION ALL ')}) ORDER BY b`,
      ).pluck();
      for (const id of sessionIds) {
        const found = st.all(...ranges.flatMap((r) => [r.granularity, r.from, r.to, id])) as string[];
        if (found.length > 0) out.set(id, found);
      }
      return out;
    },

    rebuild() {
      if (!many)
        throw new TollgateError('TG_ERR_STORE_WRITE', { table: 'security_rollups', reason: 'read-only' });
      db.transaction(() => {
        db.prepare('DELETE FROM security_rollups').run();
        fromEvents();
      })();
    },
  };
}
