/**
 * The provider quota summary in PostgreSQL (see provider-quota-rollups.ts), shared by every
 * replica: written by PostgresRollups.apply in the append transaction, after the security rows
 * (one lock order for every transaction), rows sorted by key. Rollups migration 5 creates the
 * table and fills it from the stored events (`FROM_EVENTS`); `rebuild` does the same on demand.
 * The table is keyed by bucket, not by event time partition: it stays small (a row per provider
 * key, kind and minute with readings) and outlives the event partitions that retention drops.
 */
import { inTransaction } from './pg-transaction.js';
import type pg from 'pg';
import { DAY_MS, G_DAY, G_HOUR, G_MINUTE, HOUR_MS, MINUTE_MS } from '../rollups.js';
import {
  foldProviderQuota,
  providerQuotaOfRows,
  QUOTA_COLUMNS,
  QUOTA_KINDS,
  quotaMergeSet,
  quotaRanges,
  UNKNOWN_PROVIDER_KEY,
  type ProviderQuotaEvent,
  type ProviderQuotaReader,
  type ProviderQuotaSummary,
  type QuotaRow,
} from '../provider-quota-rollups.js';

const COLUMNS = QUOTA_COLUMNS.join(', ');
const GRANULARITIES = `(VALUES (${G_MINUTE}, ${MINUTE_MS}::bigint), (${G_HOUR}, ${HOUR_MS}::bigint), (${G_DAY}, ${DAY_MS}::bigint)) AS gs(g, size)`;
/** Latest first; a tie goes to the later write (cursor_), as in the UPSERT. */
const LATEST = 'ORDER BY e.t DESC, e.pos DESC';

/** The rows foldProviderQuota would write for every stored event, in SQL. `{schema}` is replaced. */
const FROM_EVENTS = `
  INSERT INTO {schema}.provider_quota_rollups (${COLUMNS})
  SELECT gs.g, e.t - (e.t % gs.size), e.key, e.kind,
    (array_agg(e.provider ${LATEST}))[1], (array_agg(e.remaining ${LATEST}))[1],
    (array_agg(e.lim ${LATEST}))[1], (array_agg(e.reset ${LATEST}))[1],
    MAX(e.t), COUNT(*), MIN(e.share),
    (array_agg(e.t ORDER BY e.share ASC, e.t ASC) FILTER (WHERE e.share IS NOT NULL))[1]
  FROM (${QUOTA_KINDS.map(
    (k, kind) => `SELECT (extract(epoch FROM ts) * 1000)::bigint AS t, cursor_ AS pos,
      COALESCE(provider_key_id, api_key_id, '${UNKNOWN_PROVIDER_KEY}') AS key, ${kind} AS kind,
      COALESCE(api_provider, '') AS provider, ${k.remaining} AS remaining, ${k.limit} AS lim, ${k.reset} AS reset,
      CASE WHEN ${k.limit} > 0 THEN ${k.remaining}::float8 / ${k.limit} END AS share
    FROM {schema}.events WHERE ${k.remaining} IS NOT NULL`,
  ).join(' UNION ALL ')}) e
  CROSS JOIN ${GRANULARITIES}
  GROUP BY 1, 2, 3, 4;`;

/** Rollups migration 5: the table, filled from the events already stored. */
export const PROVIDER_QUOTA_MIGRATION = `CREATE TABLE {schema}.provider_quota_rollups (
     granularity smallint NOT NULL,
     bucket bigint NOT NULL,
     key text COLLATE "C" NOT NULL,
     kind smallint NOT NULL,
     provider text NOT NULL,
     remaining bigint NOT NULL,
     lim bigint,
     reset text,
     at_ms bigint NOT NULL,
     readings bigint NOT NULL,
     lowest_share double precision,
     lowest_at_ms bigint,
     PRIMARY KEY (granularity, bucket, key, kind)
   ) WITH (fillfactor = 80);
   ${FROM_EVENTS}`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class PostgresProviderQuota implements ProviderQuotaReader {
  private readonly upsert: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
  ) {
    this.upsert = `INSERT INTO ${s}.provider_quota_rollups AS o (${COLUMNS})
      SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::text[], $4::smallint[], $5::text[], $6::bigint[],
        $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::float8[], $12::bigint[])
      ON CONFLICT (granularity, bucket, key, kind) DO UPDATE SET ${quotaMergeSet('postgres')}`;
  }

  /** Adds the events a transaction inserted; call inside it. Few rows (provider keys × kinds × 3), so plain arrays. */
  async apply(client: pg.ClientBase, events: readonly ProviderQuotaEvent[]): Promise<void> {
    const rows = foldProviderQuota(events);
    if (rows.length === 0) return;
    await client.query(
      this.upsert,
      QUOTA_COLUMNS.map((c) => rows.map((r) => r[c])),
    );
  }

  /** Recomputes every row from the stored events, in one transaction (writers' rows wait for it). */
  async rebuild(): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(`LOCK TABLE ${this.s}.provider_quota_rollups IN EXCLUSIVE MODE`);
      await client.query(`DELETE FROM ${this.s}.provider_quota_rollups`);
      await client.query(FROM_EVENTS.replaceAll('{schema}', this.s));
    });
  }

  async providerQuota(sinceMs: number, untilMs: number, top: number): Promise<ProviderQuotaSummary> {
    const params: number[] = [];
    const arms = quotaRanges(sinceMs, untilMs).map((r) => {
      params.push(r.granularity, r.from, r.to);
      const n = params.length;
      return `SELECT ${COLUMNS} FROM ${this.s}.provider_quota_rollups
        WHERE granularity = $${n - 2} AND bucket >= $${n - 1} AND bucket < $${n}`;
    });
    if (arms.length === 0) return { rows: [], sampled: false };
    const res = await this.pool.query<unknown[]>({
      text: arms.join(' UNION ALL '),
      values: params,
      rowMode: 'array',
    });
    return providerQuotaOfRows(
      res.rows.map((r): QuotaRow => ({
        granularity: Number(r[0]) as 0 | 1 | 2,
        bucket: Number(r[1]),
        key: r[2] as string,
        kind: Number(r[3]),
        provider: r[4] as string,
        remaining: Number(r[5]),
        lim: num(r[6]),
        reset: (r[7] as string | null) ?? null,
        at_ms: Number(r[8]),
        readings: Number(r[9]),
        lowest_share: num(r[10]),
        lowest_at_ms: num(r[11]),
      })),
      top,
    );
  }
}
