/**
 * 50 million events on PostgreSQL (issue 22, "Past one machine"): builds the store, then times
 * every dashboard page and every `tollgate report` over 30 days through a gateway started on it,
 * p50 / p95 / max next to the 500 ms target, in the same run.
 *
 *   npx tsx bench/postgres-scale.bench.ts [events=50000000] [--reuse] [--seed-only]
 *
 * In steps (the rollups can be written while the events are filled): `--fill-only`, then beside
 * it `--rollups` once the first chunk is in, then `--finish --no-rollups` after the fill, then
 * `--reuse` to time.
 *
 * PG_SCALE_URL (default postgres://postgres@127.0.0.1:5432/tollgate_bench_h22p, created when
 * missing) names the database; the store is its schema `tollgate`, dropped and rebuilt unless
 * --reuse. PG_SCALE_RUNS (default 20) runs per page after a warm-up. PG_SCALE_MIN_FREE_GB (default
 * 15): the fill stops early rather than leave less free disk than that once indexes are built.
 *
 * The build, server-side (Node-side row building is far too slow for 50 M rows on 2 cores):
 * 1. the store's own schema (openEventStore: events, checkpoints, rollups and summaries), one
 *    daily partition per day of the 30, secondary indexes dropped;
 * 2. rows by `INSERT … SELECT generate_series` on two connections, in chunks, each row a function
 *    of its number i (the formulas below, mirrored in `rollupEvent`);
 * 3. the indexes rebuilt (the schema ends identical to a gateway's), and at the same time every
 *    rollup and summary table filled from every event through PostgresRollups.apply (the
 *    writer's code path, events rebuilt client-side from the same formulas by
 *    PG_SCALE_ROLLUP_WORKERS writer processes, see fillRollups), then ANALYZE; the timed run
 *    first checks the rollups against the events. `--finish` redoes step 3 on a filled store.
 *    Cost: ~24 µs CPU per event in the writers (build 6.5, cost fold 6.5, security 6, quota 3.3,
 *    sessions 2, measured at load ~22), i.e. ~20 CPU-minutes at 50 M before the database's share.
 *
 * What is synthetic: `hash` / `prev_hash` are placeholders of the right length, not a chain (no
 * page or report reads them; verify is benched in verify.bench.ts); content is off
 * (`content_mode` none: no prompt or response stored, which keeps 50 M rows within this disk);
 * traffic is uniform over 30 days (5,000 users, 500 provider keys, 200 gateway keys, one session
 * per user per 6 days: up to 30,000 sessions, three replicas' chains). Times are relative to the
 * store's newest event only when fresh: with --reuse the windows end at the current time.
 */
import { fork } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/app/logger.js';
import { startTollgate } from '../src/app/start-tollgate.js';
import { blankEvent, type AuditEvent, type EventStatus } from '../src/core/audit-event.js';
import { loadConfig } from '../src/config/config.js';
import { COST_REPORT_BY, costReport } from '../src/reports/cost-report.js';
import { securityReport } from '../src/reports/security-report.js';
import { openEventStore } from '../src/store/open-event-store.js';
import { partitionFor } from '../src/store/postgres/event-partitions.js';
import type { RollupReader } from '../src/store/rollups.js';
import { dashboardPages, header, row, timed, timePages, type Timing } from './dashboard-pages.js';
import { loadAverages, SCALE_FEATURES, SCALE_MODELS } from './scale-traffic.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 50_000_000);
const REUSE = args.includes('--reuse');
const SEED_ONLY = args.includes('--seed-only');
/** Fill the events and stop (`--finish` completes the store later). */
const FILL_ONLY = args.includes('--fill-only');
/** Only the rollups of N events (from the fill's formulas; can run beside a --fill-only run). */
const ROLLUPS_ONLY = args.includes('--rollups');
const URL_ = process.env.PG_SCALE_URL ?? 'postgres://postgres@127.0.0.1:5432/tollgate_bench_h22p';
const SCHEMA = 'tollgate';
const RUNS = Number(process.env.PG_SCALE_RUNS ?? 20);
const MIN_FREE_GB = Number(process.env.PG_SCALE_MIN_FREE_GB ?? 15);
const DAY = 86_400_000;
const SPAN_US = 30 * DAY * 1000;
const USERS = 5000;
const SESSION_US = 6 * DAY * 1000;
const CHUNK = 500_000;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const freeGb = (): number => {
  const s = statfsSync('/var/lib/postgresql');
  return (s.bavail * s.bsize) / 1e9;
};

