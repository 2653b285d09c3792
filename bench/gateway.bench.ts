/**
 * Gateway benchmark (issues 2 and 18): the mock upstream directly, a bare undici pass-through
 * proxy, and Tollgate with the whole audit pipeline on — at 1 and 50 connections, for OpenAI chat
 * completions (JSON and streamed), a streamed OpenAI Responses answer and a streamed Anthropic
 * Messages answer, in one run on loopback. Each server runs in its own process so its CPU time is
 * its own. Prints req/s, p50/p99 latency, time to first chunk, CPU µs per request and peak RSS.
 *
 *   npx tsx bench/gateway.bench.ts
 *     BENCH_REQUESTS=N  measured requests per cell (default 4000; a quarter of it, at most 1000, warms up)
 *     BENCH_MODES=json,chat-stream,responses-stream,anthropic-stream  the modes to run (default all)
 *     BENCH_WRITER_AB=1  also runs `tollgate-thread`: Tollgate with `writer.thread: true` (SQLite commits
 *                        from a worker thread), interleaved with the others, for the issue 22 A/B
 */
import { readFileSync } from 'node:fs';
import { childStats, load, modesFrom, pct, startServer, type Child, type Mode } from './bench-servers.js';
import { compileForBench } from './compiled.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const WARMUP = Math.min(1000, Math.floor(REQUESTS / 4));
const compiled = compileForBench();

function start(script: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<Child> {
  return startServer(compiled(`servers/${script}`), env, execArgv);
}

function ask<T>(child: Child, msg: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (m && typeof m === 'object' && !('port' in m)) {
        child.proc.off('message', on);
        resolve(m as T);
      }
    };
    child.proc.on('message', on);
    child.proc.send(msg);
  });
}

const MODES = modesFrom(process.env.BENCH_MODES, 'BENCH_MODES');

interface RunResult {
  rps: number;
  p50: number;
  p99: number;
  ttft50: number | null;
  cpuPerReq: number;
  rssMb: number;
}

async function measure(target: Child, connections: number, mode: Mode): Promise<RunResult> {
  await load(target.port, connections, mode, WARMUP);
  await new Promise((r) => setTimeout(r, 300));
  const before = await childStats(target);
  const { lat, ttft, ms } = await load(target.port, connections, mode, REQUESTS);
  await new Promise((r) => setTimeout(r, 300)); // let the audit writer flush: its CPU counts too
  const after = await childStats(target);
  return {
    rps: (REQUESTS / ms) * 1000,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    ttft50: ttft.length ? pct(ttft, 50) : null,
    cpuPerReq: (after.cpuMicros - before.cpuMicros) / REQUESTS,
    rssMb: after.maxRssKb / 1024,
  };
}

