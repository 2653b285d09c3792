/**
 * PostgreSQL store: ingest rate from one writer with the shared rollups on, and the latency of
 * report queries over a large table. Targets (issue 9): ingest ≥ 20 000 events/s from one
 * replica; queries over 10 million events ≤ 500 ms.
 *
 *   npx tsx bench/postgres.bench.ts [--events 10000000] [--max-seconds 900] [--keep] [--reuse] [--ingest-only]
 *
 * Scale: `--events N` or TOLLGATE_BENCH_PG_EVENTS=N (default 10 million). TOLLGATE_BENCH_PG_URL
 * picks the server (default the local `test` database).
 *
 * Phase 1 appends 100 000 events through PostgresEventStore.append with PostgresRollups in the
 * transaction (what `openEventStore` sets up), sequentially, in the writer's default batch size
 * (512) and in larger batches (2048, a full queue or a writer catching up), with rollups off and
 * on in the same run (ratios are what compare on a shared machine). It prints the wall-clock rate
 * and the CPU spent by this process and by its PostgreSQL backend: events / (client CPU + server
 * CPU) is the rate the same work reaches when the two have a core each and nothing else runs.
 *
 * Phase 2 fills the query table server-side (INSERT … SELECT over generate_series on two
 * connections, secondary indexes dropped during the load and rebuilt after, the bulk-load
 * practice; the schema ends up identical to the store's) with up to N events over 30 days
 * (30 daily partitions, 4 chains), stopping early at --max-seconds, then fills the rollups from
 * the same events through PostgresRollups.apply (events rebuilt client-side from the same
 * formulas, batches of 20 000) and checks one user's 30-day cost against SUM over the events.
 * Phase 3 times report queries through PostgresRollups and costReport, and event queries through
 * the store (median of 5 after one warm-up). With --reuse an existing bench schema is queried as
 * is; --keep keeps it.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { blankEvent, type AuditEvent } from '../src/core/audit-event.js';
import { costReport } from '../src/reports/cost-report.js';
import { PostgresEventStore } from '../src/store/postgres/postgres-event-store.js';
import { PostgresRollups } from '../src/store/postgres/postgres-rollups.js';
import type { RollupEvent } from '../src/store/rollups.js';
import type { SecurityRollupEvent } from '../src/store/security-rollups.js';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const URL_ = process.env.TOLLGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TARGET_EVENTS = opt('events', Number(process.env.TOLLGATE_BENCH_PG_EVENTS ?? 10_000_000));
const MAX_SECONDS = opt('max-seconds', 900);
const SCHEMA = 'tg_bench';
const DAYS = 30;
const CHAINS = 4;
const DAY_MS = 24 * 3600_000;
const END_MS = Date.UTC(2026, 10, 26);
const START_MS = END_MS - DAYS * DAY_MS;

const models = ['gpt-4.1', 'gpt-4o-mini', 'gpt-4o', 'o3-mini'];
const features = ['support-bot', 'search', 'summarise', 'code-review', 'translate'];
const statuses = [
  'SUCCESS',
  'SUCCESS',
  'SUCCESS',
  'SUCCESS',
  'SUCCESS',
  'SUCCESS',
  'SUCCESS',
  'SUCCESS',
  'CLIENT_ERROR',
  'RATE_LIMITED',
] as const;

/** A realistic stored event (redacted content of a few hundred bytes), deterministic in `i`. */
function makeEvent(i: number, ms: number, chain: string, seq: number): AuditEvent {
  const e = blankEvent({
    id: uuidv7({ msecs: ms }),
    timestamp: new Date(ms).toISOString(),
    source: 'gateway',
  });
  e.request_id = `req_${i.toString(36)}`;
  e.trace_id = (i * 7919).toString(16).padStart(32, '0');
  e.span_id = (i * 104729).toString(16).padStart(16, '0');
  e.chain_id = chain;
  e.seq = seq;
  e.prev_hash = (seq * 31).toString(16).padStart(64, '0');
  e.hash = (seq * 37 + i).toString(16).padStart(64, '0');
  e.instance_id = chain;
  e.ip_address = `10.${i % 7}.${i % 251}.${i % 13}`;
  e.user_agent = 'OpenAI/JS 6.49.0';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.model_requested = models[i % models.length]!;
  e.model_used = e.model_requested;
  e.stream = i % 2 === 0;
  e.auth_method = 'bearer';
  e.auth_result = 'SUCCESS';
  e.api_key_id = `kf_${(i % 500).toString(36)}`;
  e.api_key_prefix = 'sk-proj-';
  e.virtual_key_id = i % 3 === 0 ? `vk_${i % 200}` : null;
  e.input_tokens = 100 + (i % 900);
  e.output_tokens = 20 + (i % 300);
  e.total_tokens = e.input_tokens + e.output_tokens;
  e.usage_source = 'reported';
  e.latency_ms = 120 + (i % 1000) / 4;
  e.time_to_first_token_ms = 80 + (i % 50);
  e.upstream_latency_ms = 110 + (i % 900) / 4;
  e.status = statuses[i % statuses.length]!;
  e.http_status_code = e.status === 'SUCCESS' ? 200 : e.status === 'RATE_LIMITED' ? 429 : 400;
  e.finish_reason = 'stop';
  e.user_id = `user-${i % 5000}`;
  e.session_id = `sess-${Math.floor(i / 20)}`;
  e.feature_name = features[i % features.length]!;
  e.team = `team-${i % 12}`;
  e.cost_micro_usd = 1250 + (i % 5000);
  e.pricing_version = '2026-11';
  e.prompt = `Summarise ticket ${i} for [EMAIL]: the customer reports that the export fails after the last update.`;
  e.response = `Ticket ${i}: export failure since the update; customer [PHONE] asked twice. Suggested fix attached.`;
  e.redactions = [
    { type: 'email', count: 1 },
    { type: 'phone', count: 1 },
  ];
  e.threat_indicators = i % 97 === 0 ? ['prompt-injection.ignore-previous'] : [];
  return e;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** CPU ms used so far by a PostgreSQL backend (Linux /proc; the server runs on this machine). */
function backendCpuMs(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** One ingest run into a fresh schema: `total` events in batches of `batch`, rollups on or off. */
async function ingest(admin: pg.Pool, total: number, batch: number, rollupsOn: boolean): Promise<number> {
  const schema = `${SCHEMA}_ingest`;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const one = new pg.Pool({ connectionString: URL_, max: 1 });
  const store = await PostgresEventStore.open({ pool: one, schema });
  if (rollupsOn) {
    const rollups = await PostgresRollups.open(one, schema);
    store.addInTransactionHook((client, inserted) => rollups.apply(client, inserted));
  }
  const pid = (await one.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
  const chain = `ingest-${batch}`;
  const make = (from: number, to: number): AuditEvent[] =>
    Array.from({ length: to - from }, (_, j) =>
      makeEvent(from + j, END_MS - 3600_000 + from + j, chain, from + j + 1),
    );
  await store.append(make(0, 1)); // partition and statements warm
  // Each batch is made just before it is appended (a gateway's events are short-lived: 100 000
  // events made up front would make every garbage collection walk them and bill the writer);
  // wall clock and client CPU count the appends only.
  let wallMs = 0;
  let clientUs = 0;
  const pg0 = backendCpuMs(pid);
  for (let i = 1; i < total; i += batch) {
    const events = make(i, Math.min(total, i + batch));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await store.append(events);
    wallMs += performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clientUs += cpu.user + cpu.system;
  }
  const wall = wallMs / 1000;
  const n = total - 1;
  const clientMs = clientUs / 1000;
  const pg1 = backendCpuMs(pid);
  const serverMs = pg0 !== null && pg1 !== null ? pg1 - pg0 : null;
  const rate = n / wall;
  const cpuRate = serverMs !== null ? n / ((clientMs + serverMs) / 1000) : null;
  console.log(
    `  batch ${String(batch).padStart(5)}, rollups ${rollupsOn ? 'on ' : 'off'}: wall ${fmt(rate).padStart(7)} events/s ${rate >= 20_000 ? 'ok ' : 'low'} | ` +
      `client ${((clientMs * 1000) / n).toFixed(1)} µs + server ${serverMs === null ? '?' : ((serverMs * 1000) / n).toFixed(1)} µs CPU/event` +
      (cpuRate === null
        ? ''
        : ` → ${fmt(cpuRate)} events/s on idle cores ${cpuRate >= 20_000 ? 'ok' : 'BELOW TARGET'}`),
  );
  await store.close();
  await one.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  return rate;
}

/** Fills `schema.events` server-side with rows shaped like makeEvent's, from `from` to `to` (exclusive). */
function fillSql(schema: string, from: number, to: number, total: number): string {
  const step = (END_MS - START_MS) / total;
  return `INSERT INTO ${schema}.events (ts, schema_version, id, timestamp, request_id, trace_id, span_id, chain_id, seq, prev_hash, hash,
      source, instance_id, ip_address, user_agent, api_provider, endpoint, http_method, model_requested, model_used, stream,
      auth_method, auth_result, api_key_id, api_key_prefix, virtual_key_id, input_tokens, output_tokens, total_tokens, usage_source,
      latency_ms, time_to_first_token_ms, upstream_latency_ms, status, http_status_code, retry_count, finish_reason, user_id, session_id,
      feature_name, team, cost_micro_usd, pricing_version, content_mode, prompt, response, redactions, is_anomalous, threat_indicators)
    SELECT t, 1, 'b0000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'req_' || i, lpad(to_hex(i * 7919), 32, '0'), lpad(to_hex(i * 104729), 16, '0'), 'replica-' || (i % ${CHAINS}), i / ${CHAINS} + 1,
      lpad(to_hex(i * 31), 64, '0'), lpad(to_hex(i * 37), 64, '0'), 'gateway', 'replica-' || (i % ${CHAINS}),
      '10.' || (i % 7) || '.' || (i % 251) || '.' || (i % 13), 'OpenAI/JS 6.49.0', 'openai', '/chat/completions', 'POST',
      (ARRAY['gpt-4.1','gpt-4o-mini','gpt-4o','o3-mini'])[i % 4 + 1], (ARRAY['gpt-4.1','gpt-4o-mini','gpt-4o','o3-mini'])[i % 4 + 1], i % 2 = 0,
      'bearer', 'SUCCESS', 'kf_' || (i % 500), 'sk-proj-', CASE WHEN i % 3 = 0 THEN 'vk_' || (i % 200) END,
      100 + i % 900, 20 + i % 300, 120 + i % 900 + i % 300, 'reported', 120 + (i % 1000) / 4.0, 80 + i % 50, 110 + (i % 900) / 4.0,
      CASE WHEN i % 10 = 8 THEN 'CLIENT_ERROR' WHEN i % 10 = 9 THEN 'RATE_LIMITED' ELSE 'SUCCESS' END,
      CASE WHEN i % 10 = 8 THEN 400 WHEN i % 10 = 9 THEN 429 ELSE 200 END, 0, 'stop', 'user-' || (i % 5000), 'sess-' || (i / 20),
      (ARRAY['support-bot','search','summarise','code-review','translate'])[i % 5 + 1], 'team-' || (i % 12), 1250 + i % 5000, '2026-11', 'redacted',
      'Summarise ticket ' || i || ' for [EMAIL]: the customer reports that the export fails after the last update.',
      'Ticket ' || i || ': export failure since the update; customer [PHONE] asked twice. Suggested fix attached.',
      '[{"type":"email","count":1},{"type":"phone","count":1}]'::jsonb, false,
      CASE WHEN i % 97 = 0 THEN '["prompt-injection.ignore-previous"]'::jsonb ELSE '[]'::jsonb END
    FROM generate_series(${from}::bigint, ${to - 1}::bigint) AS i,
      LATERAL (SELECT to_timestamp((${START_MS}::double precision + i * ${step}) / 1000) AS t) AS g`;
}

async function median(label: string, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  let out: unknown;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    out = await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const m = times[2]!;
  const shown = Array.isArray(out) ? `${out.length} rows` : typeof out === 'number' ? `= ${fmt(out)}` : '';
  console.log(`  ${label.padEnd(58)} ${m.toFixed(1).padStart(8)} ms  ${m <= 500 ? 'ok ' : 'SLOW'}  ${shown}`);
  return m;
}

/** The rollup fields of fill row `i`, by the same formulas as fillSql. */
function fillRollupEvent(i: number, step: number): RollupEvent & SecurityRollupEvent {
  const status = i % 10 === 8 ? 'CLIENT_ERROR' : i % 10 === 9 ? 'RATE_LIMITED' : 'SUCCESS';
  const model = models[i % 4]!;
  return {
    // fillSql's timestamps are rounded to the microsecond by the server.
    timestamp: new Date(Math.floor(Math.round((START_MS + i * step) * 1000) / 1000)).toISOString(),
    http_method: 'POST',
    api_key_id: `kf_${i % 500}`,
    virtual_key_id: i % 3 === 0 ? `vk_${i % 200}` : null,
    user_id: `user-${i % 5000}`,
    feature_name: features[i % 5]!,
    model_used: model,
    model_requested: model,
    team: `team-${i % 12}`,
    session_id: `sess-${Math.floor(i / 20)}`,
    input_tokens: 100 + (i % 900),
    output_tokens: 20 + (i % 300),
    cached_input_tokens: null,
    reasoning_tokens: null,
    usage_source: 'reported',
    cost_micro_usd: 1250 + (i % 5000),
    status,
    auth_result: 'SUCCESS',
    ip_address: `10.${i % 7}.${i % 251}.${i % 13}`,
    api_key_prefix: 'sk-proj-',
    redactions: [
      { type: 'email', count: 1 },
      { type: 'phone', count: 1 },
    ],
    // fillSql: is_anomalous false, an indicator on every 97th row.
    is_anomalous: false,
    threat_indicators: i % 97 === 0 ? ['prompt-injection.ignore-previous'] : [],
  };
}

async function main(): Promise<void> {
  const admin = new pg.Pool({ connectionString: URL_, max: 2 });
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  console.log(`PostgreSQL store benchmark (${URL_.replace(/\/\/[^@]*@/, '//')}, schema ${SCHEMA})`);
  const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!
    .server_version;
  const sync = (await admin.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!
    .synchronous_commit;
  console.log(`server ${version} (synchronous_commit ${sync}); node ${process.version}\n`);

  if (!flag('reuse')) {
    // Phase 1: ingest from one writer into an empty schema, rollups off and on.
    const load = (
      await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active'")
    ).rows[0]!.n;
    console.log(
      `ingest through PostgresEventStore.append, one writer, one connection (machine load average ${loadavg()[0]!.toFixed(1)}, ${load} active backends):`,
    );
    for (const batch of [512, 2048]) {
      for (const on of [false, true]) await ingest(admin, 100_000, batch, on);
    }
    console.log(`  (load average after: ${loadavg()[0]!.toFixed(1)})`);
    if (flag('ingest-only')) return void (await admin.end());
    // Phase 2: load the query table.
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  }
  const store = await PostgresEventStore.open({ url: URL_, schema: SCHEMA, aheadPartitions: 0 });
  const rollups = await PostgresRollups.open(store.connectionPool, SCHEMA);
  let loaded = await store.count();
  if (!flag('reuse')) {
    console.log(
      `\nfilling the query table server-side: up to ${fmt(TARGET_EVENTS)} events over ${DAYS} days, ${CHAINS} chains (stops at ${MAX_SECONDS} s total):`,
    );
    // Every partition first, then the rows with only the primary key, then the indexes back.
    for (let d = 0; d <= DAYS; d++)
      await store.append([makeEvent(-1 - d, START_MS + d * DAY_MS, 'warmup', 0)]);
    await admin.query(`TRUNCATE ${SCHEMA}.events, ${SCHEMA}.chain_heads`);
    const indexes = (
      await admin.query<{ name: string; def: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events' AND indexname <> 'events_pkey'`,
        [SCHEMA],
      )
    ).rows;
    for (const ix of indexes) await admin.query(`DROP INDEX ${SCHEMA}.${ix.name}`);
    const t0 = performance.now();
    const CHUNK = 250_000;
    loaded = 0;
    // Two connections fill alternate chunks; the index rebuild, rollups and VACUUM need the rest.
    let next = 0;
    const filler = async (): Promise<void> => {
      while (next < TARGET_EVENTS && elapsed() < MAX_SECONDS * 0.4) {
        const from = next;
        const to = Math.min(TARGET_EVENTS, from + CHUNK);
        next = to;
        await admin.query(fillSql(SCHEMA, from, to, TARGET_EVENTS));
        loaded += to - from;
        if (loaded % 2_000_000 === 0 || loaded === TARGET_EVENTS)
          console.log(`  ${fmt(loaded)} rows, ${fmt(loaded / ((performance.now() - t0) / 1000))} rows/s`);
      }
    };
    await Promise.all([filler(), filler()]);
    // Chunks complete in order only on the whole: what was filled is 0 .. `next` when all are done.
    loaded = next;
    const t1 = performance.now();
    await admin.query("SET maintenance_work_mem = '512MB'");
    for (const ix of indexes) await admin.query(ix.def.replace(' ON ONLY ', ' ON ')); // ONLY would skip the partitions
    await admin.query(
      `INSERT INTO ${SCHEMA}.chain_heads (chain_id, seq, hash, count)
       SELECT DISTINCT ON (chain_id) chain_id, seq, hash, COUNT(*) OVER (PARTITION BY chain_id) FROM ${SCHEMA}.events ORDER BY chain_id, seq DESC`,
    );
    await admin.query(
      `SELECT setval('${SCHEMA}.events_cursor_seq', (SELECT MAX(cursor_) FROM ${SCHEMA}.events))`,
    );
    const t2 = performance.now();
    console.log(
      `  loaded ${fmt(loaded)} rows in ${((t1 - t0) / 1000).toFixed(0)} s, ${indexes.length} indexes rebuilt in ${((t2 - t1) / 1000).toFixed(0)} s`,
    );
    // Rollups from the same events, through the writer's code path (apply in a transaction).
    const step = (END_MS - START_MS) / TARGET_EVENTS;
    const client = await store.connectionPool.connect();
    for (let i = 0; i < loaded; i += 20_000) {
      const batch = Array.from({ length: Math.min(20_000, loaded - i) }, (_, j) =>
        fillRollupEvent(i + j, step),
      );
      await client.query('BEGIN');
      await rollups.apply(client, batch);
      await client.query('COMMIT');
    }
    client.release();
    const rows = (
      await admin.query<{ n: string }>(
        `SELECT (SELECT COUNT(*) FROM ${SCHEMA}.cost_rollups) + (SELECT COUNT(*) FROM ${SCHEMA}.session_rollups) AS n`,
      )
    ).rows[0]!.n;
    console.log(
      `  rollups of ${fmt(loaded)} events (${fmt(Number(rows))} rows) in ${((performance.now() - t2) / 1000).toFixed(0)} s`,
    );
    // Steady state: autovacuum has set the visibility map of an insert-only table (PostgreSQL ≥ 13
    // vacuums on inserts), which lets counts use index-only scans.
    await admin.query(`VACUUM (ANALYZE) ${SCHEMA}.events`);
    await admin.query(`VACUUM (ANALYZE) ${SCHEMA}.cost_rollups, ${SCHEMA}.session_rollups`);
    // The rollups must say what the events say: one user's cost over everything.
    const fromEvents = Number(
      (
        await admin.query<{ s: string }>(
          `SELECT SUM(cost_micro_usd) AS s FROM ${SCHEMA}.events WHERE user_id = 'user-42'`,
        )
      ).rows[0]!.s,
    );
    const fromRollups = (await rollups.groups('user', START_MS - DAY_MS, END_MS + DAY_MS)).find(
      (g) => g.key === 'user-42',
    )?.cost_micro_usd;
    console.log(
      `  check: user-42 cost from events ${fmt(fromEvents)} µUSD, from rollups ${fmt(fromRollups ?? 0)} µUSD ${fromEvents === fromRollups ? 'ok' : 'MISMATCH'}`,
    );
  }
  const size = (
    await admin.query<{ s: string }>(
      `SELECT pg_size_pretty(SUM(pg_total_relation_size(inhrelid))) AS s FROM pg_inherits WHERE inhparent = '${SCHEMA}.events'::regclass`,
    )
  ).rows[0]!.s;
  const partitions = (await store.partitions()).length;
  console.log(
    `\nqueries over ${fmt(loaded)} events (${partitions} partitions, ${size} with indexes), median of 5:`,
  );
  const hour = 3600_000;
  const any = (await store.query({ limit: 1 }))[0]!;
  // "Now" is the newest event, so --since windows hold data even when the fill stopped early
  // (the newest by time: two fillers make the highest cursor a chunk's end, not the newest).
  const newest = (await admin.query<{ t: Date }>(`SELECT MAX(ts) AS t FROM ${SCHEMA}.events`)).rows[0]!.t;
  const NOW = newest.getTime() + 1;
  const times: number[] = [];
  const day = 24 * hour;
  console.log('reports, from PostgresRollups:');
  times.push(
    await median('report cost --by user --since 30d (costReport)', () =>
      costReport(rollups, { by: 'user', sinceMs: NOW - 30 * day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by key --since 30d', () =>
      costReport(rollups, { by: 'key', sinceMs: NOW - 30 * day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by model --since 30d', () =>
      costReport(rollups, { by: 'model', sinceMs: NOW - 30 * day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by day --since 30d', () =>
      costReport(rollups, { by: 'day', sinceMs: NOW - 30 * day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by user --since 24h', () =>
      costReport(rollups, { by: 'user', sinceMs: NOW - day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by session --since 3h (growth)', () =>
      costReport(rollups, { by: 'session', sinceMs: NOW - 3 * hour, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by session --since 24h (growth)', () =>
      costReport(rollups, { by: 'session', sinceMs: NOW - day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  times.push(
    await median('report cost --by session --since 30d (session_totals)', () =>
      costReport(rollups, { by: 'session', sinceMs: NOW - 30 * day, untilMs: NOW }).then((r) => r.rows),
    ),
  );
  console.log('security page, from security_rollups:');
  times.push(
    await median('auth failures --since 30d (by day)', () => rollups.authFailures(NOW - 30 * day, NOW, day)),
  );
  times.push(await median('redaction hits --since 30d', () => rollups.redactionHits(NOW - 30 * day, NOW)));
  times.push(
    await median('redaction hits --since 30d, baseline: jsonb over the events', () =>
      admin.query(
        `SELECT r->>'type', SUM((r->>'count')::bigint), COUNT(*) FROM ${SCHEMA}.events, jsonb_array_elements(redactions) r
         WHERE ts >= $1 AND redactions <> '[]'::jsonb GROUP BY 1`,
        [new Date(NOW - 30 * day).toISOString()],
      ),
    ),
  );
  console.log('events, from PostgresEventStore:');
  times.push(await median('events (newest 50)', () => store.query({ limit: 50 })));
  times.push(
    await median('events --since 1h (newest 50)', () => store.query({ sinceMs: NOW - hour, limit: 50 })),
  );
  times.push(
    await median('events --user user-42 (newest 50)', () => store.query({ user: 'user-42', limit: 50 })),
  );
  times.push(
    await median('events --user user-42 --since 24h', () =>
      store.query({ user: 'user-42', sinceMs: NOW - 24 * hour }),
    ),
  );
  times.push(await median('events --session (one session)', () => store.query({ session: any.session_id! })));
  times.push(await median('events --key kf_42 (newest 50)', () => store.query({ key: 'kf_42', limit: 50 })));
  times.push(
    await median('events --status RATE_LIMITED --since 24h (newest 50)', () =>
      store.query({ status: 'RATE_LIMITED', sinceMs: NOW - 24 * hour, limit: 50 }),
    ),
  );
  times.push(
    await median('events --model o3-mini --since 1h (newest 50)', () =>
      store.query({ model: 'o3-mini', sinceMs: NOW - hour, limit: 50 }),
    ),
  );
  times.push(
    await median('events --follow step (afterCursor, asc 500)', async () =>
      store.query({ afterCursor: (await store.cursor()) - 500, order: 'asc', limit: 500 }),
    ),
  );
  times.push(await median('count --since 1h', () => store.count({ sinceMs: NOW - hour })));
  times.push(await median('count --since 24h', () => store.count({ sinceMs: NOW - 24 * hour })));
  times.push(await median('count --user user-42 (all time)', () => store.count({ user: 'user-42' })));
  times.push(await median('get(id)', () => store.get(any.id)));
  times.push(await median('chains() (verify, gateway start)', () => store.chains()));
  times.push(
    await median('iterateChain page of 5000 (verify)', async () => {
      const out: AuditEvent[] = [];
      for await (const e of store.iterateChain('replica-1', 1_000, 5000)) {
        out.push(e);
        if (out.length === 5000) break;
      }
      return out;
    }),
  );
  times.push(
    await median('spentSince (budget seed, one key, month)', () =>
      store.spentSince('vk_42', NOW - 30 * 24 * hour),
    ),
  );
  times.push(await median('count (all events: chain heads)', () => store.count()));
  times.push(
    await median('count --since 30d (all events, index scan)', () => store.count({ sinceMs: START_MS })),
  );
  const slow = times.filter((t) => t > 500).length;
  console.log(
    `\n${times.length - slow} of ${times.length} queries within 500 ms; total run ${elapsed().toFixed(0)} s`,
  );
  if (loaded < TARGET_EVENTS) {
    console.log(
      `NOTE: loaded ${fmt(loaded)} of ${fmt(TARGET_EVENTS)} events within the time bound. Index lookups (all rows above but the` +
        ` 30-day count) grow with log(n), effectively flat to ${fmt(TARGET_EVENTS)}; the 30-day count is a scan and grows linearly` +
        ` (× ${(TARGET_EVENTS / loaded).toFixed(2)}).`,
    );
  }
  await store.close();
  if (!flag('keep')) await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
}

await main();
