/**
 * Cost rollups and report benchmark (issue 5, "Must show"):
 *  A. ingest rate with raw event rows AND rollups in the same transaction (batches of 500,
 *     WAL, synchronous=NORMAL) into a minimal events table;
 *  B. 10 million events' worth of rollups (rollups only, no raw rows) spread over 30 days;
 *  C. `costReport --by user --since 30d` over B, p50 of several runs (target <= 200 ms),
 *     plus --by model / session / day for reference.
 *
 * Run: npx tsx bench/cost-report.bench.ts [events=10000000] [ingestEvents=1000000] [sessions]
 * Files go to /tmp/tollgate-bench-*.db and are removed first.
 */
import { rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { blankEvent, type AuditEvent } from '../src/core/audit-event.js';
import { createCatalog, defaultCatalogPath, loadCatalogFile } from '../src/pricing/catalog.js';
import { createPricer } from '../src/pricing/pricer.js';
import { costReport, type CostReportBy } from '../src/reports/cost-report.js';
import { createSqliteRollups, sqliteRollupReader, type RollupEvent } from '../src/store/sqlite/sqlite-rollups.js';

const TOTAL = Number(process.argv[2] ?? 10_000_000);
const INGEST = Number(process.argv[3] ?? 1_000_000);
const BATCH = 500;
const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 0, 31); // fixed, so runs are comparable
const SPAN = 30 * DAY_MS;

const pricer = createPricer(createCatalog(loadCatalogFile(defaultCatalogPath())));
const MODELS = ['gpt-4.1', 'gpt-4.1-mini-2025-04-14', 'claude-sonnet-4-5-20250929', 'gemini-2.5-flash', 'deepseek-v3.2', 'o3', 'gpt-5', 'my-finetune'];
const USERS = 5000;

/** Deterministic, fast PRNG. */
let seed = 42;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

/**
 * Event i of n, in time order over 30 days. Traffic is skewed like real traffic: user index
 * ~ USERS * r^3 (a few heavy users, a long tail), model popularity skewed the same way.
 * Sessions are a user's 45-minute windows; input tokens grow within a session (resent history).
 */
function makeEvent(i: number, n: number, spanMs: number = SPAN): AuditEvent {
  const ts = NOW - spanMs + Math.floor((i / n) * spanMs);
  const u = Math.floor(USERS * rnd() ** 3);
  const window = Math.floor(ts / 2_700_000);
  const e = blankEvent({ id: `ev-${i}`, timestamp: new Date(ts).toISOString(), source: 'gateway' });
  e.user_id = `user-${u}`;
  e.api_key_id = `key-${u % 500}`;
  e.team = `team-${u % 20}`;
  e.feature_name = `feature-${Math.floor(30 * rnd() ** 2)}`;
  e.model_used = MODELS[Math.floor(MODELS.length * rnd() ** 2)]!;
  e.session_id = `sess-${u}-${window}`;
  const estimated = rnd() < 0.02;
  e.usage_source = estimated ? 'estimated' : 'reported';
  e.status = estimated ? 'CANCELLED' : rnd() < 0.01 ? 'SERVER_ERROR' : 'SUCCESS';
  e.input_tokens = 500 + ((ts / 60_000) % 45) * 400 + Math.floor(rnd() * 300);
  e.cached_input_tokens = estimated ? null : Math.floor(e.input_tokens * rnd() * 0.5);
  e.output_tokens = 50 + Math.floor(rnd() * 800);
  e.reasoning_tokens = e.model_used === 'o3' ? Math.floor(e.output_tokens * 0.6) : null;
  pricer.price(e);
  return e;
}