const MODELS = SCALE_MODELS;
const FEATURES = SCALE_FEATURES;
const REDACTION_TYPES = ['email', 'aws_access_key', 'phone', 'generic_secret'];
const sqlArray = (xs: readonly string[]): string => `(ARRAY[${xs.map((x) => `'${x}'`).join(',')}])`;

/**
 * Row i, server-side. The same formulas as rollupEvent: user u = i·7919 mod 5000; status by
 * r = i·31 mod 1000 (2 % AUTH_FAILED, 1.5 % SERVER_ERROR, 1.5 % RATE_LIMITED); 1 % with a
 * redaction; 0.1 % anomalous; time t = start + i·step µs.
 */
function fillSql(startUs: number, stepUs: number, from: number, to: number): string {
  return `INSERT INTO ${SCHEMA}.events (ts, schema_version, id, timestamp, request_id, chain_id, seq, prev_hash, hash,
      source, instance_id, ip_address, user_agent, api_provider, endpoint, http_method, model_requested, model_used, stream,
      auth_method, auth_result, api_key_id, api_key_prefix, virtual_key_id, input_tokens, output_tokens, total_tokens,
      cached_input_tokens, reasoning_tokens, usage_source, latency_ms, status, http_status_code, error_code, retry_count,
      finish_reason, user_id, session_id, feature_name, team, cost_micro_usd, pricing_version, content_mode, redactions,
      is_anomalous, threat_indicators, provider_key_id, provider_requests_remaining, provider_requests_limit)
    SELECT ts, 1,
      substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-8000-' || lpad(to_hex(i), 12, '0'),
      to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'req_' || i, 'gw-' || (i % 3), i / 3 + 1, lpad(to_hex(i * 31), 64, '0'), lpad(to_hex(i * 37), 64, '0'),
      'gateway', 'gw-' || (i % 3), '10.0.' || (u % 200) || '.' || (i % 7 + 1), 'bench-client/1.0', 'openai',
      '/chat/completions', 'POST', ${sqlArray(MODELS)}[(i / 3) % 5 + 1], ${sqlArray(MODELS)}[(i / 3) % 5 + 1], i % 2 = 0,
      'bearer', CASE WHEN r < 20 THEN 'FAILED' ELSE 'SUCCESS' END, 'kf_' || (u % 500), 'sk-proj-',
      CASE WHEN u % 3 = 0 THEN 'vk_' || (u % 200) END,
      CASE WHEN ok THEN 50 + (i * 37) % 2000 END, CASE WHEN ok THEN (i * 53) % 600 END,
      CASE WHEN ok THEN 50 + (i * 37) % 2000 + (i * 53) % 600 END, CASE WHEN ok THEN 0 END, CASE WHEN ok THEN 0 END,
      CASE WHEN ok THEN 'reported' END, 200 + i % 1500,
      CASE WHEN r < 20 THEN 'AUTH_FAILED' WHEN r < 35 THEN 'SERVER_ERROR' WHEN r < 50 THEN 'RATE_LIMITED' ELSE 'SUCCESS' END,
      CASE WHEN r < 20 THEN 401 WHEN r < 35 THEN 500 WHEN r < 50 THEN 429 ELSE 200 END,
      CASE WHEN NOT ok THEN 'TG_ERR_UPSTREAM_ERROR' END, 0, CASE WHEN ok THEN 'stop' END,
      'user-' || u, 's-' || u || '-' || ((${startUs}::bigint + i * ${stepUs}) / ${SESSION_US}),
      ${sqlArray(FEATURES)}[(i / 11) % 8 + 1], 'team-' || (u % 12),
      CASE WHEN ok THEN (50 + (i * 37) % 2000) * 2 + ((i * 53) % 600) * 8 END, CASE WHEN ok THEN 'bench' END, 'none',
      CASE WHEN (i * 13) % 100 = 0 THEN jsonb_build_array(jsonb_build_object('type', ${sqlArray(REDACTION_TYPES)}[(i / 100) % 4 + 1], 'count', 1 + (i / 100) % 2)) ELSE '[]'::jsonb END,
      i % 997 = 0, CASE WHEN i % 997 = 0 THEN '["prompt-injection.ignore-previous"]'::jsonb ELSE '[]'::jsonb END,
      CASE WHEN ok THEN 'pk_' || (i % 3) END, CASE WHEN ok THEN 10000 - i % 10000 END, CASE WHEN ok THEN 10000 END
    FROM generate_series(${from}::bigint, ${to - 1}::bigint) AS i,
      LATERAL (SELECT 'epoch'::timestamptz + (${startUs}::bigint + i * ${stepUs}) * interval '1 microsecond' AS ts,
        (i * 7919) % ${USERS} AS u, (i * 31) % 1000 AS r) AS a,
      LATERAL (SELECT lpad(to_hex((${startUs}::bigint + i * ${stepUs}) / 1000), 12, '0') AS h, a.r >= 50 AS ok) AS b`;
}

