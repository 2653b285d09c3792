/**
 * `tollgate verify` throughput over a SQLite store of N events (issue 22), next to a
 * single-threaded SHA-256 floor measured in the same run:
 *
 *   npx tsx bench/verify.bench.ts [N] [--reuse]
 *
 * N defaults to 1,000,000; the store (one chain, a checkpoint every 1,000 events) is built in
 * VERIFY_BENCH_DIR (default /tmp/tollgate-verify-bench) and reused with --reuse. Prints, with the
 * load average before and after, and the process CPU time per event (all threads; on this shared
 * machine wall-clock numbers follow the load, CPU per event much less):
 *  - the floor: SHA-256 of each event's canonical JSON bytes (the bytes verify hashes), in one
 *    thread with node:crypto, the bytes prepared beforehand (not timed);
 *  - full verify (segments hashed in a worker pool) and the sequential walk (the former verify;
 *    VERIFY_BENCH_SEQUENTIAL=0 skips it);
 *  - incremental verify (`--since-checkpoint`) over the last VERIFY_BENCH_NEW events (default
 *    1 % of N), from the verified checkpoint before them;
 *  - the same bytes built by the specialised serializer (canonical-columns.ts) from the columns, and
 *    written by SQLite (canonical-sql.ts, what the workers read), reads included, in one thread;
 *  - first start on the store without checkpoints (CheckpointWriter.resume over the whole chain,
 *    links and leaves in worker threads from 50,000 events).
 *
 *   npx tsx bench/verify.bench.ts [N] [--reuse] [--drop] --postgres
 *
 * The same chain in a PostgreSQL schema (VERIFY_BENCH_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/test; schema VERIFY_BENCH_PG_SCHEMA, default
 * tg_verify_bench, dropped and rebuilt unless --reuse; `--drop` drops it at the end), written
 * through the store's own append (COPY). Prints the same floor, then, in one thread: the segment
 * reads alone (readChainColumns: server, socket and the driver's row parsing), the specialised
 * serializer over the rows read, and SHA-256 of its bytes, then the canonical JSON written by the
 * server (canonical-pg.ts, what the pool's workers read) read and hashed; then verify with the
 * segments checked on the calling thread (workers: 0), in the worker pool (one worker per core,
 * then 4), and the sequential walk. Reads and verify rows also print the server's CPU per event
 * (its processes' CPU from /proc when it runs here; VERIFY_BENCH_PG_DATA names a directory its
 * user owns, default /var/lib/postgresql).
 */
