/**
 * Security rollups in PostgreSQL (see security-rollups.ts), shared by every replica: written by
 * PostgresRollups.apply in the append transaction, after the cost and session rows (one lock
 * order for every transaction), rows sorted by key. Rollups migration 3 creates the table and
 * fills it from the stored events (`FROM_EVENTS`); `rebuild` does the same on demand.
 */
import { inTransaction } from './pg-transaction.js';
import type pg from 'pg';
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
  type SecurityRollupReader,
} from '../security-rollups.js';
import { int2Array, int8Array, textArray } from './binary-arrays.js';

const COLUMNS = SECURITY_COLUMNS.join(', ');
const GRANULARITIES = `(VALUES (${G_MINUTE}, ${MINUTE_MS}::bigint), (${G_HOUR}, ${HOUR_MS}::bigint), (${G_DAY}, ${DAY_MS}::bigint)) AS gs(g, size)`;

/** The rows foldSecurity would write for every stored event, in SQL. `{schema}` is replaced. */
const FROM_EVENTS = `
  INSERT INTO {schema}.security_rollups (${COLUMNS})
  SELECT gs.g, ${KIND_AUTH_FAILURE}, e.t - (e.t % gs.size), COALESCE(ip_address, ''), COALESCE(api_key_id, ''),
    COALESCE(api_key_prefix, ''),
    (CASE WHEN ip_address IS NULL THEN ${FLAG_NO_IP} ELSE 0 END) | (CASE WHEN api_key_id IS NULL THEN ${FLAG_NO_KEY} ELSE 0 END)
      | (CASE WHEN api_key_prefix IS NULL THEN ${FLAG_NO_PREFIX} ELSE 0 END)
      | (CASE WHEN status IN ('AUTH_FAILED', 'BLOCKED') THEN ${FLAG_REFUSED} ELSE 0 END),
    COUNT(*), 0, MAX(e.t)
  FROM (SELECT (extract(epoch FROM ts) * 1000)::bigint AS t, ip_address, api_key_id, api_key_prefix, status
        FROM {schema}.events WHERE status = 'AUTH_FAILED' OR (auth_result IS NOT NULL AND auth_result <> 'SUCCESS')) e
  CROSS JOIN ${GRANULARITIES}
  GROUP BY 1, 3, 4, 5, 6, 7;
  INSERT INTO {schema}.security_rollups (${COLUMNS})
  SELECT gs.g, ${KIND_REDACTION}, e.t - (e.t % gs.size), r->>'type', '', '', 0, COUNT(*), SUM((r->>'count')::bigint), MAX(e.t)
  FROM (SELECT (extract(epoch FROM ts) * 1000)::bigint AS t, redactions
        FROM {schema}.events WHERE redactions IS NOT NULL AND redactions <> '[]'::jsonb) e
  CROSS JOIN LATERAL jsonb_array_elements(e.redactions) AS r
  CROSS JOIN ${GRANULARITIES}
  GROUP BY 1, 3, 4;`;

const HOUR_AND_DAY = `(VALUES (${G_HOUR}, ${HOUR_MS}::bigint), (${G_DAY}, ${DAY_MS}::bigint)) AS gs(g, size)`;
const EVENT_TS = `(extract(epoch FROM ts) * 1000)::bigint`;
/** Neither an auth failure (isAuthFailure) nor CANCELLED: the requests error rates count. */
const COUNTED_REQUEST = `status <> 'AUTH_FAILED' AND (auth_result IS NULL OR auth_result = 'SUCCESS') AND status <> 'CANCELLED'`;

