/**
 * Dashboard and admin API with 1 million events in the store (issue 11: pages load in ≤ 500 ms;
 * issue 22: every page and report over 30 days at p95 ≤ 500 ms).
 *
 * 1. Synthesizes N events over the last 30 days (500 users, 20k sessions, 50 keys, 2 % auth
 *    failures, 3 % errors, 1 % with redactions), chained and hashed like the gateway's, appended
 *    through SqliteEventStore in batches of 5,000 with the rollups hook in the same transaction.
 * 2. Starts Tollgate on that store (startTollgate: the gateway continues the chain).
 * 3. Times each page and API call, server side to the full response (fetch), p50, p95 and max of
 *    DASH_BENCH_RUNS runs (default 20) after a warm-up, each next to the 500 ms target; then the
 *    reads behind the slow pages of before, in the same run, the former way (baseline: every
 *    session-hour segment of the window joined; redaction hits by json_each over the window's
 *    events) next to the summary tables; then with Chromium (when /usr/bin/chromium exists) the
 *    page load to the `load` event (DASH_BENCH_BROWSER=0 skips it).
 *
 * 4. Times every `tollgate report` (cost --by each dimension, security) over 30 days.
 *
 * Run: npx tsx bench/dashboard.bench.ts [events=1000000] [--reuse] [--seed-only]
 *      (DASH_BENCH_RUNS=20, DASH_BENCH_BASELINE_RUNS=3 (0 skips the baselines: minutes at 10 M), DASH_BENCH_DIR=/tmp/tollgate-dashboard-bench,
 *      DASH_BENCH_FIRST_START=0 skips the first-start timing, DASH_BENCH_VERIFY=0 the full verify,
 *      DASH_BENCH_BROWSER=0 the browser timings)
 * The store goes to /tmp/tollgate-dashboard-bench/ and is removed first; `--reuse` keeps a store
 * an earlier run seeded (its timestamps then lie further in the past).
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../src/app/logger.js';
import { startTollgate } from '../src/app/start-tollgate.js';
import { blankEvent, type AuditEvent, type EventStatus } from '../src/core/audit-event.js';
import { loadConfig } from '../src/config/config.js';
import { newEventId } from '../src/core/ids.js';
import { systemClock } from '../src/core/clock.js';
import { CheckpointWriter } from '../src/integrity/checkpoint-writer.js';
import { MemoryCheckpointStore } from '../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../src/integrity/signing-key.js';
import type { EventStore } from '../src/store/event-store.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import {
  createSqliteRollups,
  GROWTH_COLUMNS,
  joinSessionSegments,
  sqliteRollupReader,
  TOTAL_COLUMNS,
  type SegmentRow,
} from '../src/store/sqlite/sqlite-rollups.js';
import { COST_REPORT_BY, costReport } from '../src/reports/cost-report.js';
import { securityReport } from '../src/reports/security-report.js';
import { dashboardPages, header, row, stats, timed as timedRuns, timePages } from './dashboard-pages.js';
import { loadAverages, SCALE_FEATURES, SCALE_MODELS } from './scale-traffic.js';

const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const REUSE = process.argv.includes('--reuse');
const DIR = process.env.DASH_BENCH_DIR ?? '/tmp/tollgate-dashboard-bench';
/** Build (or reuse) the store and stop: for seeding a large store ahead of the timed runs. */
const SEED_ONLY = process.argv.includes('--seed-only');
const CHAIN = 'bench-gateway';
const DAY = 86_400_000;
const RUNS = Number(process.env.DASH_BENCH_RUNS ?? 20);
/** Runs of the former ways (baselines), slow by design. */
const BASELINE_RUNS = Number(process.env.DASH_BENCH_BASELINE_RUNS ?? 3);
const timed = (fn: () => unknown, runs = RUNS): ReturnType<typeof timedRuns> => timedRuns(fn, runs);

