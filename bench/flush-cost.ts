/**
 * What one SQLite flush of the writer costs the event loop, and where (issue 22: c=1 p99).
 *
 * Appends transactions of FLUSH_SIZES events (default 15: a 10 ms flush at one connection) to a
 * fresh store with the gateway's write hooks (rollups), events shaped like a c=1 gateway bench run
 * (1,500/s, 50 users, no session), one transaction every 10 ms as the writer's timer would, in two
 * variants, alternated over FLUSH_ROUNDS rounds so load drift hits both alike:
 *   loop   — the connection checkpoints the WAL itself in the commit that passes 1,000 frames
 *            (SQLite's default; Tollgate's default, `writer.checkpoint_thread: false`);
 *   thread — SqliteCheckpointThread: checkpoints from a worker thread (`writer.checkpoint_thread: true`).
 * For each: the time the event loop spends in `appendSync` per transaction (p50, p99, max, how
 * many over 2 ms), the COMMIT alone (p50), CPU per transaction of the whole process (worker
 * included), and the WAL file's size at the end (it must stay bounded). With FLUSH_BREAKDOWN=1,
 * also the median time of each statement the write hooks run (timed by wrapping `db.prepare`);
 * FLUSH_PAGE_SIZE=4096 creates the store with that page size instead of 16 KB. FLUSH_DROP=events_ts
 * drops those indexes from the store first: what one index costs a flush (an A/B, never a setting).
 *
 * FLUSH_PAGES=1 then says which pages one commit writes (the COMMIT's cost is per page: two
 * pwrite64 calls per WAL frame): on a store of FLUSH_PAGES_DEPTH events (default 50,000, written
 * as the gateway would), FLUSH_PAGES_TX sampled transactions (default 40) each start on an empty
 * WAL (a TRUNCATE checkpoint), and the frames of their one commit are read back from the -wal
 * file and named by the table or index that owns each page (SQLite's dbstat). Then the commit that
 * merges the lookups (one per MERGE_EVERY events): its pages and its time.
 * FLUSH_SESSIONS=N gives the events N concurrent sessions (default 0: the gateway bench's mix).
 *
 *   npx tsx bench/flush-cost.ts   (FLUSH_TX=600 transactions per run, FLUSH_SIZES=15, FLUSH_ROUNDS=2)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../src/core/audit-event.js';
import { openSqlite, type SqliteDatabase } from '../src/store/sqlite/open-sqlite.js';
import { SqliteCheckpointThread } from '../src/store/sqlite/sqlite-checkpoint-thread.js';
import { toRow } from '../src/store/sqlite/sqlite-event-rows.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { attachSqliteWriteHooks } from '../src/store/sqlite/sqlite-write-hooks.js';
import { MERGE_EVERY } from '../src/store/sqlite/sqlite-event-lookups.js';
import { benchEvent } from './verify-store.js';

const TX = Number(process.env.FLUSH_TX ?? 600);
const SIZES = (process.env.FLUSH_SIZES ?? '15').split(',').map(Number);
const ROUNDS = Number(process.env.FLUSH_ROUNDS ?? 2);
const BREAKDOWN = process.env.FLUSH_BREAKDOWN === '1';
/** Indexes dropped before the run (FLUSH_DROP): what each costs a flush. */
const DROP = (process.env.FLUSH_DROP ?? '').split(',').filter(Boolean);
/** A page size other than the store's default (16 KB): what the commit's WAL frames cost. */
const PAGE_SIZE = process.env.FLUSH_PAGE_SIZE ? Number(process.env.FLUSH_PAGE_SIZE) : null;
/** Concurrent sessions the events belong to (FLUSH_SESSIONS; 0: none, the gateway bench's mix). */
const SESSIONS = Number(process.env.FLUSH_SESSIONS ?? 0);
const T0 = Date.now();
type Variant = 'loop' | 'thread';

let next = 0;
function event(): AuditEvent {
  const i = next++;
  const e = benchEvent(i);
  e.timestamp = new Date(T0 + Math.floor(i / 1.5)).toISOString();
  e.user_id = `u${i % 50}`;
  e.session_id = SESSIONS > 0 ? `s${(i * 7919) % SESSIONS}` : null;
  e.chain_id = 'flush-cost';
  e.seq = i + 1;
  e.hash = i.toString(16).padStart(64, '0');
  return e;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** A new store file in a temporary directory, with FLUSH_PAGE_SIZE's page size when given. */
function freshDatabase(prefix: string): { dir: string; file: string; db: SqliteDatabase } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'tollgate.db');
  if (PAGE_SIZE !== null) {
    // A store created with another page size (openSqlite keeps an existing file's).
    const first = new Database(file);
    first.pragma(`page_size = ${PAGE_SIZE}`);
    first.pragma('journal_mode = WAL');
    first.close();
  }
  return { dir, file, db: openSqlite(file) };
}