/** The report-only kinds foldSecurity would write for every stored event, in SQL. */
const REPORT_FROM_EVENTS = `
  INSERT INTO {schema}.security_rollups (${COLUMNS})
  SELECT gs.g, ${KIND_EVENTS}, e.t - (e.t % gs.size), '', '', '', 0, COUNT(*), 0, MAX(e.t)
  FROM (SELECT ${EVENT_TS} AS t FROM {schema}.events) e CROSS JOIN ${HOUR_AND_DAY}
  GROUP BY 1, 3;
  ${(
    [
      [KIND_ERRORS_BY_MODEL, 'COALESCE(model_used, model_requested)'],
      [KIND_ERRORS_BY_KEY, 'api_key_id'],
    ] as const
  )
    .map(
      ([kind, column]) => `INSERT INTO {schema}.security_rollups (${COLUMNS})
  SELECT gs.g, ${kind}, e.t - (e.t % gs.size), e.k, '', '', 0, COUNT(*), SUM(e.failed), MAX(e.t)
  FROM (SELECT ${EVENT_TS} AS t, ${column} AS k, CASE WHEN status <> 'SUCCESS' THEN 1 ELSE 0 END AS failed
        FROM {schema}.events WHERE ${COUNTED_REQUEST} AND ${column} IS NOT NULL) e
  CROSS JOIN ${HOUR_AND_DAY}
  GROUP BY 1, 3, 4;`,
    )
    .join('\n  ')}
  INSERT INTO {schema}.security_rollups (${COLUMNS})
  SELECT gs.g, ${KIND_SESSION_ANOMALIES}, e.t - (e.t % gs.size), e.session_id, COALESCE(e.user_id, ''), '',
    CASE WHEN e.user_id IS NULL THEN ${FLAG_NO_USER} ELSE 0 END, COUNT(*), 0, MAX(e.t)
  FROM (SELECT ${EVENT_TS} AS t, session_id, user_id FROM {schema}.events
        WHERE is_anomalous AND session_id IS NOT NULL) e
  CROSS JOIN ${HOUR_AND_DAY}
  GROUP BY 1, 3, 4, 5, 7;
  INSERT INTO {schema}.security_rollups (${COLUMNS})
  SELECT gs.g, ${KIND_SESSION_INDICATORS}, e.t - (e.t % gs.size), e.session_id, e.indicator, '', 0, COUNT(*), 0, MAX(e.t)
  FROM (SELECT DISTINCT ev.id, ${EVENT_TS} AS t, ev.session_id, i.value AS indicator
        FROM {schema}.events ev CROSS JOIN LATERAL jsonb_array_elements_text(ev.threat_indicators) AS i(value)
        WHERE ev.session_id IS NOT NULL AND ev.threat_indicators IS NOT NULL AND ev.threat_indicators <> '[]'::jsonb) e
  CROSS JOIN ${HOUR_AND_DAY}
  GROUP BY 1, 3, 4, 5;`;

/** Rollups migration 4: the report-only kinds, filled from the events already stored. */
export const SECURITY_REPORT_KINDS_MIGRATION = REPORT_FROM_EVENTS;

/** Rollups migration 3: the table, filled from the events already stored. */
export const SECURITY_ROLLUPS_MIGRATION = `CREATE TABLE {schema}.security_rollups (
     granularity smallint NOT NULL,
     kind smallint NOT NULL,
     bucket bigint NOT NULL,
     a text COLLATE "C" NOT NULL,
     b text COLLATE "C" NOT NULL,
     c text COLLATE "C" NOT NULL,
     flags smallint NOT NULL,
     n bigint NOT NULL,
     hits bigint NOT NULL,
     last_ts bigint NOT NULL,
     PRIMARY KEY (granularity, kind, bucket, a, b, c, flags)
   ) WITH (fillfactor = 80);
   ${FROM_EVENTS}`;

