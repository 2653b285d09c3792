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
 *
 * The CPU of a server is `process.cpuUsage()` over the measured requests plus 300 ms after them
 * (the writer's last flush counts), as in gateway.bench.ts. Give `cat /proc/loadavg` with every
 * number: the figures are only comparable within one run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, modesFrom, pct, startServer, type Child } from './bench-servers.js';
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

function cpuOf(child: Child): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (m && typeof m === 'object' && 'cpuMicros' in m) {
        child.proc.off('message', on);
        resolve((m as { cpuMicros: number }).cpuMicros);
      }
    };
    child.proc.on('message', on);
    child.proc.send('stats');
  });
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

console.log(
  `gateway A/B: ${ROUNDS} rounds × ${REQUESTS} requests (${WARMUP} warm-up) per target and cell; ` +
    `targets ${targets.map(([n]) => n).join(', ')}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
const results = new Map<string, { cpu: number[]; p99: number[]; ratio: number[]; added: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    for (const c of CONNS) {
      // Rotate the order each round so no target always runs right after another.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      const cpu = new Map<string, number>();
      for (const [name, child] of order) {
        await load(child.port, c, mode, WARMUP);
        await new Promise((r) => setTimeout(r, 300));
        const before = await cpuOf(child);
        const { lat } = await load(child.port, c, mode, REQUESTS);
        await new Promise((r) => setTimeout(r, 300));
        const perReq = ((await cpuOf(child)) - before) / REQUESTS;
        cpu.set(name, perReq);
        const key = `${mode.name} c=${c} ${name}`;
        const r = results.get(key) ?? { cpu: [], p99: [], ratio: [], added: [] };
        r.cpu.push(perReq);
        r.p99.push(p99(lat));
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
for (const [, child] of [['mock', mock] as const, ...targets]) child.proc.kill();