/** Row i as the writer would hand it to the rollups (the fields they read; the formulas of fillSql). */
function rollupEvent(startUs: number, stepUs: number, i: number): AuditEvent {
  const tUs = startUs + i * stepUs;
  const e = blankEvent({
    id: '',
    timestamp: new Date(Math.floor(tUs / 1000)).toISOString(),
    source: 'gateway',
  });
  const u = (i * 7919) % USERS;
  const r = (i * 31) % 1000;
  const ok = r >= 50;
  const status: EventStatus =
    r < 20 ? 'AUTH_FAILED' : r < 35 ? 'SERVER_ERROR' : r < 50 ? 'RATE_LIMITED' : 'SUCCESS';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.ip_address = `10.0.${u % 200}.${(i % 7) + 1}`;
  e.model_requested = e.model_used = MODELS[Math.floor(i / 3) % 5]!;
  e.auth_result = r < 20 ? 'FAILED' : 'SUCCESS';
  e.api_key_id = `kf_${u % 500}`;
  e.api_key_prefix = 'sk-proj-';
  e.virtual_key_id = u % 3 === 0 ? `vk_${u % 200}` : null;
  e.status = status;
  if (ok) {
    e.input_tokens = 50 + ((i * 37) % 2000);
    e.output_tokens = (i * 53) % 600;
    e.total_tokens = e.input_tokens + e.output_tokens;
    e.cached_input_tokens = 0;
    e.reasoning_tokens = 0;
    e.usage_source = 'reported';
    e.cost_micro_usd = e.input_tokens * 2 + e.output_tokens * 8;
    e.provider_key_id = `pk_${i % 3}`;
    e.provider_requests_remaining = 10000 - (i % 10000);
    e.provider_requests_limit = 10000;
  }
  e.user_id = `user-${u}`;
  e.session_id = `s-${u}-${Math.floor(tUs / SESSION_US)}`;
  e.feature_name = FEATURES[Math.floor(i / 11) % 8]!;
  e.team = `team-${u % 12}`;
  if ((i * 13) % 100 === 0)
    e.redactions = [
      { type: REDACTION_TYPES[Math.floor(i / 100) % 4]!, count: 1 + (Math.floor(i / 100) % 2) },
    ] as AuditEvent['redactions'];
  e.is_anomalous = i % 997 === 0;
  e.threat_indicators = i % 997 === 0 ? ['prompt-injection.ignore-previous'] : [];
  return e;
}