function freshDb(path: string): Database.Database {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fileMb(path: string): string {
  let size = 0;
  for (const suffix of ['', '-wal']) {
    try {
      size += statSync(path + suffix).size;
    } catch {
      // no WAL file
    }
  }
  return (size / 1e6).toFixed(0);
}

/** Drives `n` events through `write` in batches; returns events/s over the write time only. */
function drive(n: number, write: (batch: AuditEvent[]) => void, label: string, spanMs: number = SPAN): number {
  let writeMs = 0;
  let batch: AuditEvent[] = [];
  let nextReport = 1_000_000;
  for (let i = 0; i < n; i++) {
    batch.push(makeEvent(i, n, spanMs));
    if (batch.length === BATCH || i === n - 1) {
      const t = performance.now();
      write(batch);
      writeMs += performance.now() - t;
      batch = [];
    }
    if (i + 1 === nextReport) {
      console.log(`  ${label}: ${fmt(i + 1)} events, ${fmt(((i + 1) / writeMs) * 1000)} events/s so far`);
      nextReport += 1_000_000;
    }
  }
  return (n / writeMs) * 1000;
}

// ---------------------------------------------------------------- A. ingest with raw rows
const ingestPath = '/tmp/tollgate-bench-ingest.db';
const ingestDb = freshDb(ingestPath);
ingestDb.exec(`CREATE TABLE events (
  rowid_ INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, ts_ms INTEGER NOT NULL, timestamp TEXT NOT NULL,
  user_id TEXT, session_id TEXT, feature_name TEXT, team TEXT, api_key_id TEXT, model_used TEXT, status TEXT,
  usage_source TEXT, input_tokens INTEGER, output_tokens INTEGER, cached_input_tokens INTEGER,
  reasoning_tokens INTEGER, cost_micro_usd INTEGER, pricing_version TEXT);
  CREATE UNIQUE INDEX events_id ON events(id);
  CREATE INDEX events_ts ON events(ts_ms);`);
const insert = ingestDb.prepare(
  `INSERT OR IGNORE INTO events (id, ts_ms, timestamp, user_id, session_id, feature_name, team, api_key_id, model_used,
   status, usage_source, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, cost_micro_usd, pricing_version)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);
const ingestRollups = createSqliteRollups(ingestDb);
const ingestTx = ingestDb.transaction((batch: readonly AuditEvent[]) => {
  for (const e of batch) {
    insert.run(
      e.id, Date.parse(e.timestamp), e.timestamp, e.user_id, e.session_id, e.feature_name, e.team, e.api_key_id, e.model_used,
      e.status, e.usage_source, e.input_tokens, e.output_tokens, e.cached_input_tokens, e.reasoning_tokens, e.cost_micro_usd, e.pricing_version,
    );
  }
  ingestRollups.applyRollups(batch);
});
// Timestamps advance as they would at 50,000 requests/s (the rate being tested), so a batch
// covers what a live gateway's batch covers (a fraction of a second), not hours of history.
const ingestSpan = Math.ceil(INGEST / 50);
console.log(`A. ingest: ${fmt(INGEST)} events stamped as 50,000/s traffic (raw rows + rollups, one transaction per ${BATCH}), WAL, synchronous=NORMAL`);
seed = 7;
const ingestRate = drive(INGEST, ingestTx, 'A', ingestSpan);
console.log(`A. ingest with raw event rows and rollups: ${fmt(ingestRate)} events/s (${fileMb(ingestPath)} MB)`);
ingestDb.close();

// ---------------------------------------------------------------- B. 10M events of rollups
const rollupPath = '/tmp/tollgate-bench-rollups.db';
const db = freshDb(rollupPath);
const rollups = createSqliteRollups(db);
const rollupTx = db.transaction((batch: readonly RollupEvent[]) => rollups.applyRollups(batch));
console.log(`B. rollups only: ${fmt(TOTAL)} events over 30 days, ${fmt(USERS)} users (skewed), batches of ${BATCH}`);
seed = 42;
const started = performance.now();
const rollupRate = drive(TOTAL, rollupTx, 'B');
const rows = db.prepare('SELECT granularity, COUNT(*) AS n FROM cost_rollups GROUP BY granularity').all() as { granularity: number; n: number }[];
const sessions = db.prepare('SELECT COUNT(*) AS n FROM session_rollups').pluck().get() as number;
console.log(
  `B. rollup ingest: ${fmt(rollupRate)} events/s; built in ${((performance.now() - started) / 1000).toFixed(0)} s incl. event generation; ` +
    `rows: ${rows.map((r) => `${['minute', 'hour', 'day'][r.granularity]} ${fmt(r.n)}`).join(', ')}, sessions ${fmt(sessions)}; ${fileMb(rollupPath)} MB`,
);

// ---------------------------------------------------------------- C. report timings
async function timeReport(by: CostReportBy, runs: number): Promise<{ p50: number; rows: number; cost: number }> {
  const times: number[] = [];
  let rowsOut = 0;
  let cost = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await costReport(sqliteRollupReader(rollups), { by, sinceMs: NOW - SPAN, untilMs: NOW });
    times.push(performance.now() - t);
    rowsOut = r.rows.length;
    cost = r.totals.cost_micro_usd;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, rows: rowsOut, cost };
}
// --by session joins one row per session and hour in JS; over 30 days of this traffic that is
// hundreds of thousands of sessions, so it is timed only with a third argument `sessions`.
const reports = process.argv[4] === 'sessions' ? (['user', 'model', 'day', 'session'] as const) : (['user', 'model', 'day'] as const);
for (const by of reports) {
  const { p50, rows: n, cost } = await timeReport(by, by === 'session' ? 3 : 9);
  console.log(`C. costReport --by ${by} --since 30d: p50 ${p50.toFixed(1)} ms, ${fmt(n)} rows, total $${(cost / 1e6).toFixed(2)}${by === 'user' ? ' (target <= 200 ms)' : ''}`);
}
db.close();