let seed = 42;
function rand(): number {
  // xorshift32: deterministic, fast enough for a million events.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4_294_967_296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const MODELS = SCALE_MODELS;
const FEATURES = SCALE_FEATURES;

function synth(i: number, tsMs: number): AuditEvent {
  const e = blankEvent({ id: newEventId(tsMs), timestamp: new Date(tsMs).toISOString(), source: 'gateway' });
  const user = Math.floor(rand() * 500);
  const key = user % 50;
  const r = rand();
  const status: EventStatus =
    r < 0.02 ? 'AUTH_FAILED' : r < 0.035 ? 'SERVER_ERROR' : r < 0.05 ? 'RATE_LIMITED' : 'SUCCESS';
  e.request_id = e.id;
  e.instance_id = CHAIN;
  e.ip_address = `10.0.${user % 200}.${(i % 7) + 1}`;
  e.user_agent = 'bench-client/1.0';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.model_requested = pick(MODELS);
  e.model_used = e.model_requested;
  e.auth_method = 'bearer';
  e.auth_result = status === 'AUTH_FAILED' ? 'FAILED' : 'SUCCESS';
  e.api_key_id = `fp${key.toString(16).padStart(14, '0')}`;
  e.api_key_prefix = 'sk-proj-';
  e.status = status;
  e.http_status_code =
    status === 'SUCCESS' ? 200 : status === 'AUTH_FAILED' ? 401 : status === 'RATE_LIMITED' ? 429 : 500;
  e.error_code = status === 'SUCCESS' ? null : 'TG_ERR_UPSTREAM_ERROR';
  if (status === 'SUCCESS') {
    e.input_tokens = 50 + Math.floor(rand() * 2000);
    e.output_tokens = Math.floor(rand() * 600);
    e.total_tokens = e.input_tokens + e.output_tokens;
    e.cached_input_tokens = 0;
    e.reasoning_tokens = 0;
    e.usage_source = 'reported';
    e.cost_micro_usd = Math.round(e.input_tokens * 2 + e.output_tokens * 8);
    e.pricing_version = 'bench';
    e.finish_reason = 'stop';
  }
  e.latency_ms = 200 + rand() * 1500;
  e.user_id = `user-${user}`;
  e.session_id = `s-${user}-${Math.floor(tsMs / (3 * 3_600_000)) % 40}`;
  e.feature_name = pick(FEATURES);
  e.team = `team-${user % 12}`;
  e.content_mode = 'redacted';
  e.prompt = 'user: [redacted bench prompt]';
  if (rand() < 0.01)
    e.redactions = [
      {
        type: pick(['email', 'aws_access_key', 'phone', 'generic_secret']),
        count: 1 + Math.floor(rand() * 2),
      },
    ];
  return e;
}

async function seedStore(dbPath: string, nowMs: number): Promise<void> {
  const db = openSqlite(dbPath);
  const store = new SqliteEventStore(db);
  const rollups = createSqliteRollups(db);
  store.addInTransactionHook((events) => rollups.applyRollups(events));
  const chainer = createChainer({ chainId: CHAIN, head: null });
  const start = nowMs - 30 * DAY;
  const step = (30 * DAY) / N;
  const t0 = performance.now();
  let batch: AuditEvent[] = [];
  for (let i = 0; i < N; i++) {
    const e = synth(i, Math.floor(start + i * step));
    chainer.link(e);
    batch.push(e);
    if (batch.length === 5000) {
      await store.append(batch);
      batch = [];
    }
    if (i % 200_000 === 199_999)
      process.stderr.write(`  seeded ${i + 1} events (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  if (batch.length) await store.append(batch);
  await store.close();
  console.log(
    `seeded ${N.toLocaleString('en-US')} events in ${((performance.now() - t0) / 1000).toFixed(1)} s, store ${(statSync(dbPath).size / 1e6).toFixed(0)} MB`,
  );
}

async function main(): Promise<void> {
  const dbPath = join(DIR, 'tollgate.db');
  if (!REUSE || !existsSync(dbPath)) {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await seedStore(dbPath, Date.now());
  } else console.log(`reusing ${dbPath} (${(statSync(dbPath).size / 1e6).toFixed(0)} MB)`);
  if (SEED_ONLY) return;

  // First start on a store without checkpoints: the checkpoint writer reads the whole chain.
  // Links only (iterateChainLinks) against whole events (the former read), same run.
  // DASH_BENCH_FIRST_START=0 skips it (minutes on a large store; it is not a page or report).
  if (process.env.DASH_BENCH_FIRST_START !== '0') {
    const ro = openSqlite(dbPath, { readonly: true });
    const events = new SqliteEventStore(ro);
    const wholeEvents = {
      iterateChain: events.iterateChain.bind(events),
    } as unknown as EventStore;
    console.log(
      `\nfirst start without checkpoints: CheckpointWriter.resume over ${N.toLocaleString('en-US')} events (load ${loadAverages()}):`,
    );
    for (const [label, store] of [
      ['chain links (iterateChainLinks)', events],
      ['baseline: whole events (iterateChain)', wholeEvents],
    ] as const) {
      const t = performance.now();
      const w = await CheckpointWriter.resume(
        {
          chainId: CHAIN,
          key: generateSigningKey('bench'),
          store: new MemoryCheckpointStore(),
          clock: systemClock,
        },
        store,
      );
      const ms = performance.now() - t;
      console.log(
        `  ${label.padEnd(40)} ${(ms / 1000).toFixed(1)} s (${((ms / 1000 / N) * 1e6).toFixed(1)} s per million; target ≤ 10 s per million), tree ${w.treeSize}`,
      );
    }
    await events.close();
  }

  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      db: dbPath,
      port: 0,
      upstream_url: 'http://127.0.0.1:9/v1',
      provider: 'openai',
      instance_id: CHAIN,
      // The periodic self-check verifies the chain on start (minutes of both cores on a store
      // never verified): off, so the pages are not timed under a full verify.
      'checkpoints.self_check_ms': null,
    },
  });
  const t0 = performance.now();
  const tg = await startTollgate({ config, log: createLogger('silent') });
  console.log(
    `startTollgate on the store: ${(performance.now() - t0).toFixed(0)} ms (the first start re-reads a chain that has no checkpoint yet)`,
  );
  await tg.checkpointWriter.checkpointNow();
  const token = tg.admin.token.token;
  const session = tg.admin.console.sessions.create();
  const sample = (await tg.store.query({ user: 'user-7', limit: 1 }))[0]!;

  const targets = dashboardPages('user-7', sample.id);
  console.log(`\nserver time to full response, ${RUNS} runs after a warm-up (load ${loadAverages()}):`);
  await timePages(tg, targets, RUNS);

  // The same reads, new way and former way, in this run (a read-only connection of its own).
  const ro = openSqlite(dbPath, { readonly: true });
  const reader = sqliteRollupReader(createSqliteRollups(ro));
  const now = Date.now();
  const since30 = now - 30 * DAY;
  const from = Math.floor(since30 / 3_600_000) * 3_600_000;
  const to = Math.ceil(now / 3_600_000) * 3_600_000;
  const segments = ro.prepare(
    `SELECT session_id, first_ts_ms, last_ts_ms, ${[...TOTAL_COLUMNS, ...GROWTH_COLUMNS].join(', ')}
     FROM session_rollups WHERE hour >= ? AND hour < ?`,
  );
  const jsonEach = ro.prepare(
    `SELECT json_extract(r.value, '$.type') AS t, SUM(json_extract(r.value, '$.count')) AS hits, COUNT(*) AS events
     FROM events, json_each(events.redactions) AS r
     WHERE events.ts_ms >= ? AND events.ts_ms < ? AND events.redactions <> '[]' GROUP BY t`,
  );
  let sessionsNew = 0;
  let sessionsOld = 0;
  console.log(
    `\nreads over 30 days, summary tables vs the former way (baseline), same run (load ${loadAverages()}):`,
  );
  header('read');
  console.log(
    row(
      'report cost --by session 30d (session_totals)',
      await timed(async () => {
        sessionsNew = (await costReport(reader, { by: 'session', sinceMs: since30, untilMs: now })).rows
          .length;
      }),
      `${sessionsNew} rows`,
    ),
  );
  for (const [label, sinceMs] of [
    ['session page 30d, top 100 (cost index)', since30],
    ['session page 7d, top 100', now - 7 * DAY],
  ] as const) {
    let total = 0;
    console.log(
      row(
        label,
        await timed(async () => {
          total = (await reader.sessionPage(sinceMs, now, { limit: 100, after: null })).total;
        }),
        `of ${total} sessions`,
      ),
    );
    // The former report: every session of the window read, ranked and returned (same run).
    console.log(
      row(
        '  baseline: every session of the window read',
        await timed(async () => {
          (await reader.sessions(sinceMs, now)).sort((a, b) => b.cost_micro_usd - a.cost_micro_usd);
        }),
      ),
    );
  }
  if (BASELINE_RUNS > 0)
    console.log(
      row(
        '  baseline: every session-hour segment joined',
        await timed(() => {
          sessionsOld = joinSessionSegments(segments.all(from, to) as SegmentRow[]).length;
        }, BASELINE_RUNS),
        `${sessionsOld} sessions`,
      ),
    );
  let growing = 0;
  console.log(
    row(
      'growing sessions 30d, top 10 (growth index)',
      await timed(async () => {
        growing = (await reader.growingSessions(since30, now, 10)).sessions.length;
      }),
      `${growing} rows`,
    ),
  );
  console.log(
    row(
      'provider quota 30d (provider_quota_rollups)',
      await timed(() => reader.providerQuota(since30, now, 50)),
    ),
  );
  console.log(
    row('redaction hits 30d (security_rollups)', await timed(() => reader.redactionHits(since30, now))),
  );
  if (BASELINE_RUNS > 0)
    console.log(
      row(
        '  baseline: json_each over the window',
        await timed(() => jsonEach.all(since30, now), BASELINE_RUNS),
      ),
    );
  console.log(
    row('auth failures 30d (security_rollups)', await timed(() => reader.authFailures(since30, now, DAY))),
  );
  if (BASELINE_RUNS > 0)
    console.log(
      row(
        '  baseline: status index, AUTH_FAILED rows',
        await timed(() =>
          tg.store.query({ status: 'AUTH_FAILED', sinceMs: since30, untilMs: now, limit: 50_000 }),
        ),
      ),
    );
  ro.close();

  // Every `tollgate report` over 30 days, as the CLI computes it (the same functions over the
  // gateway's rollup reader; the CLI adds module loading and printing).
  console.log(`\nreports over 30 days, ${RUNS} runs after a warm-up (load ${loadAverages()}):`);
  header('report');
  for (const by of COST_REPORT_BY) {
    let rows = 0;
    const st = await timed(async () => {
      rows = (await costReport(tg.rollups, { by, sinceMs: since30, untilMs: now })).rows.length;
    });
    console.log(row(`report cost --by ${by} --since 30d`, st, `${rows} rows`));
  }
  for (const [label, sinceMs] of [
    // Without `events`: the rollup figures. The CLI also passes the event store, for the provider
    // quota (issue 20), which reads the newest 20,000 events of the window.
    ['report security --since 30d (rollups)', since30],
    ['report security 24h (rollups)', now - DAY],
  ] as const) {
    let events = 0;
    const st = await timed(async () => {
      events = (
        await securityReport({ rollups: tg.rollups, alerts: tg.alerts }, { sinceMs, untilMs: now + 1 })
      ).events;
    });
    console.log(row(label, st, `${events} events`));
  }

  if (process.env.DASH_BENCH_VERIFY !== '0') {
    // Started with wait=0 (202 at once), then polled: a run over millions of events outlasts
    // any client's patience for one request.
    const auth = { authorization: `Bearer ${token}` };
    const s = performance.now();
    const vr = await fetch(`${tg.url}/admin/verify?wait=0`, { method: 'POST', headers: auth });
    await vr.arrayBuffer();
    let ok: boolean | null = null;
    for (;;) {
      const st = (await (await fetch(`${tg.url}/admin/integrity`, { headers: auth })).json()) as {
        verify_running: boolean;
        last_verify: { report: { ok: boolean } } | null;
      };
      if (!st.verify_running) {
        ok = st.last_verify?.report.ok ?? null;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(
      `\nPOST /admin/verify (full verification of ${N.toLocaleString('en-US')} events, on demand, polled): ${(performance.now() - s).toFixed(0)} ms, ok ${ok}`,
    );
  }

  if (existsSync('/usr/bin/chromium') && process.env.DASH_BENCH_BROWSER !== '0') {
    const { launchChromium } = await import('../test/dashboard/chromium.js');
    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await context.addCookies([
      { name: 'tg_session', value: session.id, url: tg.url, httpOnly: true, sameSite: 'Strict' },
    ]);
    const page = await context.newPage();
    console.log(`\nChromium: navigation start to the load event, ${RUNS} runs after a warm-up:`);
    for (const [name, path] of targets.filter(([, p]) => p.startsWith('/ui') && !p.includes('fragment'))) {
      const times: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const st = performance.now();
        await page.goto(`${tg.url}${path}`, { waitUntil: 'load' });
        if (i > 0) times.push(performance.now() - st);
      }
      console.log(row(name, stats(times)));
    }
    await browser.close();
  } else
    console.log(
      process.env.DASH_BENCH_BROWSER === '0'
        ? '\nbrowser timings skipped (DASH_BENCH_BROWSER=0)'
        : '\nChromium not installed (/usr/bin/chromium): browser timings skipped',
    );
  await tg.close();
}

await main();
