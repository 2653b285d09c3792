/**
 * Cost report over a large SQLite store (issue 5, "Must show": `report cost --by user --since 30d`
 * over 10 million events answers in ≤ 200 ms).
 *
 * B. Builds (once) a store of COST_BENCH_EVENTS events (default 10,000,000) over 30 days: every
 *    event field filled (content as the `none` mode stores it: a digest), 5,000 users with skewed
 *    traffic, sessions of a user's 45-minute window with growing input. Written through
 *    SqliteEventStore with the rollup hook — raw rows and rollups, as the gateway keeps them — in
 *    transactions of 20,000 events, with the secondary event indexes built at the end (a sort,
 *    much faster than 10M random inserts). The file is cached at
 *    $COST_BENCH_DIR/tollgate-cost-<events>-s<skew>-v<version>.db (default dir: the OS temp dir) and
 *    reused by later runs; delete it to rebuild.
 * C. Times `costReport --by user` over the 30 days, in a fresh connection: the first run (SQLite
 *    cache empty, OS page cache as it is) and then COST_BENCH_RUNS warm runs (p50, max); the
 *    same for --by model/day/team/feature/key for reference (--by session with COST_BENCH_SESSIONS=1).
 *    Then the CLI end to end, compiled: `tollgate report cost --by user --since … --until …` as a
 *    child process. "Cold" runs first evict the file from the OS page cache (posix_fadvise).
 *
 * Run: npx tsx bench/cost-report.bench.ts   (COST_BENCH_EVENTS=10000000 COST_BENCH_RUNS=15
 *      COST_BENCH_USER_SKEW=2 COST_BENCH_COLD_RUNS=5 COST_BENCH_PAGE_SIZE=4096 for an A/B against
 *      the default page size)
 * Ingest rates are measured by bench/ingest.bench.ts.
 */
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blankEvent, type AuditEvent } from '../src/core/audit-event.js';
import { compileForBench } from './compiled.js';
import { createCatalog, defaultCatalogPath, loadCatalogFile } from '../src/pricing/catalog.js';
import { createPricer } from '../src/pricing/pricer.js';
import { costReport, type CostReportBy } from '../src/reports/cost-report.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups, sqliteRollupReader } from '../src/store/sqlite/sqlite-rollups.js';

const TOTAL = Number(process.env.COST_BENCH_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.COST_BENCH_RUNS ?? 15);
const DIR = process.env.COST_BENCH_DIR ?? tmpdir();
/**
 * Bump when the generated data or the table layout changes, so a stale cache is not reused.
 * 4: stores are created with 16 KB pages (SQLITE_PAGE_SIZE).
 */
const DATA_VERSION = 4;
/** User index ~ USERS × r^SKEW: the larger, the more traffic goes to the first users. */
const SKEW = Number(process.env.COST_BENCH_USER_SKEW ?? 2);
/** Page size of the store built (default: the store's own, SQLITE_PAGE_SIZE), for A/B runs. */
const PAGE_SIZE = process.env.COST_BENCH_PAGE_SIZE ? Number(process.env.COST_BENCH_PAGE_SIZE) : null;
const BATCH = 20_000;
const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 0, 31); // fixed, so runs are comparable
const SPAN = 30 * DAY_MS;
const USERS = 5000;
const MODELS = [
  'gpt-4.1',
  'gpt-4.1-mini-2025-04-14',
  'claude-sonnet-4-5-20250929',
  'gemini-2.5-flash',
  'deepseek-v3.2',
  'o3',
  'gpt-5',
  'my-finetune',
];

const pricer = createPricer(createCatalog(loadCatalogFile(defaultCatalogPath())));