const int8 = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export class PostgresSecurityRollups implements SecurityRollupReader {
  private readonly upsert: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
  ) {
    this.upsert = `INSERT INTO ${s}.security_rollups AS o (${COLUMNS})
      SELECT * FROM unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
        $7::smallint[], $8::bigint[], $9::bigint[], $10::bigint[])
      ON CONFLICT (granularity, kind, bucket, a, b, c, flags) DO UPDATE SET
        n = o.n + excluded.n, hits = o.hits + excluded.hits, last_ts = GREATEST(o.last_ts, excluded.last_ts)`;
  }

  /** Adds the events a transaction inserted; call inside it. */
  async apply(client: pg.ClientBase, events: readonly SecurityRollupEvent[]): Promise<void> {
    const rows = foldSecurity(events);
    if (rows.length === 0) return;
    await client.query(this.upsert, [
      int2Array(rows.map((r) => r.granularity)),
      int2Array(rows.map((r) => r.kind)),
      int8Array(rows.map((r) => r.bucket)),
      textArray(rows.map((r) => r.a)),
      textArray(rows.map((r) => r.b)),
      textArray(rows.map((r) => r.c)),
      int2Array(rows.map((r) => r.flags)),
      int8Array(rows.map((r) => r.n)),
      int8Array(rows.map((r) => r.hits)),
      int8Array(rows.map((r) => r.last_ts)),
    ]);
  }

  /** Recomputes every row from the stored events, in one transaction (writers' rows wait for it). */
  async rebuild(): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(`LOCK TABLE ${this.s}.security_rollups IN EXCLUSIVE MODE`);
      await client.query(`DELETE FROM ${this.s}.security_rollups`);
      await client.query(FROM_EVENTS.replaceAll('{schema}', this.s));
      await client.query(REPORT_FROM_EVENTS.replaceAll('{schema}', this.s));
    });
  }

  /** One primary-key range scan per bucket range of one kind, as a UNION ALL. */
  private rowsOf(kind: number, sinceMs: number, untilMs: number, chartMs?: number) {
    const params: number[] = [];
    const sql = securityRanges(sinceMs, untilMs, chartMs)
      .map((r) => {
        params.push(r.granularity, r.from, r.to);
        const n = params.length;
        return `SELECT bucket, a, b, c, flags, n, hits, last_ts FROM ${this.s}.security_rollups
          WHERE granularity = $${n - 2} AND kind = ${kind} AND bucket >= $${n - 1} AND bucket < $${n}`;
      })
      .join(' UNION ALL ');
    return { sql, params };
  }

  async authFailures(sinceMs: number, untilMs: number, bucketMs: number): Promise<AuthFailureCounts> {
    const { sql, params } = this.rowsOf(KIND_AUTH_FAILURE, sinceMs, untilMs, bucketMs);
    if (!sql) return { pairs: [], over_time: [] };
    const [pairs, overTime] = await Promise.all([
      this.pool.query<unknown[]>({
        text: `SELECT a, b, c, flags, SUM(n), MAX(last_ts) FROM (${sql}) u GROUP BY a, b, c, flags`,
        values: params,
        rowMode: 'array',
      }),
      this.pool.query<unknown[]>({
        text: `SELECT bucket - (bucket % ${bucketMs}) AS start_ms, (flags & ${FLAG_REFUSED}) <> 0, SUM(n)
          FROM (${sql}) u GROUP BY 1, 2 ORDER BY 1`,
        values: params,
        rowMode: 'array',
      }),
    ]);
    return {
      pairs: pairs.rows.map((r) =>
        pairOf(r[0] as string, r[1] as string, r[2] as string, Number(r[3]), int8(r[4]), int8(r[5])),
      ),
      over_time: overTime.rows.map((r) => ({
        start_ms: int8(r[0]),
        refused: r[1] === true,
        failures: int8(r[2]),
      })),
    };
  }

  async redactionHits(sinceMs: number, untilMs: number): Promise<RedactionHits[]> {
    const { sql, params } = this.rowsOf(KIND_REDACTION, sinceMs, untilMs);
    if (!sql) return [];
    const res = await this.pool.query<unknown[]>({
      text: `SELECT a, SUM(hits), SUM(n) FROM (${sql}) u GROUP BY a ORDER BY 2 DESC, a ASC`,
      values: params,
      rowMode: 'array',
    });
    return res.rows.map((r) => ({ type: r[0] as string, hits: int8(r[1]), events: int8(r[2]) }));
  }

  async reportCounts(fromMs: number, toMs: number): Promise<SecurityReportCounts> {
    const ranges = hourRanges(fromMs, toMs);
    if (ranges.length === 0) return reportCountsOf([]);
    const params: number[] = [];
    const arms = ranges.map((r) => {
      params.push(r.granularity, r.from, r.to);
      const n = params.length;
      return `SELECT kind, a, b, flags, n, hits FROM ${this.s}.security_rollups
        WHERE granularity = $${n - 2} AND kind = ANY('{${KIND_EVENTS},${KIND_ERRORS_BY_MODEL},${KIND_ERRORS_BY_KEY},${KIND_SESSION_ANOMALIES}}'::smallint[])
          AND bucket >= $${n - 1} AND bucket < $${n}`;
    });
    const res = await this.pool.query<unknown[]>({
      text: `SELECT kind, a, b, flags, SUM(n), SUM(hits) FROM (${arms.join(' UNION ALL ')}) u GROUP BY kind, a, b, flags`,
      values: params,
      rowMode: 'array',
    });
    return reportCountsOf(
      res.rows.map((r) => ({
        kind: Number(r[0]),
        a: r[1] as string,
        b: r[2] as string,
        flags: Number(r[3]),
        n: int8(r[4]),
        hits: int8(r[5]),
      })),
    );
  }

  async sessionIndicators(
    sessionIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const ranges = hourRanges(fromMs, toMs);
    if (ranges.length === 0 || sessionIds.length === 0) return out;
    const params: unknown[] = [[...sessionIds]];
    const arms = ranges.map((r) => {
      params.push(r.granularity, r.from, r.to);
      const n = params.length;
      return `SELECT a, b FROM ${this.s}.security_rollups
        WHERE granularity = $${n - 2} AND kind = ${KIND_SESSION_INDICATORS} AND bucket >= $${n - 1} AND bucket < $${n}
          AND a = ANY($1::text[])`;
    });
    const res = await this.pool.query<unknown[]>({
      text: `SELECT DISTINCT a, b FROM (${arms.join(' UNION ALL ')}) u ORDER BY a, b`,
      values: params,
      rowMode: 'array',
    });
    for (const [a, b] of res.rows as [string, string][]) {
      const list = out.get(a);
      if (list) list.push(b);
      else out.set(a, [b]);
    }
    return out;
  }
}