/** The event store on `db` with the gateway's write hooks, FLUSH_DROP's indexes dropped. */
function storeOn(db: SqliteDatabase): SqliteEventStore {
  const store = new SqliteEventStore(db);
  attachSqliteWriteHooks(store, db);
  for (const index of DROP) {
    if (!/^[a-z_]+$/.test(index)) throw new Error(`FLUSH_DROP: not an index name: ${index}`);
    db.exec(`DROP INDEX ${index}`);
  }
  return store;
}

async function run(size: number, variant: Variant): Promise<void> {
  const { dir, db } = freshDatabase('tollgate-flush-cost-');
  const perStatement = new Map<string, number[]>();
  let acc = new Map<string, number>();
  if (BREAKDOWN) {
    const prepare = db.prepare.bind(db);
    (db as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
      const stmt = prepare(sql);
      const name = sql.replace(/\s+/g, ' ').slice(0, 70);
      const run = stmt.run.bind(stmt);
      (stmt as { run: typeof stmt.run }).run = (...args: unknown[]) => {
        const a = performance.now();
        const r = run(...args);
        acc.set(name, (acc.get(name) ?? 0) + (performance.now() - a) * 1000);
        return r;
      };
      return stmt;
    }) as typeof db.prepare;
  }
  const store = storeOn(db);
  const thread = variant === 'thread' ? new SqliteCheckpointThread(db) : null;
  if (thread) store.onCommitted(() => thread.committed());
  const hooks = (store as unknown as { hooks: ((e: readonly AuditEvent[]) => void)[] }).hooks;
  const insert = (store as unknown as { insert: { run: (...a: unknown[]) => unknown } }).insert;
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  // Warm-up: the first transactions create the tables' first pages, and pass 1,000 WAL frames so
  // the checkpoint worker starts (under tsx, its start costs ~0.3 s of CPU) before the clock.
  for (let k = 0; k < Math.ceil(1500 / size); k++) store.appendSync(Array.from({ length: size }, event));
  await new Promise((r) => setTimeout(r, 1500));
  const total: number[] = [];
  const commitUs: number[] = [];
  const c0 = process.cpuUsage();
  for (let k = 0; k < TX; k++) {
    await new Promise((r) => setTimeout(r, 10));
    const batch = Array.from({ length: size }, event);
    acc = new Map();
    const a = performance.now();
    if (k % 2 === 0) {
      store.appendSync(batch);
      total.push((performance.now() - a) * 1000);
    } else {
      // The same transaction by hand, to time its COMMIT (where a checkpoint on the loop runs).
      begin.run();
      for (const e of batch) insert.run(...toRow(e));
      for (const h of hooks) h(batch);
      const c = performance.now();
      commit.run();
      thread?.committed();
      const d = performance.now();
      total.push((d - a) * 1000);
      commitUs.push((d - c) * 1000);
    }
    for (const [name, us] of acc) perStatement.set(name, [...(perStatement.get(name) ?? []), us]);
  }
  const cpu = process.cpuUsage(c0);
  const wal = statSync(join(dir, 'tollgate.db-wal')).size / 2 ** 20;
  console.log(
    `${variant.padEnd(6)} ${size} events/tx${DROP.length ? ` without ${DROP.join(', ')}` : ''}: in append mean ${(total.reduce((a, b) => a + b, 0) / TX).toFixed(0)} µs, p50 ${pct(total, 50).toFixed(0)}, p99 ${pct(total, 99).toFixed(0)}, ` +
      `max ${Math.max(...total).toFixed(0)}, ${total.filter((t) => t > 2000).length} of ${TX} over 2 ms; COMMIT p50 ` +
      `${pct(commitUs, 50).toFixed(0)} µs; CPU ${((cpu.user + cpu.system) / TX).toFixed(0)} µs/tx (all threads); ` +
      `WAL ${wal.toFixed(1)} MiB at the end; page ${db.pragma('page_size', { simple: true }) as number} B; load ${load()}`,
  );
  for (const [name, us] of [...perStatement].sort((x, y) => pct(y[1], 50) - pct(x[1], 50)))
    console.log(`    ${pct(us, 50).toFixed(1).padStart(7)} µs  (${us.length} tx)  ${name}`);
  await thread?.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Page numbers of the frames in a WAL file (after its 32-byte header, each frame: 24-byte header, then the page). */