async function ensureDatabase(): Promise<void> {
  const u = new URL(URL_);
  const name = u.pathname.slice(1);
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
}

const t0 = performance.now();
const secs = (): string => ((performance.now() - t0) / 1000).toFixed(0);

/** Fills the events (every secondary index dropped); `finish` completes the store. */
async function fill(admin: pg.Pool, nowMs: number): Promise<number> {
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const endUs = nowMs * 1000;
  const startUs = endUs - SPAN_US;
  const stepUs = Math.floor(SPAN_US / N);
  const opened = await openEventStore(`${URL_}?schema=${SCHEMA}`);
  await opened.store.close();
  // Every day's partition (the store makes them on append; here they are made up front).
  for (let ms = startUs / 1000; ms < endUs / 1000 + DAY; ms += DAY) {
    const p = partitionFor(ms, 'day');
    await admin.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}."${p.name}" PARTITION OF ${SCHEMA}.events FOR VALUES FROM ('${new Date(p.fromMs).toISOString()}') TO ('${new Date(p.toMs).toISOString()}')`,
    );
  }
  const indexes = (
    await admin.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' AND indexname <> 'events_pkey'`,
      [SCHEMA],
    )
  ).rows;
  for (const ix of indexes) await admin.query(`DROP INDEX ${SCHEMA}.${ix.name}`);
  console.log(
    `filling ${fmt(N)} events over 30 days server-side (${indexes.length} secondary indexes dropped; free disk ${freeGb().toFixed(0)} GB, load ${loadAverages()}):`,
  );
  // Two connections fill alternate chunks. After the first chunks, the bytes per row (heap and
  // primary key) give the disk the whole store will take; the fill stops early if it would not fit.
  let next = 0;
  let loaded = 0;
  let limit = N;
  const eventsBytes = async (): Promise<number> =>
    Number(
      (
        await admin.query<{ b: string }>(
          `SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) AS b FROM pg_inherits WHERE inhparent = '${SCHEMA}.events'::regclass`,
        )
      ).rows[0]!.b,
    );
  const filler = async (): Promise<void> => {
    while (next < limit) {
      const from = next;
      const to = Math.min(limit, from + CHUNK);
      next = to;
      await admin.query(fillSql(startUs, stepUs, from, to));
      loaded += to - from;
      if (loaded === 2 * CHUNK) {
        const perRow = (await eventsBytes()) / loaded;
        // Secondary indexes took ~0.45 of the heap + key in the 10 M run (13 GB with indexes).
        const need = (perRow * 1.45 * (N - loaded)) / 1e9;
        const free = freeGb();
        if (free - need < MIN_FREE_GB) {
          limit = Math.max(loaded, Math.floor(loaded + ((free - MIN_FREE_GB) * 1e9) / (perRow * 1.45)));
          console.log(
            `  ${perRow.toFixed(0)} B per row so far: ${fmt(N)} rows would leave ${(free - need).toFixed(0)} GB free; stopping at ${fmt(limit)}`,
          );
        } else
          console.log(
            `  ${perRow.toFixed(0)} B per row (heap + key); ~${need.toFixed(0)} GB to go, ${free.toFixed(0)} GB free`,
          );
      }
      if (loaded % 5_000_000 === 0) console.log(`  ${fmt(loaded)} rows, ${secs()} s, load ${loadAverages()}`);
    }
  };
  await Promise.all([filler(), filler()]);
  console.log(`  loaded ${fmt(next)} rows in ${secs()} s`);
  return next;
}

/** The fill's first event time (µs): row 0 has the smallest id (ids start with the time). */
async function firstEventUs(admin: pg.Pool): Promise<number> {
  const res = await admin.query<{ us: string }>(
    `SELECT (EXTRACT(EPOCH FROM ts) * 1000000)::bigint AS us FROM ${SCHEMA}.events ORDER BY id LIMIT 1`,
  );
  return Number(res.rows[0]!.us);
}