let seed = 42;
function rnd(): number {
  // Math.imul: a float product loses its low bits past 2^53, which shortened the cycle to a
  // few thousand values (the first 10M store had only ~1,200 distinct users).
  seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0').slice(-len);

/**
 * Event i of n, in time order over 30 days. User index ~ USERS × r^SKEW (a few heavy users, a
 * long tail), models skewed by r²; sessions are a user's 45-minute windows, and input tokens
 * grow within them (resent history).
 */
function makeEvent(i: number, n: number): AuditEvent {
  const ts = NOW - SPAN + Math.floor((i / n) * SPAN);
  const u = Math.floor(USERS * rnd() ** SKEW);
  const window = Math.floor(ts / 2_700_000);
  const e = blankEvent({
    id: `01J${hex(ts, 10).toUpperCase()}${hex(i, 13).toUpperCase()}`,
    timestamp: new Date(ts).toISOString(),
    source: 'gateway',
  });
  e.request_id = `req_${hex(i * 7919, 16)}`;
  e.chain_id = 'bench-instance';
  e.seq = i + 1;
  e.prev_hash = hex(i * 2654435761, 16).repeat(4);
  e.hash = hex((i + 1) * 2654435761, 16).repeat(4);
  e.instance_id = 'bench-instance';
  e.ip_address = `10.0.${u % 250}.${u % 200}`;
  e.user_agent = 'OpenAI/Python 1.54.4';
  e.request_source = 'web';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.user_id = `user-${u}`;
  e.api_key_id = `key-${u % 500}`;
  e.api_key_prefix = 'sk-proj-ab';
  e.auth_method = 'bearer';
  e.auth_result = 'SUCCESS';
  e.team = `team-${u % 20}`;
  e.feature_name = `feature-${Math.floor(30 * rnd() ** 2)}`;
  e.model_requested = MODELS[Math.floor(MODELS.length * rnd() ** 2)]!;
  e.model_used = e.model_requested;
  e.stream = rnd() < 0.6;
  e.session_id = `sess-${u}-${window}`;
  const estimated = rnd() < 0.02;
  e.usage_source = estimated ? 'estimated' : 'reported';
  e.status = estimated ? 'CANCELLED' : rnd() < 0.01 ? 'SERVER_ERROR' : 'SUCCESS';
  e.http_status_code = e.status === 'SERVER_ERROR' ? 500 : 200;
  e.finish_reason = e.status === 'SUCCESS' ? 'stop' : null;
  e.input_tokens = 500 + (Math.floor(ts / 60_000) % 45) * 400 + Math.floor(rnd() * 300);
  e.cached_input_tokens = estimated ? null : Math.floor(e.input_tokens * rnd() * 0.5);
  e.output_tokens = 50 + Math.floor(rnd() * 800);
  e.reasoning_tokens = e.model_used === 'o3' ? Math.floor(e.output_tokens * 0.6) : null;
  e.total_tokens = e.input_tokens + e.output_tokens;
  e.latency_ms = 300 + Math.floor(rnd() * 3000);
  e.upstream_latency_ms = e.latency_ms - 1;
  e.queue_time_ms = 0.05;
  e.time_to_first_token_ms = e.stream ? 250 : null;
  e.content_mode = 'none';
  e.prompt = `sha256:${hex(i * 31, 16).repeat(4)} chars=${e.input_tokens * 4}`;
  e.response = `sha256:${hex(i * 37, 16).repeat(4)} chars=${e.output_tokens * 4}`;
  pricer.price(e);
  return e;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fileMb(path: string): string {
  let size = 0;
  for (const suffix of ['', '-wal']) if (existsSync(path + suffix)) size += statSync(path + suffix).size;
  return (size / 1e6).toFixed(0);
}

// ---------------------------------------------------------------- B. build or reuse the store
const path = join(
  DIR,
  `tollgate-cost-${TOTAL}-s${SKEW}-v${DATA_VERSION}${PAGE_SIZE ? `-p${PAGE_SIZE}` : ''}.db`,
);
if (!existsSync(path)) {
  const building = `${path}.building`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(building + suffix, { force: true });
  if (PAGE_SIZE) {
    // A page size other than the store default, for A/B runs: fixed by the first write (WAL mode).
    const raw = new Database(building);
    raw.pragma(`page_size = ${PAGE_SIZE}`);
    raw.pragma('journal_mode = WAL');
    raw.close();
  }
  const db = openSqlite(building);
  const store = new SqliteEventStore(db);
  const rollups = createSqliteRollups(db);
  store.addInTransactionHook((events) => rollups.applyRollups(events));
  // Secondary indexes are rebuilt after the load: one sort each instead of 10M random inserts.
  // The unique ones stay, the insert's conflict target needs them.
  const secondary = db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'`,
    )
    .all() as { name: string; sql: string }[];
  for (const ix of secondary) db.exec(`DROP INDEX ${ix.name}`);
  console.log(`B. building ${fmt(TOTAL)} events over 30 days (${fmt(USERS)} users, skewed) into ${path}`);
  const t0 = performance.now();
  let writeMs = 0;
  for (let i = 0; i < TOTAL; i += BATCH) {
    const batch: AuditEvent[] = [];
    for (let j = i; j < Math.min(TOTAL, i + BATCH); j++) batch.push(makeEvent(j, TOTAL));
    const t = performance.now();
    store.appendSync(batch);
    writeMs += performance.now() - t;
    if ((i + BATCH) % 1_000_000 === 0) {
      console.log(
        `  ${fmt(i + BATCH)} events, ${((performance.now() - t0) / 1000).toFixed(0)} s, ${fmt(((i + BATCH) / writeMs) * 1000)} events/s written`,
      );
    }
  }
  const ti = performance.now();
  for (const ix of secondary) db.exec(ix.sql);
  console.log(`  secondary indexes built in ${((performance.now() - ti) / 1000).toFixed(0)} s`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  renameSync(building, path);
  for (const suffix of ['-wal', '-shm']) rmSync(building + suffix, { force: true });
  console.log(`B. built in ${((performance.now() - t0) / 1000).toFixed(0)} s; ${fileMb(path)} MB`);
} else {
  console.log(`B. reusing ${path} (${fileMb(path)} MB); delete it to rebuild`);
}

// ---------------------------------------------------------------- C. report timings
/**
 * Drops the file's pages from the OS page cache (posix_fadvise DONTNEED, through python3), so a
 * "cold" run reads from disk. Only this file is affected, not the machine's cache. False when
 * python3 is missing.
 */
function evictFromPageCache(file: string): boolean {
  const script =
    'import os,sys\nfor p in sys.argv[1:]:\n  if os.path.exists(p):\n    fd=os.open(p,os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)';
  try {
    execFileSync('python3', ['-c', script, file, `${file}-wal`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
{
  const db = openSqlite(path);
  new SqliteEventStore(db); // runs pending migrations, as the CLI does
  const events = db.prepare('SELECT MAX(rowid_) FROM events').pluck().get() as number;
  const rows = db
    .prepare('SELECT granularity, COUNT(*) AS n FROM cost_rollups GROUP BY granularity')
    .all() as { granularity: number; n: number }[];
  const sessionRows = db.prepare('SELECT COUNT(*) FROM session_rollups').pluck().get() as number;
  console.log(
    `   ${fmt(events)} events; rollup rows: ${rows.map((r) => `${['minute', 'hour', 'day'][r.granularity] ?? `${2 ** (r.granularity - 2)}-day block`} ${fmt(r.n)}`).join(', ')}, session-hours ${fmt(sessionRows)}`,
  );
  db.close();
}
const db = openSqlite(path);
const store = new SqliteEventStore(db);
const reader = sqliteRollupReader(createSqliteRollups(db));

async function timeReport(by: CostReportBy, runs: number): Promise<void> {
  const times: number[] = [];
  let rowsOut = 0;
  let cost = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await costReport(reader, { by, sinceMs: NOW - SPAN, untilMs: NOW });
    times.push(performance.now() - t);
    rowsOut = r.rows.length;
    cost = r.totals.cost_micro_usd;
  }
  const first = times[0]!;
  const warm = times.slice(1).sort((a, b) => a - b);
  const p50 = warm.length ? warm[Math.floor(warm.length / 2)]! : first;
  const max = warm.length ? warm[warm.length - 1]! : first;
  console.log(
    `C. costReport --by ${by.padEnd(7)} 30d: first ${first.toFixed(1)} ms, warm p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms (${runs - 1} runs); ` +
      `${fmt(rowsOut)} rows, total $${(cost / 1e6).toFixed(2)}${by === 'user' ? ' (target <= 200 ms)' : ''}`,
  );
}
/** The user report on a new connection after evicting the file from the page cache, `runs` times. */
async function coldRuns(runs: number): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (!evictFromPageCache(path)) return;
    const c = openSqlite(path);
    const t = performance.now();
    await costReport(sqliteRollupReader(createSqliteRollups(c)), {
      by: 'user',
      sinceMs: NOW - SPAN,
      untilMs: NOW,
    });
    times.push(performance.now() - t);
    c.close();
  }
  times.sort((a, b) => a - b);
  console.log(
    `C. costReport --by user    30d, cold (page cache evicted, new connection): p50 ${times[Math.floor(runs / 2)]!.toFixed(1)} ms, max ${times[runs - 1]!.toFixed(1)} ms (${runs} runs)`,
  );
}
await coldRuns(Number(process.env.COST_BENCH_COLD_RUNS ?? 5));
const reports: CostReportBy[] = ['user', 'model', 'day', 'team', 'feature', 'key'];
if (process.env.COST_BENCH_SESSIONS) reports.push('session');
for (const by of reports) await timeReport(by, by === 'session' ? 3 : RUNS);
await store.close();

// The CLI end to end (process start, module loading, store open, report, table printed), on
// compiled JavaScript as the installed `tollgate` runs, not through a TypeScript loader.
const bin = compileForBench()('x.ts').replace(/bench\/x\.js$/, 'src/cli/bin.js');
const cli = [
  bin,
  '--db',
  path,
  'report',
  'cost',
  '--by',
  'user',
  '--since',
  new Date(NOW - SPAN).toISOString(),
  '--until',
  new Date(NOW).toISOString(),
];
const runCli = (args: string[]): number => {
  const t = performance.now();
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t;
};
const cliTimes: number[] = [];
if (evictFromPageCache(path)) cliTimes.push(runCli(cli));
for (let i = 0; i < 5; i++) cliTimes.push(runCli(cli));
const bare = runCli(['-e', '0']);
console.log(
  `C. CLI \`tollgate report cost --by user\` over the 30 days, end to end (compiled): ${cliTimes.map((x) => x.toFixed(0)).join(', ')} ms` +
    `${cliTimes.length > 5 ? ' (the first after evicting the file from the page cache)' : ''}; bare \`node -e 0\`: ${bare.toFixed(0)} ms`,
);
