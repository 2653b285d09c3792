/**
 * 50 million events on PostgreSQL (issue 22, "Past one machine"): builds the store, then times
 * every dashboard page and every `tollgate report` over 30 days through a gateway started on it,
 * p50 / p95 / max next to the 500 ms target, in the same run.
 *
 *   npx tsx bench/postgres-scale.bench.ts [events=50000000] [--reuse] [--seed-only]
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
 * 3. the indexes rebuilt (the schema ends identical to a gateway's), and at the same time the
 *    rollups and summary tables filled through PostgresRollups.apply (the writer's code path, in
 *    transactions of 20,000 events rebuilt client-side from the same formulas) from one event in
 *    PG_SCALE_ROLLUP_SAMPLE (default 10, see ROLLUP_SAMPLE), then ANALYZE; the timed run first
 *    checks the rollups against the sampled events. `--finish` redoes step 3 on a filled store.
 *
 * What is synthetic: `hash` / `prev_hash` are placeholders of the right length, not a chain (no
 * page or report reads them; verify is benched in verify.bench.ts); content is off
 * (`content_mode` none: no prompt or response stored, which keeps 50 M rows within this disk);
 * traffic is uniform over 30 days (5,000 users, 500 provider keys, 200 gateway keys, one session
 * per user per 6 days: up to 30,000 sessions, three replicas' chains). Times are relative to the
 * store's newest event only when fresh: with --reuse the windows end at the current time.
 */
import { statfsSync } from 'node:fs';
import { loadavg as osLoad, tmpdir } from 'node:os';
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

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 50_000_000);
const REUSE = args.includes('--reuse');
const SEED_ONLY = args.includes('--seed-only');
const URL_ = process.env.PG_SCALE_URL ?? 'postgres://postgres@127.0.0.1:5432/tollgate_bench_h22p';
const SCHEMA = 'tollgate';
const RUNS = Number(process.env.PG_SCALE_RUNS ?? 20);
const MIN_FREE_GB = Number(process.env.PG_SCALE_MIN_FREE_GB ?? 15);
const DAY = 86_400_000;
const SPAN_US = 30 * DAY * 1000;
const USERS = 5000;
const SESSION_US = 6 * DAY * 1000;
const CHUNK = 500_000;
/**
 * The rollups are filled from one block of 5,000 consecutive events in ROLLUP_SAMPLE: at load ~20
 * on 2 vCPUs PostgresRollups.apply took ~3,500 events/s, hours for 50 M. A block holds every user
 * once (u = i·7919 mod 5000 runs through every residue), so every user, key and team has rows on
 * every day and every session its summary: the 30-day reads read as many summary rows as after a
 * full fill; their figures are 1/ROLLUP_SAMPLE of the events'. (The first 50 M run sampled runs of
 * 7 events, i mod 70 < 7, which reaches only the users whose i mod 10 ≤ 6: 70 % of them.)
 */
const ROLLUP_SAMPLE = Number(process.env.PG_SCALE_ROLLUP_SAMPLE ?? 10);
const sampled = (i: number): boolean => Math.floor(i / USERS) % ROLLUP_SAMPLE === 0;
const SAMPLED_SQL = `(substr(request_id, 5)::bigint / ${USERS}) % ${ROLLUP_SAMPLE} = 0`;

const loadavg = (): string =>
  osLoad()
    .map((x) => x.toFixed(1))
    .join(' / ');
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const freeGb = (): number => {
  const s = statfsSync('/var/lib/postgresql');
  return (s.bavail * s.bsize) / 1e9;
};

const MODELS = [
  'gpt-4.1-2025-04-14',
  'gpt-4.1-mini-2025-04-14',
  'gpt-4o-mini',
  'text-embedding-3-small',
  'o3',
];
const FEATURES = [
  'chat',
  'search',
  'summarize',
  'support-bot',
  'agent',
  'translate',
  'code-review',
  'reports',
];
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
    `filling ${fmt(N)} events over 30 days server-side (${indexes.length} secondary indexes dropped; free disk ${freeGb().toFixed(0)} GB, load ${loadavg()}):`,
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
      if (loaded % 5_000_000 === 0) console.log(`  ${fmt(loaded)} rows, ${secs()} s, load ${loadavg()}`);
    }
  };
  await Promise.all([filler(), filler()]);
  console.log(`  loaded ${fmt(next)} rows in ${secs()} s`);
  return next;
}

/**
 * Completes a filled store (also one whose build was stopped after the fill): the missing
 * indexes, and meanwhile the rollups and summaries from the sampled events; chain heads, the
 * cursor sequence, ANALYZE.
 */