/** Events handed to the rollups per transaction: ~1.4 hours of traffic (N / 500). */
const ROLLUP_BATCH = Number(process.env.PG_SCALE_ROLLUP_BATCH ?? Math.max(1000, Math.round(N / 500)));
/** Writer processes for the rollups, each a range of whole sessions (see fillRollups). */
const ROLLUP_WORKERS = Number(process.env.PG_SCALE_ROLLUP_WORKERS ?? 6);
const RANGE_ARG = args.find((a) => a.startsWith('--rollups-range='));

/**
 * Event ranges [from, to) that split at session boundaries: a session is one user's 6 days since
 * the epoch (fillSql), so cutting where t crosses a multiple of SESSION_US gives every session,
 * and every UTC day, to one writer, which writes it in order (exact summaries, as one replica).
 */
function sessionAlignedRanges(
  loaded: number,
  startUs: number,
  stepUs: number,
  parts: number,
): [number, number][] {
  const cuts = [0];
  const endUs = startUs + loaded * stepUs;
  for (let p = Math.ceil(startUs / SESSION_US); p * SESSION_US < endUs; p++) {
    const i = Math.ceil((p * SESSION_US - startUs) / stepUs);
    if (i > 0 && i < loaded) cuts.push(i);
  }
  cuts.push(loaded);
  const ranges: [number, number][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) ranges.push([cuts[k]!, cuts[k + 1]!]);
  // Fewer writers than periods: neighbouring periods go to one writer.
  while (ranges.length > parts) {
    let best = 0;
    for (let k = 1; k + 1 < ranges.length; k++)
      if (
        ranges[k]![1] - ranges[k]![0] + ranges[k + 1]![1] - ranges[k + 1]![0] <
        ranges[best]![1] - ranges[best]![0] + ranges[best + 1]![1] - ranges[best + 1]![0]
      )
        best = k;
    ranges.splice(best, 2, [ranges[best]![0], ranges[best + 1]![1]]);
  }
  return ranges;
}

/** Applies events [from, to) (rollupEvent) through PostgresRollups.apply, ROLLUP_BATCH per transaction. */
async function applyRange(from: number, to: number, startUs: number): Promise<void> {
  const stepUs = Math.floor(SPAN_US / N);
  const opened = await openEventStore(`${URL_}?schema=${SCHEMA}`);
  if (opened.kind !== 'postgres') throw new Error('not a PostgreSQL store');
  const { store, rollups } = opened;
  const client = await store.connectionPool.connect();
  const apply = async (batch: AuditEvent[]): Promise<void> => {
    await client.query('BEGIN');
    await rollups.apply(client, batch);
    await client.query('COMMIT');
  };
  // One event first: a writer's first batch takes the fold mark FOR UPDATE (it has not seen the
  // mark yet), and should hold it only briefly; the next batch is built while the database works
  // on the previous one.
  let pending: Promise<void> = apply([rollupEvent(startUs, stepUs, from)]);
  for (let at = from + 1; at < to; at += ROLLUP_BATCH) {
    const batch: AuditEvent[] = [];
    for (let i = at; i < Math.min(to, at + ROLLUP_BATCH); i++) batch.push(rollupEvent(startUs, stepUs, i));
    await pending;
    pending = apply(batch);
  }
  await pending;
  client.release();
  await store.close();
}

/**
 * Every rollup and summary table from every one of the `loaded` events, through
 * PostgresRollups.apply (the writer's code path: cost, session hour segments, whole-life and day
 * summaries, security, provider quota), by ROLLUP_WORKERS processes at once, as replicas write:
 * each a range of whole sessions, in write order. The events come from the fill's formulas
 * (rollupEvent), so this can run while the fill does.
 *
 * The day-fold mark is set first to the last hour of the traffic, as a writer leaves it after the
 * last batch: every batch then adds its day rows itself (the late-event path of foldBatch, which
 * the contract tests hold equal to the fold), and the writers never wait for each other's fold
 * lock (a writer ahead in time would fold under FOR UPDATE while the others hold FOR SHARE).
 */