const mock = await start('mock-upstream.ts');
const upstream = `http://127.0.0.1:${mock.port}/v1`;
const bare = await start('bare-proxy.ts', { BENCH_UPSTREAM: upstream });
// Tollgate runs with the Node flags the `tollgate` executable sets on its shebang line
// (src/cli/bin.ts), so the bench measures what ships; BENCH_TOLLGATE_NODE_FLAGS overrides them.
const shebang = readFileSync(new URL('../src/cli/bin.ts', import.meta.url), 'utf8').split('\n')[0] ?? '';
const shippedFlags = (/^#!\/usr\/bin\/env -S node (.*)$/.exec(shebang)?.[1] ?? '').trim();
const tollgateFlags = (process.env.BENCH_TOLLGATE_NODE_FLAGS ?? shippedFlags).split(' ').filter(Boolean);
console.log(`Tollgate node flags: ${tollgateFlags.join(' ') || '(none)'}`);
// Tollgate routes gpt-* to the mock's OpenAI API and claude-* to its Anthropic API (providers: list).
const tollgate = await start('tollgate-server.ts', { BENCH_UPSTREAM: upstream }, tollgateFlags);
const targets: Array<[string, Child]> = [
  ['direct', mock],
  ['bare-proxy', bare],
  ['tollgate', tollgate],
];
if (process.env.BENCH_WRITER_AB === '1')
  targets.push([
    'tollgate-thread',
    await start('tollgate-server.ts', { BENCH_UPSTREAM: upstream, BENCH_WRITER_THREAD: '1' }, tollgateFlags),
  ]);

const rows: Array<{ target: string; c: number; mode: string } & RunResult> = [];
console.log(
  `gateway benchmark: ${REQUESTS} requests per cell after ${WARMUP} warm-up, node ${process.version}, loopback, modes ${MODES.map((m) => m.name).join(', ')}`,
);
for (const mode of MODES) {
  for (const c of [1, 50]) {
    for (const [name, child] of targets) {
      const r = await measure(child, c, mode);
      rows.push({ target: name, c, mode: mode.name, ...r });
      console.log(
        `${name.padEnd(10)} c=${String(c).padEnd(2)} ${mode.name.padEnd(16)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ttft50 ${r.ttft50 === null ? '   -  ' : r.ttft50.toFixed(3)} ms  cpu ${r.cpuPerReq.toFixed(1).padStart(6)} µs/req  rss ${r.rssMb.toFixed(0)} MB`,
      );
    }
  }
}
const audit = await ask<{ events: number; writer: { dropped: number } }>(tollgate, 'events');

const get = (t: string, c: number, m: string) =>
  rows.find((r) => r.target === t && r.c === c && r.mode === m);
console.log('\nTargets (issues 2 and 18):');
const check = (label: string, value: number, limit: number, unit: string): void =>
  console.log(
    `  ${value <= limit ? 'PASS' : 'FAIL'}  ${label}: ${value.toFixed(3)} ${unit} (target ≤ ${limit})`,
  );
for (const mode of MODES) {
  for (const c of [1, 50])
    check(
      `CPU per request vs bare proxy, c=${c} ${mode.name}`,
      get('tollgate', c, mode.name)!.cpuPerReq / get('bare-proxy', c, mode.name)!.cpuPerReq,
      2,
      '×',
    );
}
console.log('Targets (issue 22):');
for (const mode of MODES) {
  for (const c of [1, 50])
    check(
      `CPU per request vs bare proxy, c=${c} ${mode.name}`,
      get('tollgate', c, mode.name)!.cpuPerReq / get('bare-proxy', c, mode.name)!.cpuPerReq,
      1.5,
      '×',
    );
  check(
    `added p99 at c=1 (${mode.name}) over the bare proxy`,
    get('tollgate', 1, mode.name)!.p99 - get('bare-proxy', 1, mode.name)!.p99,
    0.5,
    'ms',
  );
  const thread = get('tollgate-thread', 1, mode.name);
  if (thread)
    console.log(
      `        A/B c=1 ${mode.name}: p99 ${thread.p99.toFixed(3)} ms (append thread) vs ${get('tollgate', 1, mode.name)!.p99.toFixed(3)} ms (on the loop); ` +
        `CPU ${thread.cpuPerReq.toFixed(1)} vs ${get('tollgate', 1, mode.name)!.cpuPerReq.toFixed(1)} µs/req; ` +
        `c=50 CPU ${get('tollgate-thread', 50, mode.name)!.cpuPerReq.toFixed(1)} vs ${get('tollgate', 50, mode.name)!.cpuPerReq.toFixed(1)} µs/req`,
    );
}
const json1 = get('tollgate', 1, 'json');
if (json1) {
  check('added latency p50 at c=1 (json) over direct', json1.p50 - get('direct', 1, 'json')!.p50, 0.3, 'ms');
  check('added latency p99 at c=1 (json) over direct', json1.p99 - get('direct', 1, 'json')!.p99, 2, 'ms');
}
const stream1 = get('tollgate', 1, 'chat-stream');
if (stream1)
  check(
    'added time-to-first-token p50 at c=1 (chat-stream) over direct',
    stream1.ttft50! - get('direct', 1, 'chat-stream')!.ttft50!,
    1,
    'ms',
  );
check(
  'peak RSS at 50 connections',
  Math.max(...rows.filter((r) => r.target === 'tollgate' && r.c === 50).map((r) => r.rssMb)),
  150,
  'MB',
);
const served = MODES.length * 2 * (REQUESTS + WARMUP);
console.log(
  `  ${audit.events === served ? 'PASS' : 'FAIL'}  events stored = requests served through Tollgate: ${audit.events} / ${served} (dropped ${audit.writer.dropped})`,
);

for (const [, child] of targets) child.proc.kill();