import { hash as oneShotHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { ManualClock } from '../src/core/clock.js';
import type { AuditEvent } from '../src/core/audit-event.js';
import { CanonicalColumns } from '../src/integrity/canonical-columns.js';
import { CANONICAL_PG_COLUMNS } from '../src/integrity/canonical-pg.js';
import { READER_SESSION } from '../src/integrity/postgres-segment-reader.js';
import { CANONICAL_SQL_COLUMNS, SqliteCanonicalRows } from '../src/integrity/canonical-sql.js';
import { canonicalEventJson } from '../src/integrity/canonical-json.js';
import { CheckpointWriter } from '../src/integrity/checkpoint-writer.js';
import { MemoryCheckpointStore } from '../src/integrity/memory-checkpoint-store.js';
import type { SigningKey } from '../src/integrity/signing-key.js';
import { verifyChains, type VerifyOptions, type VerifyReport } from '../src/integrity/verify.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { EVENT_COLUMNS } from '../src/store/sqlite/sqlite-event-store.js';
import type { CheckpointStore } from '../src/store/checkpoint-store.js';
import type { EventStore } from '../src/store/event-store.js';
import { BENCH_CHAIN, benchPostgresStore, benchStore } from './verify-store.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const REUSE = args.includes('--reuse');
const DIR = process.env.VERIFY_BENCH_DIR ?? '/tmp/tollgate-verify-bench';
const NEW = Number(process.env.VERIFY_BENCH_NEW ?? Math.max(1000, Math.floor(N / 100)));
const POSTGRES = args.includes('--postgres');
const PG_URL = process.env.VERIFY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_SCHEMA = process.env.VERIFY_BENCH_PG_SCHEMA ?? 'tg_verify_bench';
/** Its owner is the server processes' user (their CPU is read from /proc). */
const PG_DATA_DIR = process.env.VERIFY_BENCH_PG_DATA ?? '/var/lib/postgresql';

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

interface Row {
  what: string;
  events: number;
  seconds: number;
  load: string;
  /** Process CPU (all threads) per event, µs; null where the row is a sum of timed parts. */
  cpuUs: number | null;
  /** PostgreSQL server CPU per event, µs (--postgres, verify rows); null elsewhere. */
  serverUs: number | null;
}
const rows: Row[] = [];
function record(
  what: string,
  events: number,
  seconds: number,
  loadBefore: string,
  cpuBefore: NodeJS.CpuUsage | null = null,
  serverBeforeMs: number | null = null,
): void {
  const cpu = cpuBefore ? process.cpuUsage(cpuBefore) : null;
  const cpuUs = cpu ? (cpu.user + cpu.system) / events : null;
  const serverUs = serverBeforeMs === null ? null : ((serverCpuMs() - serverBeforeMs) * 1000) / events;
  const row = { what, events, seconds, load: `${loadBefore} → ${load()}`, cpuUs, serverUs };
  rows.push(row);
  console.log(
    `${what.padEnd(58)} ${fmt(events).padStart(10)} events ${fmt(seconds, 2).padStart(8)} s ${fmt(events / seconds).padStart(10)} events/s ${cpuUs === null ? '' : `${fmt(cpuUs, 1)} µs CPU/event`}${serverUs === null ? '' : ` + ${fmt(serverUs, 1)} µs server CPU/event`}  load ${row.load}`,
  );
}

/** The floor: the same bytes verify hashes, SHA-256 in one thread, reads and JSON not timed. */
async function floor(store: EventStore): Promise<void> {
  const l = load();
  let hashS = 0;
  let jsonS = 0;
  let bytes = 0;
  let batch: AuditEvent[] = [];
  const flush = (): void => {
    let t = performance.now();
    const bufs = batch.map((e) => Buffer.from(canonicalEventJson(e)));
    jsonS += (performance.now() - t) / 1000;
    t = performance.now();
    for (const b of bufs) oneShotHash('sha256', b, 'buffer');
    hashS += (performance.now() - t) / 1000;
    for (const b of bufs) bytes += b.length;
    batch = [];
  };
  for await (const e of store.iterateChain(BENCH_CHAIN, 1, 20_000)) {
    batch.push(e);
    if (batch.length === 20_000) flush();
  }
  flush();
  record(`floor: SHA-256 of the canonical bytes, 1 thread (${fmt(bytes / N)} B/event)`, N, hashS, l);
  record('generic canonical JSON (decoded events) + SHA-256, 1 thread, no reads', N, hashS + jsonS, l);
}

/**
 * CPU the PostgreSQL server's processes have used (ms; their exited children's included, so a
 * backend that ends with its connection still counts), when they run on this machine (Linux
 * /proc, processes owned by the data directory's owner); 0 elsewhere. Other sessions' queries
 * count too: the bench runs under the shared lock.
 */
function serverCpuMs(): number {
  let uid: number;
  try {
    uid = statSync(PG_DATA_DIR).uid;
  } catch {
    return 0;
  }
  const tick = 10; // ms per clock tick (USER_HZ 100 on Linux)
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) continue;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime, cutime, cstime: fields 14–17 of stat(5), 12–15 after the name.
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

async function timedVerify(
  store: EventStore,
  checkpoints: CheckpointStore,
  keys: ReturnType<SigningKey['verifier']>[],
  what: string,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const before = load();
  const server = POSTGRES ? serverCpuMs() : null;
  const cpu = process.cpuUsage();
  const t = performance.now();
  const report = await verifyChains(store, checkpoints, keys, options);
  const s = (performance.now() - t) / 1000;
  if (!report.ok) throw new Error(`${what}: the bench chain did not verify`);
  record(
    `${what} [${fmt(report.events_hashed_in_workers)} in workers]`,
    report.events_checked,
    s,
    before,
    cpu,
    server,
  );
  return report;
}

function printTable(): void {
  const server = POSTGRES ? ' server µs CPU/event |' : '';
  console.log(`\n| measure | events | s | events/s | µs CPU/event |${server} load (1 min, before → after) |`);
  console.log(`| --- | ---: | ---: | ---: | ---: |${POSTGRES ? ' ---: |' : ''} --- |`);
  for (const r of rows)
    console.log(
      `| ${r.what} | ${fmt(r.events)} | ${fmt(r.seconds, 2)} | ${fmt(r.events / r.seconds)} | ${r.cpuUs === null ? '' : fmt(r.cpuUs, 1)} |${POSTGRES ? ` ${r.serverUs === null ? '' : fmt(r.serverUs, 1)} |` : ''} ${r.load} |`,
    );
}

async function main(): Promise<void> {
  console.log(`verify bench: ${fmt(N)} events, node ${process.version}, load ${load()}`);
  const built = await benchStore(DIR, N, REUSE);
  if (built.builtInS > 0) console.log(`store built in ${fmt(built.builtInS, 1)} s: ${built.file}`);
  const { store, checkpoints } = built.opened;
  const keys = [built.key.verifier()];

  await floor(store);

  // The specialised serializer verify uses, over the rows as the store reads them (reads not timed).
  let l = load();
  let columnsS = 0;
  const columns = new CanonicalColumns('sqlite');
  for (let first = 1; first <= N; first += 20_000) {
    const { rows } = await store.readChainColumns(BENCH_CHAIN, first, Math.min(N, first + 19_999));
    const t = performance.now();
    for (const row of rows) oneShotHash('sha256', columns.fast(row)!, 'hex');
    columnsS += (performance.now() - t) / 1000;
  }
  record('specialised serializer (from columns) + SHA-256, 1 thread, no reads', N, columnsS, l);

  // Reads included, one thread: the 62 columns read and serialized here, against the JSON SQLite
  // writes (canonical-sql.ts), as a verify worker reads a segment.
  const db = openSqlite(built.file, { readonly: true });
  const range = 'FROM events WHERE chain_id = ? AND seq >= ? AND seq <= ? ORDER BY seq ASC';
  const byColumns = db.prepare(`SELECT ${EVENT_COLUMNS} ${range}`).raw();
  const bySql = db.prepare(`SELECT ${CANONICAL_SQL_COLUMNS} ${range}`).raw();
  const sqlRows = new SqliteCanonicalRows();
  for (const [what, rowJson, statement] of [
    [
      'columns read + specialised serializer + SHA-256, 1 thread',
      (r: unknown[]) => columns.fast(r),
      byColumns,
    ],
    [
      'JSON written by SQLite (canonical-sql.ts) + SHA-256, 1 thread',
      (r: unknown[]) => sqlRows.json(r),
      bySql,
    ],
  ] as const) {
    l = load();
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let first = 1; first <= N; first += 16_384)
      for (const r of statement.iterate(BENCH_CHAIN, first, Math.min(N, first + 16_383)) as Iterable<
        unknown[]
      >)
        oneShotHash('sha256', rowJson(r)!, 'hex');
    record(what, N, (performance.now() - t) / 1000, l, cpu);
  }
  db.close();

  const run = (what: string, options: VerifyOptions): Promise<VerifyReport> =>
    timedVerify(store, checkpoints, keys, what, options);
  await run('verify, full (worker pool)', {});
  if (process.env.VERIFY_BENCH_SEQUENTIAL !== '0')
    await run('verify, full, sequential walk (before)', { sequentialOnly: true });

  // Incremental: from the newest checkpoint at least NEW events before the end (the store has one
  // every 5,000: a checkpoint per written batch).
  const baseline = (await checkpoints.list(BENCH_CHAIN)).filter((c) => c.tree_size <= N - NEW).at(-1);
  if (!baseline) throw new Error(`no checkpoint at or below ${N - NEW}`);
  const base = baseline.tree_size;
  const since = new Map([[BENCH_CHAIN, baseline.note]]);
  // By default a run under 50,000 events is read in segments on the calling thread (no worker
  // start); the sequential walk (the verify before segments) is shown beside it.
  await run(`verify --since-checkpoint (${fmt(N - base)} new events, default)`, { since });
  await run(`verify --since-checkpoint (${fmt(N - base)} new events, sequential)`, {
    since,
    sequentialOnly: true,
  });

  // First start without checkpoints: the checkpoint writer resumes over the whole chain.
  l = load();
  const cpu = process.cpuUsage();
  const t = performance.now();
  const writer = await CheckpointWriter.resume(
    { chainId: BENCH_CHAIN, key: built.key, store: new MemoryCheckpointStore(), clock: new ManualClock() },
    store,
  );
  record(
    'first start without checkpoints (CheckpointWriter.resume)',
    writer.treeSize,
    (performance.now() - t) / 1000,
    l,
    cpu,
  );

  printTable();
  await store.close();
}