async function fillRollups(admin: pg.Pool, loaded: number, startUs: number): Promise<void> {
  const stepUs = Math.floor(SPAN_US / N);
  const t = performance.now();
  // The migrations (session_days, …) before the writers open the store at once.
  await (await openEventStore(`${URL_}?schema=${SCHEMA}`)).store.close();
  // A build stopped midway left rollups behind: start them afresh.
  await admin.query(
    `TRUNCATE ${SCHEMA}.cost_rollups, ${SCHEMA}.session_rollups, ${SCHEMA}.session_totals, ${SCHEMA}.session_days,
       ${SCHEMA}.security_rollups, ${SCHEMA}.provider_quota_rollups`,
  );
  const lastMs = Math.floor((startUs + (loaded - 1) * stepUs) / 1000);
  await admin.query(`UPDATE ${SCHEMA}.rollup_state SET value = $1 WHERE name = 'day_folded_through_ms'`, [
    lastMs - (lastMs % 3_600_000),
  ]);
  const ranges = sessionAlignedRanges(loaded, startUs, stepUs, ROLLUP_WORKERS);
  console.log(
    `rollups of all ${fmt(loaded)} events through PostgresRollups.apply, ${ranges.length} writers (${ranges.map(([a, b]) => fmt(b - a)).join(', ')} events), ${fmt(ROLLUP_BATCH)} per transaction (load ${loadAverages()}):`,
  );
  await Promise.all(
    ranges.map(
      ([from, to]) =>
        new Promise<void>((resolve, reject) => {
          const child = fork(
            fileURLToPath(import.meta.url),
            [String(N), `--rollups-range=${from}:${to}:${startUs}`],
            {
              stdio: 'inherit',
            },
          );
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`rollup writer ${from}:${to} exited ${code}`)),
          );
        }),
    ),
  );
  console.log(
    `  rollups and summaries of ${fmt(loaded)} events in ${((performance.now() - t) / 1000).toFixed(0)} s (load ${loadAverages()})`,
  );
}

/**
 * Completes a filled store (also one whose build was stopped after the fill): the missing
 * indexes and, meanwhile unless `--no-rollups` (filled by a `--rollups` run beside the fill), the
 * rollups and summaries of every event; chain heads, the cursor sequence, ANALYZE.
 */
async function finish(admin: pg.Pool, loaded: number, withRollups: boolean): Promise<void> {
  const startUs = await firstEventUs(admin);
  // The store's index definitions, read from a throwaway schema the store creates.
  const ref = `${SCHEMA}_ref`;
  const refStore = await openEventStore(`${URL_}?schema=${ref}`);
  await refStore.store.close();
  const indexes = (
    await admin.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' AND indexname <> 'events_pkey'`,
      [ref],
    )
  ).rows.map((ix) => ({
    name: ix.name,
    // ONLY would skip the partitions.
    def: ix.def
      .replace('CREATE INDEX ', 'CREATE INDEX IF NOT EXISTS ')
      .replace(` ON ONLY ${ref}.`, ` ON ${SCHEMA}.`),
  }));
  await admin.query(`DROP SCHEMA ${ref} CASCADE`);
  const tFill = performance.now();
  // Indexes on one connection; the rollups through the writer's code path on another, meanwhile.
  const indexWork = (async () => {
    const c = await admin.connect();
    await c.query("SET maintenance_work_mem = '1GB'");
    for (const ix of indexes) await c.query(ix.def);
    c.release();
    console.log(
      `  ${indexes.length} indexes rebuilt in ${((performance.now() - tFill) / 1000).toFixed(0)} s`,
    );
  })();
  await Promise.all([indexWork, withRollups ? fillRollups(admin, loaded, startUs) : null]);
  // Chain heads from the fill's formulas (chain gw-k holds rows i ≡ k mod 3, seq i/3 + 1).
  await admin.query(`DELETE FROM ${SCHEMA}.chain_heads`);
  for (let k = 0; k < 3; k++) {
    const last = loaded - 1 - ((loaded - 1 - k + 3) % 3);
    await admin.query(
      `INSERT INTO ${SCHEMA}.chain_heads (chain_id, seq, hash, count) VALUES ($1, $2, $3, $4)`,
      [
        `gw-${k}`,
        Math.floor(last / 3) + 1,
        (last * 37).toString(16).padStart(64, '0'),
        Math.floor((loaded - 1 - k) / 3) + 1,
      ],
    );
  }
  await admin.query(
    `SELECT setval('${SCHEMA}.events_cursor_seq', (SELECT MAX(cursor_) FROM ${SCHEMA}.events))`,
  );
  // Planner statistics. No VACUUM: autovacuum sets the visibility map of the insert-only
  // partitions in the background (PostgreSQL ≥ 13 vacuums on inserts), as on a live store.
  const tVac = performance.now();
  await admin.query(`ANALYZE ${SCHEMA}.events`);
  await admin.query(`ANALYZE`);
  console.log(`  ANALYZE in ${((performance.now() - tVac) / 1000).toFixed(0)} s; build ${secs()} s in all`);
}