async function finish(admin: pg.Pool, loaded: number): Promise<void> {
  const bounds = (
    await admin.query<{ lo: string }>(
      `SELECT (EXTRACT(EPOCH FROM MIN(ts)) * 1000000)::bigint AS lo FROM ${SCHEMA}.events`,
    )
  ).rows[0]!;
  const startUs = Number(bounds.lo);
  const stepUs = Math.floor(SPAN_US / N);
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
  const opened = await openEventStore(`${URL_}?schema=${SCHEMA}`);
  if (opened.kind !== 'postgres') throw new Error('not a PostgreSQL store');
  const { store, rollups } = opened;
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
  const rollupWork = (async () => {
    // A build stopped midway left rollups behind: start them afresh.
    await admin.query(
      `TRUNCATE ${SCHEMA}.cost_rollups, ${SCHEMA}.session_rollups, ${SCHEMA}.session_totals, ${SCHEMA}.security_rollups`,
    );
    await admin.query(`UPDATE ${SCHEMA}.rollup_state SET value = NULL`);
    const client = await store.connectionPool.connect();
    let batch: AuditEvent[] = [];
    let applied = 0;
    const flush = async (): Promise<void> => {
      await client.query('BEGIN');
      await rollups.apply(client, batch);
      await client.query('COMMIT');
      applied += batch.length;
      batch = [];
    };
    for (let i = 0; i < loaded; i++) {
      if (!sampled(i)) continue;
      batch.push(rollupEvent(startUs, stepUs, i));
      if (batch.length === 20_000) await flush();
      if (i % 5_000_000 === 0 && i > 0) console.log(`  rollups: up to event ${fmt(i)}, ${secs()} s`);
    }
    if (batch.length > 0) await flush();
    client.release();
    console.log(
      `  rollups and summaries of ${fmt(applied)} sampled events (1 in ${ROLLUP_SAMPLE}) in ${((performance.now() - tFill) / 1000).toFixed(0)} s`,
    );
  })();
  await Promise.all([indexWork, rollupWork]);
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
  await store.close();
}

/**
 * The rollups say what the events say: one user's cost from the stored (sampled) rows, and every
 * auth failure from the fill's formula. A user's status never changes (r depends on i mod 1000,
 * fixed by u = i·7919 mod 5000): user-1900 (row 100) succeeds, and is sampled either way.
 */
async function check(admin: pg.Pool, reader: RollupReader, loaded: number): Promise<void> {
  const ev = (
    await admin.query<{ c: string; lo: Date; hi: Date }>(
      `SELECT (SELECT SUM(cost_micro_usd) FROM ${SCHEMA}.events WHERE user_id = 'user-1900' AND ${SAMPLED_SQL}) AS c,
              (SELECT MIN(ts) FROM ${SCHEMA}.events) AS lo, (SELECT MAX(ts) FROM ${SCHEMA}.events) AS hi`,
    )
  ).rows[0]!;
  let failures = 0;
  for (let i = 0; i < loaded; i++) if ((i * 31) % 1000 < 20 && sampled(i)) failures++;
  const from = ev.lo.getTime() - DAY;
  const to = ev.hi.getTime() + DAY;
  const cost =
    (await reader.groups('user', from, to)).find((g) => g.key === 'user-1900')?.cost_micro_usd ?? 0;
  const auth = (await reader.authFailures(from, to, DAY)).pairs.reduce((s, p) => s + p.failures, 0);
  console.log(
    `check (rollups of the sampled events): user-1900 cost ${fmt(Number(ev.c))} µUSD from events, ${fmt(cost)} from rollups ${Number(ev.c) === cost ? 'ok' : 'MISMATCH'}; ` +
      `auth failures ${fmt(failures)} by the fill's formula, ${fmt(auth)} from rollups ${failures === auth ? 'ok' : 'MISMATCH'}`,
  );
}

async function main(): Promise<void> {
  console.log(
    `PostgreSQL at scale (issue 22): ${URL_.replace(/\/\/[^@]*@/, '//')}, schema ${SCHEMA}; load ${loadavg()}`,
  );
  await ensureDatabase();
  const admin = new pg.Pool({ connectionString: URL_, max: 3 });
  const version = (await admin.query<{ v: string }>('SELECT current_setting($$server_version$$) AS v'))
    .rows[0]!.v;
  console.log(`server ${version}; node ${process.version}; free disk ${freeGb().toFixed(0)} GB`);
  // --finish: complete a store whose build stopped after the fill (indexes, rollups, heads).
  if (!REUSE && !args.includes('--finish')) await finish(admin, await fill(admin, Date.now()));
  else if (args.includes('--finish')) await finish(admin, N);
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
    `\ndashboard pages and admin API, server time to the full response, ${RUNS} runs after a warm-up (load ${loadavg()}):`,
  );
  for (const [k, v] of await timePages(tg, dashboardPages('user-7', sample.id), RUNS)) all.set(k, v);

  const now = Date.now();
  const since30 = now - 30 * DAY;
  console.log(
    `\nreports over 30 days as the CLI computes them, ${RUNS} runs after a warm-up (load ${loadavg()}):`,
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
    `\n${all.size - slow.length} of ${all.size} pages and reports within 500 ms at p95 (load ${loadavg()})` +
      (slow.length ? `; over: ${slow.map(([k]) => k).join(', ')}` : ''),
  );
  await tg.close();
  await admin.end();
}

await main();