/** The PostgreSQL store: where a segment's time goes in one thread, then verify inline and in workers. */
async function postgresMain(): Promise<void> {
  console.log(
    `verify bench (PostgreSQL, schema ${PG_SCHEMA}): ${fmt(N)} events, node ${process.version}, load ${load()}`,
  );
  const built = await benchPostgresStore(PG_URL, PG_SCHEMA, DIR, N, REUSE);
  if (built.builtInS > 0) console.log(`store built in ${fmt(built.builtInS, 1)} s`);
  const { store, checkpoints } = built;
  const keys = [built.key.verifier()];
  await floor(store);

  // One thread, segment by segment as verify reads them: the reads alone, then the serializer and
  // SHA-256 over the rows already read, each timed apart.
  const size = 16_384;
  const columns = new CanonicalColumns('postgres');
  let readS = 0;
  let serializeS = 0;
  let hashS = 0;
  let l = load();
  const server = serverCpuMs();
  const cpu = process.cpuUsage();
  for (let first = 1; first <= N; first += size) {
    let t = performance.now();
    const { rows: read } = await store.readChainColumns(BENCH_CHAIN, first, Math.min(N, first + size - 1));
    readS += (performance.now() - t) / 1000;
    t = performance.now();
    const json = read.map((r) => columns.fast(r)!);
    serializeS += (performance.now() - t) / 1000;
    t = performance.now();
    for (const j of json) oneShotHash('sha256', j, 'hex');
    hashS += (performance.now() - t) / 1000;
  }
  const used = process.cpuUsage(cpu);
  record('segment reads alone (readChainColumns: server + driver), 1 thread', N, readS, l, null, server);
  record('specialised serializer over the rows read, 1 thread', N, serializeS, l);
  record('SHA-256 of those bytes, 1 thread', N, hashS, l);
  console.log(
    `  (those three together: ${fmt((used.user + used.system) / N, 1)} µs CPU/event in this process; the server's CPU is not counted)`,
  );

  // What a PostgreSQL verify worker reads instead: the canonical JSON written by the server
  // (canonical-pg.ts), finished and hashed here; reads included, one thread.
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(READER_SESSION);
  const text = `SELECT ${CANONICAL_PG_COLUMNS} FROM "${PG_SCHEMA.replaceAll('"', '""')}".events
    WHERE chain_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq ASC`;
  const finish = new SqliteCanonicalRows();
  l = load();
  const serverJson = serverCpuMs();
  const cpuJson = process.cpuUsage();
  const t = performance.now();
  for (let first = 1; first <= N; first += size) {
    const res = await client.query<unknown[]>({
      text,
      values: [BENCH_CHAIN, first, Math.min(N, first + size - 1)],
      rowMode: 'array',
    });
    for (const r of res.rows) oneShotHash('sha256', finish.json(r)!, 'hex');
  }
  record(
    'JSON written by PostgreSQL (canonical-pg.ts), read + SHA-256, 1 thread',
    N,
    (performance.now() - t) / 1000,
    l,
    cpuJson,
    serverJson,
  );
  await client.end();

  const run = (what: string, options: VerifyOptions): Promise<VerifyReport> =>
    timedVerify(store, checkpoints, keys, what, options);
  await run('verify, full, segments on the calling thread (workers 0)', { workers: 0 });
  await run('verify, full (worker pool, one worker per core)', {});
  await run('verify, full (worker pool, 4 workers)', { workers: 4 });
  if (process.env.VERIFY_BENCH_SEQUENTIAL !== '0')
    await run('verify, full, sequential walk', { sequentialOnly: true });
  printTable();
  await store.close();
  if (args.includes('--drop')) {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${PG_SCHEMA.replaceAll('"', '""')}" CASCADE`);
    await admin.end();
  }
}

await (POSTGRES ? postgresMain() : main());
