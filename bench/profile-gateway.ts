/**
 * Where Tollgate's CPU goes: runs the Tollgate bench server under --cpu-prof, drives a fixed
 * load, and prints the top self-time functions.
 * `npx tsx bench/profile-gateway.ts [json|stream|responses|anthropic]` (default json; `stream` is a
 * chat stream, `responses` a streamed OpenAI Responses answer, `anthropic` a streamed Anthropic
 * Messages answer, routed as in bench/gateway.bench.ts). PROFILE_CONNECTIONS (default 4).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { compileForBench } from './compiled.js';

const modeName = process.argv[2] ?? 'json';
const prompt = 'Where is my order? '.repeat(20);
const bearer = { authorization: 'Bearer sk-x' };
const MODES: Record<string, { path: string; headers: Record<string, string>; body: unknown }> = {
  json: {
    path: '/v1/chat/completions',
    headers: bearer,
    body: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: prompt }] },
  },
  stream: {
    path: '/v1/chat/completions',
    headers: bearer,
    body: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: prompt }], stream: true },
  },
  responses: {
    path: '/v1/responses',
    headers: bearer,
    body: { model: 'gpt-4.1-mini', input: prompt, stream: true },
  },
  anthropic: {
    path: '/v1/messages',
    headers: { 'x-api-key': 'sk-ant-x', 'anthropic-version': '2023-06-01' },
    body: {
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: prompt }],
      stream: true,
    },
  },
};
const mode = MODES[modeName];
if (!mode) throw new Error(`mode: one of ${Object.keys(MODES).join(', ')}`);
const compiled = compileForBench();
const profDir = mkdtempSync(join(tmpdir(), 'tollgate-prof-'));
function start(file: string, env: Record<string, string>, execArgv: string[] = []) {
  const proc = fork(compiled(file), [], {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<{ proc: typeof proc; port: number }>((resolve) =>
    proc.on('message', (m: { port?: number }) => m.port && resolve({ proc, port: m.port })),
  );
}
const mock = await start('servers/mock-upstream.ts', {});
const tg = await start('servers/tollgate-server.ts', { BENCH_UPSTREAM: `http://127.0.0.1:${mock.port}/v1` }, [
  '--cpu-prof',
  `--cpu-prof-dir=${profDir}`,
]);
const conns = Number(process.env.PROFILE_CONNECTIONS ?? 4);
const pool = new Pool(`http://127.0.0.1:${tg.port}`, { connections: conns });
const body = JSON.stringify(mode.body);
const requests = Number(process.env.PROFILE_REQUESTS ?? 8000);
let next = 0;
await Promise.all(
  Array.from({ length: conns }, async () => {
    while (next++ < requests) {
      const r = await pool.request({
        path: mode.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...mode.headers },
        body,
      });
      await r.body.dump();
    }
  }),
);
await pool.close();
await new Promise((r) => setTimeout(r, 300));
tg.proc.send('exit');
await new Promise((r) => tg.proc.once('exit', r));
mock.proc.kill();
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  startTime: number;
  endTime: number;
};
// µs of CPU per request a share of samples stands for (the profile spans the whole run, idle included).
const usPerShare = (prof.endTime - prof.startTime) / requests;
const self = new Map<number, number>();
for (const s of prof.samples) self.set(s, (self.get(s) ?? 0) + 1);
const byFn = new Map<string, number>();
for (const n of prof.nodes) {
  const c = self.get(n.id) ?? 0;
  if (!c) continue;
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*\/(node_modules|src|\.bench-build)\//, '$1/')}:${n.callFrame.lineNumber}`;
  byFn.set(key, (byFn.get(key) ?? 0) + c);
}
const total = prof.samples.length;
console.log(`${total} samples; top self time (${modeName}):`);
for (const [k, v] of [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40))
  console.log(
    `${((v / total) * 100).toFixed(1).padStart(5)}% ${((v / total) * usPerShare).toFixed(1).padStart(6)} µs/req  ${k}`,
  );

// Inclusive time of the parts of a request (a function's samples plus its callees'), so the cost
// of a whole stage shows even when it is spread over many small functions.
const children = new Map<number, number[]>();
for (const n of prof.nodes as Array<{ id: number; children?: number[] }>)
  children.set(n.id, n.children ?? []);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const inclusive = new Map<string, number>();
const walk = (id: number, open: Set<string>): number => {
  const n = byId.get(id)!;
  let t = self.get(id) ?? 0;
  const name = n.callFrame.functionName;
  const counted = name && !open.has(name);
  if (counted) open.add(name);
  for (const c of children.get(id) ?? []) t += walk(c, open);
  if (counted) {
    open.delete(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + t);
  }
  return t;
};
walk(prof.nodes[0]!.id, new Set());
const parts = (
  process.env.PROFILE_PARTS ??
  'proxy,readBody,parseJsonBody,admit,requestStreamUsage,send,relayStreamChunk,finish,end,buildDeferred,record,build,captureEvent,apply,price,observe,link,enqueue,notify,flushLoop,append,written,onWritten,writev,parserOnHeadersComplete,parserOnIncoming'
).split(',');
console.log('\ninclusive time of request parts:');
for (const p of parts)
  console.log(
    `${(((inclusive.get(p) ?? 0) / total) * 100).toFixed(1).padStart(5)}% ${(((inclusive.get(p) ?? 0) / total) * usPerShare).toFixed(1).padStart(6)} µs/req  ${p}`,
  );