/**
 * The rollups say what the events say: one user's cost from the stored rows, and every
 * auth failure from the fill's formula. A user's status never changes (r depends on i mod 1000,
 * fixed by u = i·7919 mod 5000): user-1900 (row 100) succeeds.
 */
async function check(admin: pg.Pool, reader: RollupReader, loaded: number): Promise<void> {
  const ev = (
    await admin.query<{ c: string; lo: Date; hi: Date }>(
      `SELECT (SELECT SUM(cost_micro_usd) FROM ${SCHEMA}.events WHERE user_id = 'user-1900') AS c,
              (SELECT MIN(ts) FROM ${SCHEMA}.events) AS lo, (SELECT MAX(ts) FROM ${SCHEMA}.events) AS hi`,
    )
  ).rows[0]!;
  let failures = 0;
  for (let i = 0; i < loaded; i++) if ((i * 31) % 1000 < 20) failures++;
  const from = ev.lo.getTime() - DAY;
  const to = ev.hi.getTime() + DAY;
  const cost =
    (await reader.groups('user', from, to)).find((g) => g.key === 'user-1900')?.cost_micro_usd ?? 0;
  const auth = (await reader.authFailures(from, to, DAY)).pairs.reduce((s, p) => s + p.failures, 0);
  console.log(
    `check (rollups of every event): user-1900 cost ${fmt(Number(ev.c))} µUSD from events, ${fmt(cost)} from rollups ${Number(ev.c) === cost ? 'ok' : 'MISMATCH'}; ` +
      `auth failures ${fmt(failures)} by the fill's formula, ${fmt(auth)} from rollups ${failures === auth ? 'ok' : 'MISMATCH'}`,
  );
}