function walPages(file: string, pageSize: number): number[] {
  const wal = readFileSync(file);
  const pages: number[] = [];
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) pages.push(wal.readUInt32BE(at));
  return pages;
}

/** Each page's owning table or index, by page number (SQLite's dbstat). */
function pageOwners(db: SqliteDatabase): Map<number, string> {
  const rows = db.prepare('SELECT pageno, name FROM dbstat').all() as Array<{ pageno: number; name: string }>;
  return new Map(rows.map((r) => [r.pageno, r.name]));
}

/** FLUSH_PAGES: the pages one commit of `size` events writes, by owning table or index. */
function pagesPerCommit(size: number): void {
  const depth = Number(process.env.FLUSH_PAGES_DEPTH ?? 50_000);
  const samples = Number(process.env.FLUSH_PAGES_TX ?? 40);
  const { dir, file, db } = freshDatabase('tollgate-flush-pages-');
  const store = storeOn(db);
  for (let k = 0; k < Math.ceil(depth / 500); k++) store.appendSync(Array.from({ length: 500 }, event));
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const frames: number[] = [];
  const distinct: number[] = [];
  const byOwner = new Map<string, number[]>();
  for (let k = 0; k < samples; k++) {
    db.pragma('wal_checkpoint(TRUNCATE)');
    store.appendSync(Array.from({ length: size }, event));
    const pages = walPages(`${file}-wal`, pageSize);
    const owners = pageOwners(db);
    const unique = [...new Set(pages)];
    frames.push(pages.length);
    distinct.push(unique.length);
    const count = new Map<string, number>();
    for (const p of unique) {
      const owner = owners.get(p) ?? (p === 1 ? 'page 1 (header)' : 'free list / other');
      count.set(owner, (count.get(owner) ?? 0) + 1);
    }
    for (const [owner, n] of count) byOwner.set(owner, [...(byOwner.get(owner) ?? []), n]);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / samples;
  console.log(
    `pages per commit of ${size} events on a ${depth.toLocaleString('en-US')}-event store (${samples} commits, page ${pageSize} B): ` +
      `${mean(distinct).toFixed(1)} pages (p50 ${pct(distinct, 50)}, max ${Math.max(...distinct)}), ${mean(frames).toFixed(1)} WAL frames, ` +
      `${((mean(frames) * (pageSize + 24)) / 1024).toFixed(0)} KiB; by table or index (mean pages per commit):`,
  );
  for (const [owner, ns] of [...byOwner].sort((a, b) => mean(b[1]) - mean(a[1])))
    console.log(`    ${mean(ns).toFixed(1).padStart(5)}  ${owner}`);
  // The commit that merges the lookups (every MERGE_EVERY events): its pages and
  // time, and what it adds per event spread over the events it merged.
  const mark = db.prepare('SELECT through_rowid FROM event_lookups_mark').pluck();
  for (let k = 0; k <= MERGE_EVERY / size + 1; k++) {
    const before = mark.get() as number;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const t = performance.now();
    store.appendSync(Array.from({ length: size }, event));
    const ms = performance.now() - t;
    const merged = (mark.get() as number) - before;
    if (merged === 0) continue;
    const pages = [...new Set(walPages(`${file}-wal`, pageSize))];
    const owners = pageOwners(db);
    const lookupPages = pages.filter((p) => /^events_by_/.test(owners.get(p) ?? '')).length;
    console.log(
      `the merging commit (${merged.toLocaleString('en-US')} events into the lookups): ${pages.length} pages, ` +
        `${lookupPages} of them the lookups (${(lookupPages / merged).toFixed(3)} per merged event), ${ms.toFixed(1)} ms in append`,
    );
    break;
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `flush cost: ${TX} transactions per run, one every 10 ms, node ${process.version}, load ${load()}`,
);
for (let r = 0; r < ROUNDS; r++)
  for (const size of SIZES)
    for (const variant of (r % 2 === 0 ? ['loop', 'thread'] : ['thread', 'loop']) as Variant[])
      await run(size, variant);
if (process.env.FLUSH_PAGES === '1') for (const size of SIZES) pagesPerCommit(size);
