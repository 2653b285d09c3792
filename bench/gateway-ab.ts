/**
 * Gateway A/B (issue 22): Tollgate builds or settings side by side with the bare proxy, in rounds
 * that interleave every target in each cell, so a machine whose load drifts (it is shared) moves
 * all of them alike. Prints, per cell, each target's CPU µs per request (its own process) and p99,
 * the median over rounds, and the ratio to the bare proxy of the same round.
 *
 *   npx tsx bench/gateway-ab.ts
 *     AB_BASE=<git ref>      also runs Tollgate built from that commit (`base`), beside this tree (`tollgate`)
 *     AB_VARIANTS='name:K=V,K=V;name2:K=V'  more Tollgate processes of this tree with extra env
 *                            (tollgate-server.ts reads BENCH_FLUSH_MS, BENCH_WRITER_THREAD, …);
 *                            NODE_FLAGS='--flag --other' adds Node flags (e.g. --single-threaded-gc)
 *     AB_ROUNDS=5 AB_REQUESTS=2000 AB_WARMUP=500 AB_CONNS=1,50 AB_MODES=json,chat-stream,…
 *     AB_PIN=1               every server under test on the last CPU, the load generator and the mock
 *                            on the others (taskset): at c=1 the p99 then compares the servers, not
 *                            how the scheduler shares two vCPUs among three busy processes
 *
 * A second table says where each server's event loop went, per request (median of rounds): its
 * garbage-collection pauses (all kinds), and for Tollgate targets the audit writer's steps on the
 * loop (`tollgate_writer_loop_held_seconds`, read from its /metrics: the build of the deferred
 * exchanges, the store append up to its first wait), with the flushes per 1,000 requests.
 *
 * The CPU of a server is `process.cpuUsage()` over the measured requests plus 300 ms after them
 * (the writer's last flush counts), as in gateway.bench.ts. Give `cat /proc/loadavg` with every
 * number: the figures are only comparable within one run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childStats, load, modesFrom, pct, startServer, type Child } from './bench-servers.js';
import { compileForBench } from './compiled.js';

const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const REQUESTS = Number(process.env.AB_REQUESTS ?? 2000);
const WARMUP = Number(process.env.AB_WARMUP ?? 500);
const CONNS = (process.env.AB_CONNS ?? '1,50').split(',').map(Number);
const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = compileForBench();

/** Compiles `ref` (git archive of this repository) to plain JavaScript beside this tree's build. */
function compileRef(ref: string): (file: string) => string {
  // Outside the tree: its sources would otherwise meet this tree's lint, format and test globs.
  const dir = join(tmpdir(), 'tollgate-bench-base');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  execFileSync('sh', ['-c', `git archive ${ref} | tar -x -C ${dir}`], { cwd: root });
  symlinkSync(`${root}node_modules`, `${dir}/node_modules`);
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.bench.json'], { cwd: dir, stdio: 'ignore' });
  } catch {
    // type errors elsewhere still leave the emitted files
  }
  if (!existsSync(`${dir}/.bench-build/prices`)) symlinkSync(`${dir}/prices`, `${dir}/.bench-build/prices`);
  return (file) => `${dir}/.bench-build/bench/${file.replace(/\.ts$/, '.js')}`;
}

const start = startServer;

interface Reading {
  cpuMicros: number;
  gcMs: number;
  /** The writer's loop time so far, ms, by phase, and its flushes (Tollgate targets; zero otherwise). */
  buildMs: number;
  writeMs: number;
  flushes: number;
}

/** The value of one sample (`name` with its labels, as written) in Prometheus text; 0 when absent. */
function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

async function readingOf(name: string, child: Child): Promise<Reading> {
  const { cpuMicros, gcMs: gc } = await childStats(child);
  // A server built from an older commit (AB_BASE) does not count its GC pauses.
  const gcMs = gc ?? 0;
  if (name === 'bare-proxy') return { cpuMicros, gcMs, buildMs: 0, writeMs: 0, flushes: 0 };
  const text = await (await fetch(`http://127.0.0.1:${child.port}/metrics`)).text();
  const held = 'tollgate_writer_loop_held_seconds';
  return {
    cpuMicros,
    gcMs,
    buildMs: series(text, `${held}_sum{phase="build"}`) * 1000,
    writeMs: series(text, `${held}_sum{phase="write"}`) * 1000,
    flushes: series(text, `${held}_count{phase="write"}`),
  };
}

const MODES = modesFrom(process.env.AB_MODES, 'AB_MODES');