async function main(): Promise<void> {
  console.log(
    `PostgreSQL at scale (issue 22): ${URL_.replace(/\/\/[^@]*@/, '//')}, schema ${SCHEMA}; load ${loadAverages()}`,
  );
  await ensureDatabase();
  const admin = new pg.Pool({ connectionString: URL_, max: 3 });
  const version = (await admin.query<{ v: string }>('SELECT current_setting($$server_version$$) AS v'))
    .rows[0]!.v;
  console.log(`server ${version}; node ${process.version}; free disk ${freeGb().toFixed(0)} GB`);
  // --finish: complete a store whose build stopped after the fill (indexes, rollups, heads).
  if (FILL_ONLY) {
    console.log(`filled ${fmt(await fill(admin, Date.now()))} events; complete with --finish`);
    return void (await admin.end());
  }
  if (RANGE_ARG) {
    const [from, to, startUs] = RANGE_ARG.slice('--rollups-range='.length).split(':').map(Number);
    await applyRange(from!, to!, startUs!);
    return void (await admin.end());
  }
  if (ROLLUPS_ONLY) {
    await fillRollups(admin, N, await firstEventUs(admin));
    return void (await admin.end());
  }
  const withRollups = !args.includes('--no-rollups');
  if (!REUSE && !args.includes('--finish')) await finish(admin, await fill(admin, Date.now()), withRollups);
  else if (args.includes('--finish')) await finish(admin, N, withRollups);
  const size = (
    await admin.query<{ s: string; n: string; p: string }>(
      `SELECT pg_size_pretty(SUM(pg_total_relation_size(inhrelid))) AS s, COUNT(*) AS p,
        (SELECT SUM(count) FROM ${SCHEMA}.chain_heads) AS n FROM pg_inherits WHERE inhparent = '${SCHEMA}.events'::regclass`,
    )
  ).rows[0]!;
  const rollupSize = (
    await admin.query<{ s: string }>(
      `SELECT pg_size_pretty(SUM(pg_total_relation_size(c.oid))) AS s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname NOT LIKE 'events%'`,
      [SCHEMA],
    )
  ).rows[0]!.s;
  console.log(
    `store: ${fmt(Number(size.n))} events in ${size.p} partitions, ${size.s} with indexes; other tables (rollups, summaries, …) ${rollupSize}; free disk ${freeGb().toFixed(0)} GB`,
  );
  if (SEED_ONLY) return void (await admin.end());

  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      db: `${URL_}?schema=${SCHEMA}`,
      data_dir: join(tmpdir(), 'tollgate-pg-scale-bench'),
      port: 0,
      upstream_url: 'http://127.0.0.1:9/v1',
      provider: 'openai',
      // A fourth replica of its own (the store's three chains are not resumed by it).
      instance_id: 'bench-dashboard',
      // The self-check would verify the synthetic chains (their hashes are placeholders).
      'checkpoints.self_check_ms': null,
    },
  });
  const t0 = performance.now();
  const tg = await startTollgate({ config, log: createLogger('silent') });
  console.log(`startTollgate on the store: ${(performance.now() - t0).toFixed(0)} ms`);
  await check(admin, tg.rollups, N);
  const sample = (await tg.store.query({ user: 'user-7', limit: 1 }))[0]!;

  const all = new Map<string, Timing>();
  console.log(
    `\ndashboard pages and admin API, server time to the full response, ${RUNS} runs after a warm-up (load ${loadAverages()}):`,
  );
  for (const [k, v] of await timePages(tg, dashboardPages('user-7', sample.id), RUNS)) all.set(k, v);

  const now = Date.now();
  const since30 = now - 30 * DAY;
  console.log(
    `\nreports over 30 days as the CLI computes them, ${RUNS} runs after a warm-up (load ${loadAverages()}):`,
  );
  header('report');
  for (const by of COST_REPORT_BY) {
    let rows = 0;
    const st = await timed(async () => {
      rows = (await costReport(tg.rollups, { by, sinceMs: since30, untilMs: now })).rows.length;
    }, RUNS);
    all.set(`report cost --by ${by}`, st);
    console.log(row(`report cost --by ${by} --since 30d`, st, `${fmt(rows)} rows`));
  }
  for (const [label, sinceMs] of [
    ['report security --since 30d', since30],
    ['report security (24h)', now - DAY],
  ] as const) {
    let events = 0;
    const st = await timed(async () => {
      events = (
        await securityReport({ rollups: tg.rollups, alerts: tg.alerts }, { sinceMs, untilMs: now + 1 })
      ).events;
    }, RUNS);
    all.set(label, st);
    console.log(row(label, st, `${fmt(events)} events`));
  }
  const slow = [...all].filter(([, t]) => t.p95 > 500);
  console.log(
    `\n${all.size - slow.length} of ${all.size} pages and reports within 500 ms at p95 (load ${loadAverages()})` +
      (slow.length ? `; over: ${slow.map(([k]) => k).join(', ')}` : ''),
  );
  await tg.close();
  await admin.end();
}

await main();
