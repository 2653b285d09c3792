/**
 * What the gateway benches share: starting a server in its own process (it reports its port over
 * IPC, so its CPU time is its own), and the requests they send — the same prompt in each provider
 * API's shape (OpenAI chat JSON and streamed, a streamed Responses answer, a streamed Anthropic
 * Messages answer).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Pool } from 'undici';

export interface Child {
  proc: ChildProcess;
  port: number;
}

/** Forks the compiled server at `path` and resolves once it listens. */
export function startServer(
  path: string,
  env: Record<string, string> = {},
  execArgv: string[] = [],
): Promise<Child> {
  const proc = fork(path, [], {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.on('message', (m: { port?: number }) => {
      if (m.port) resolve({ proc, port: m.port });
    });
  });
}

/** What a bench server answers to `stats` (servers/child-stats.ts). */
export interface ChildStats {
  /** Its CPU time so far, all threads, µs. */
  cpuMicros: number;
  maxRssKb: number;
  rss: number;
  /** Garbage-collection pauses so far (absent from a server built from an older commit). */
  gcPauses?: number;
  gcMs?: number;
}

/** Asks a server started by startServer for its stats. */
export function childStats(child: Child): Promise<ChildStats> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (m && typeof m === 'object' && 'cpuMicros' in m) {
        child.proc.off('message', on);
        resolve(m as ChildStats);
      }
    };
    child.proc.on('message', on);
    child.proc.send('stats');
  });
}

const PROMPT = 'You are a helpful assistant for an online shop. '.repeat(6);
const QUESTION = 'Where is my order #48213? It was due on Monday and the tracking page shows nothing.';
const BEARER = { authorization: 'Bearer sk-bench-0123456789abcdefghijklmnopqrstuv' };

/** One kind of request the benches send. */
export interface Mode {
  name: string;
  path: string;
  stream: boolean;
  headers: Record<string, string>;
  body: string;
}

const chat = (stream: boolean): string =>
  JSON.stringify({
    model: 'gpt-4.1-mini',
    messages: [
      { role: 'system', content: PROMPT },
      { role: 'user', content: QUESTION },
    ],
    stream,
  });

export const GATEWAY_MODES: readonly Mode[] = [
  { name: 'json', path: '/v1/chat/completions', stream: false, headers: BEARER, body: chat(false) },
  { name: 'chat-stream', path: '/v1/chat/completions', stream: true, headers: BEARER, body: chat(true) },
  {
    name: 'responses-stream',
    path: '/v1/responses',
    stream: true,
    headers: BEARER,
    body: JSON.stringify({ model: 'gpt-4.1-mini', instructions: PROMPT, input: QUESTION, stream: true }),
  },
  {
    name: 'anthropic-stream',
    path: '/v1/messages',
    stream: true,
    headers: {
      'x-api-key': 'sk-ant-bench-0123456789abcdefghijklmnopqrstuv',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: PROMPT,
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
    }),
  },
];

/** The modes named in `list` (comma-separated; all when unset); throws when none is known. */
export function modesFrom(list: string | undefined, variable: string): Mode[] {
  const wanted = (list ?? GATEWAY_MODES.map((m) => m.name).join(',')).split(',');
  const modes = GATEWAY_MODES.filter((m) => wanted.includes(m.name));
  if (modes.length === 0)
    throw new Error(`${variable}: none of ${GATEWAY_MODES.map((m) => m.name).join(', ')}`);
  return modes;
}

/**
 * Sends `n` requests of `mode` to the server on `port` over `connections` connections (one request
 * in flight on each), reading every answer to its end; each latency, each stream's time to its
 * first chunk, and the wall time of the whole run, in ms.
 */
export async function load(
  port: number,
  connections: number,
  mode: Mode,
  n: number,
): Promise<{ lat: number[]; ttft: number[]; ms: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const stream = mode.stream;
  const lat: number[] = [];
  const ttft: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const s = performance.now();
      const res = await pool.request({
        path: mode.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...mode.headers, 'x-tollgate-user': `u${next % 50}` },
        body: mode.body,
      });
      let first = true;
      for await (const _chunk of res.body) {
        if (first && stream) {
          ttft.push(performance.now() - s);
          first = false;
        }
      }
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const ms = performance.now() - t0;
  await pool.close();
  return { lat, ttft, ms };
}

/** The p-th percentile of `xs` (nearest rank, clamped). */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
