/**
 * What the audit writer costs the event loop (issue 22: the SQLite flush off the critical path).
 *
 * Events arrive at a steady gateway-like rate (WRITER_LOOP_RATE per second, default 2,000: a c=1
 * bench run's request rate), the EventWriter groups them for `writer.flush_delay_ms` (10 ms) and
 * appends each batch to a fresh SQLite store with rollups, either on the event loop
 * (`SqliteEventStore`, `writer.thread: false`) or through the append thread
 * (`SqliteAppendThread`, the default). Rounds alternate the two, so load drift hits both alike.
 * For each it prints the time the event loop spent inside `append` per flush (p50/p99/max: the
 * stall a request arriving then waits behind), the event loop delay seen by a 1 ms timer (p99,
 * max), and the CPU per event of the whole process (the worker's thread included).
 *
 *   npx tsx bench/writer-loop.bench.ts   (WRITER_LOOP_EVENTS=20000, WRITER_LOOP_RATE=2000, WRITER_LOOP_ROUNDS=2)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../src/core/clock.js';
import type { AuditEvent } from '../src/core/audit-event.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { SqliteAppendThread } from '../src/store/sqlite/sqlite-append-thread.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { attachSqliteWriteHooks } from '../src/store/sqlite/sqlite-write-hooks.js';
import { EventWriter, type WriterStore } from '../src/writer/event-writer.js';
import { benchEvent } from './verify-store.js';

const N = Number(process.env.WRITER_LOOP_EVENTS ?? 20_000);
const RATE = Number(process.env.WRITER_LOOP_RATE ?? 2_000);
const ROUNDS = Number(process.env.WRITER_LOOP_ROUNDS ?? 2);
type Variant = 'loop' | 'thread';

const events: AuditEvent[] = Array.from({ length: N }, (_, i) => ({
  ...benchEvent(i),
  chain_id: 'writer-loop',
  seq: i + 1,
  hash: i.toString(16).padStart(64, '0'),
}));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

interface Result {
  stallP50: number;
  stallP99: number;
  stallMax: number;
  flushes: number;
  lagP99: number;
  lagMax: number;
  cpuPerEvent: number;
}

async function run(variant: Variant): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-writer-loop-'));
  const file = join(dir, 'tollgate.db');
  const db = openSqlite(file);
  const store = new SqliteEventStore(db);
  attachSqliteWriteHooks(store, db);
  const thread = variant === 'thread' ? new SqliteAppendThread(file, () => store.probeWrite()) : null;
  await thread?.append([]); // the worker is started before the clock
  const inner: WriterStore = thread ?? store;
  const stalls: number[] = [];
  const timed: WriterStore = {
    append(batch) {
      const t = performance.now();
      const done = inner.append(batch);
      stalls.push(performance.now() - t);
      return done;
    },
  };
  const writer = new EventWriter({
    store: timed,
    clock: systemClock,
    policy: 'fail-open',
    maxQueue: 50_000,
    batchSize: 512,
    flushDelayMs: 10,
  });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  // Paced arrivals: every millisecond, the events due by then.
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(N, Math.floor(((performance.now() - t0) * RATE) / 1000));
      while (sent < due) writer.enqueue(events[sent++]!);
      if (sent < N) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await writer.drain();
  const cpu = process.cpuUsage(c0);
  lag.disable();
  await thread?.close();
  if (writer.stats().written !== N) throw new Error(`written ${writer.stats().written} of ${N}`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    stallP50: pct(stalls, 50),
    stallP99: pct(stalls, 99),
    stallMax: Math.max(...stalls),
    flushes: stalls.length,
    lagP99: lag.percentile(99) / 1e6,
    lagMax: lag.max / 1e6,
    cpuPerEvent: (cpu.user + cpu.system) / N,
  };
}

console.log(
  `writer loop bench: ${N} events at ${RATE}/s per run, flush delay 10 ms, ${ROUNDS} rounds of loop/thread, node ${process.version}`,
);
const results: Record<Variant, Result[]> = { loop: [], thread: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const variant of (r % 2 === 0 ? ['loop', 'thread'] : ['thread', 'loop']) as Variant[]) {
    const x = await run(variant);
    results[variant].push(x);
    console.log(
      `${variant.padEnd(6)} round ${r + 1}: event loop in append per flush p50 ${x.stallP50.toFixed(3)} ms, p99 ${x.stallP99.toFixed(3)} ms, max ${x.stallMax.toFixed(3)} ms (${x.flushes} flushes); ` +
        `loop delay p99 ${x.lagP99.toFixed(2)} ms, max ${x.lagMax.toFixed(2)} ms; CPU ${x.cpuPerEvent.toFixed(1)} µs/event (all threads)`,
    );
  }
}
const med = (v: Variant, k: keyof Result): number =>
  pct(
    results[v].map((x) => x[k]),
    50,
  );
console.log(
  `median: stall p99 ${med('thread', 'stallP99').toFixed(3)} ms (thread) vs ${med('loop', 'stallP99').toFixed(3)} ms (loop); ` +
    `CPU ${med('thread', 'cpuPerEvent').toFixed(1)} vs ${med('loop', 'cpuPerEvent').toFixed(1)} µs/event (${((med('thread', 'cpuPerEvent') / med('loop', 'cpuPerEvent')) * 100 - 100).toFixed(0)} %)`,
);