const p99 = (xs: number[]): number => pct(xs, 99);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const shebang = readFileSync(new URL('../src/cli/bin.ts', import.meta.url), 'utf8').split('\n')[0] ?? '';
const flags = (/^#!\/usr\/bin\/env -S node (.*)$/.exec(shebang)?.[1] ?? '').split(' ').filter(Boolean);
const mock = await start(compiled('servers/mock-upstream.ts'));
const upstream = `http://127.0.0.1:${mock.port}/v1`;
const targets: Array<[string, Child]> = [
  ['bare-proxy', await start(compiled('servers/bare-proxy.ts'), { BENCH_UPSTREAM: upstream })],
  ['tollgate', await start(compiled('servers/tollgate-server.ts'), { BENCH_UPSTREAM: upstream }, flags)],
];
/** Pins a server under test (AB_PIN); a no-op otherwise. */
let pinned = (_pid: number): void => undefined;
if (process.env.AB_PIN === '1') {
  // Servers under test on the last CPU (all their threads), the rest of the bench on the others.
  const last = availableParallelism() - 1;
  if (last < 1) throw new Error('AB_PIN needs two CPUs');
  const pin = (pid: number, cpus: string): void => {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  };
  pin(process.pid, `0-${last - 1}`);
  pin(mock.proc.pid!, `0-${last - 1}`);
  pinned = (pid) => pin(pid, String(last));
}
if (process.env.AB_BASE) {
  const base = compileRef(process.env.AB_BASE);
  targets.push([
    'base',
    await start(base('servers/tollgate-server.ts'), { BENCH_UPSTREAM: upstream }, flags),
  ]);
}
for (const spec of (process.env.AB_VARIANTS ?? '').split(';').filter(Boolean)) {
  const [name, vars = ''] = spec.split(':');
  const env = Object.fromEntries(
    vars
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]),
  );
  // NODE_FLAGS=… (space-separated): Node flags added to the shipped ones, for flags Node refuses in NODE_OPTIONS.
  const extra = env.NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  delete env.NODE_FLAGS;
  targets.push([
    name!,
    await start(compiled('servers/tollgate-server.ts'), { BENCH_UPSTREAM: upstream, ...env }, [
      ...flags,
      ...extra,
    ]),
  ]);
}

for (const [, child] of targets) pinned(child.proc.pid!);
console.log(
  `gateway A/B: ${ROUNDS} rounds × ${REQUESTS} requests (${WARMUP} warm-up) per target and cell; ` +
    `targets ${targets.map(([n]) => n).join(', ')}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}${process.env.AB_PIN === '1' ? '; servers pinned to the last CPU' : ''}`,
);
interface Cell {
  cpu: number[];
  p99: number[];
  ratio: number[];
  added: number[];
  /** Per request, µs: GC pauses, the writer's build and write on the loop; flushes per 1,000 requests. */
  gc: number[];
  build: number[];
  write: number[];
  flushes: number[];
}
const results = new Map<string, Cell>();
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    for (const c of CONNS) {
      // Rotate the order each round so no target always runs right after another.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      const cpu = new Map<string, number>();
      for (const [name, child] of order) {
        await load(child.port, c, mode, WARMUP);
        await new Promise((r) => setTimeout(r, 300));
        const before = await readingOf(name, child);
        const { lat } = await load(child.port, c, mode, REQUESTS);
        await new Promise((r) => setTimeout(r, 300));
        const after = await readingOf(name, child);
        const perReq = (after.cpuMicros - before.cpuMicros) / REQUESTS;
        cpu.set(name, perReq);
        const key = `${mode.name} c=${c} ${name}`;
        const r = results.get(key) ?? {
          cpu: [],
          p99: [],
          ratio: [],
          added: [],
          gc: [],
          build: [],
          write: [],
          flushes: [],
        };
        r.cpu.push(perReq);
        r.p99.push(p99(lat));
        r.gc.push(((after.gcMs - before.gcMs) * 1000) / REQUESTS);
        r.build.push(((after.buildMs - before.buildMs) * 1000) / REQUESTS);
        r.write.push(((after.writeMs - before.writeMs) * 1000) / REQUESTS);
        r.flushes.push(((after.flushes - before.flushes) * 1000) / REQUESTS);
        results.set(key, r);
      }
      const bare = results.get(`${mode.name} c=${c} bare-proxy`)!;
      for (const [name] of targets) {
        const r = results.get(`${mode.name} c=${c} ${name}`)!;
        r.ratio.push(cpu.get(name)! / cpu.get('bare-proxy')!);
        r.added.push(r.p99.at(-1)! - bare.p99.at(-1)!);
      }
    }
  }
  console.log(
    `round ${round + 1} done, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
console.log(
  '\ncell                         target           CPU µs/req (median; rounds)        ×bare (median)   p99 ms (median)  p99 − bare (median of rounds)',
);
for (const mode of MODES)
  for (const c of CONNS) {
    for (const [name] of targets) {
      const r = results.get(`${mode.name} c=${c} ${name}`)!;
      console.log(
        `${`${mode.name} c=${c}`.padEnd(28)} ${name.padEnd(16)} ${median(r.cpu).toFixed(0).padStart(5)} (${r.cpu.map((v) => v.toFixed(0)).join(' ')})`.padEnd(
          86,
        ) +
          `${median(r.ratio).toFixed(2).padStart(5)}×     ${median(r.p99).toFixed(3).padStart(7)}     ${median(r.added).toFixed(3).padStart(7)}`,
      );
    }
  }
console.log(
  '\nwhere the loop went, µs per request (median of rounds)   GC pauses   writer build   writer write   flushes per 1,000 requests',
);
for (const mode of MODES)
  for (const c of CONNS)
    for (const [name] of targets) {
      const r = results.get(`${mode.name} c=${c} ${name}`)!;
      const tollgate = name !== 'bare-proxy';
      const cell = (xs: number[], width: number): string =>
        (tollgate ? median(xs).toFixed(1) : '-').padStart(width);
      console.log(
        `${`${mode.name} c=${c}`.padEnd(28)} ${name.padEnd(26)} ${median(r.gc).toFixed(1).padStart(9)} ${cell(r.build, 14)} ${cell(r.write, 14)} ${cell(r.flushes, 13)}`,
      );
    }
for (const [, child] of [['mock', mock] as const, ...targets]) child.proc.kill();
