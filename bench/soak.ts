/**
 * Soak (issue 12): a steady load on loopback for N minutes through a Tollgate with the whole
 * pipeline on (redaction, detection, pricing, chain, SQLite writer), started by `startTollgate` in
 * its own process (bench/servers/tollgate-server.ts) so its memory is its own. Prints throughput,
 * p50/p99 latency, the server's RSS after warm-up and at the end, and events written against
 * requests served.
 *
 *   npx tsx bench/soak.ts                          (10 minutes at 200 req/s)
 *   SOAK_MINUTES=1 SOAK_RPS=300 npx tsx bench/soak.ts
 *
 * Every loop is bounded: the run stops at its deadline, and at most SOAK_MAX_INFLIGHT requests wait.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { MockProvider } from '../src/mock-provider/mock-provider.js';

export interface SoakOptions {
  durationMs: number;
  /** Requests started per second (open loop, so latency is not hidden by back-pressure). */
  rps: number;
  /** Memory is compared from the end of the warm-up, ms. */
  warmupMs: number;
  maxInflight?: number;
  /** Progress lines (one a minute); silent when absent. */
  progress?: (line: string) => void;
}

export interface SoakResult {
  durationS: number;
  sent: number;
  completed: number;
  ok2xx: number;
  failed: number;
  /** Requests not started because SOAK_MAX_INFLIGHT were waiting (the server fell behind). */
  skipped: number;
  /** The same, after the warm-up only. */
  skippedAfterWarmup: number;
  throughputRps: number;
  /** Latency percentiles after the warm-up. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Median of the first three RSS samples after the warm-up, MB. */
  rssStartMb: number;
  /** Median of the last three RSS samples, MB. */
  rssEndMb: number;
  rssGrowthPct: number;
  rssSamplesMb: number[];
  eventsWritten: number;
  eventsDropped: number;
  eventsSpooled: number;
}

interface ChildStats {
  rss: number;
}
interface ChildEvents {
  events: number;
  writer: { written: number; dropped: number; spooled: number };
}

/** Latency histogram with 0.1 ms buckets up to 60 s: bounded memory however long the run. */
class Histogram {
  private readonly buckets = new Uint32Array(600_001);
  count = 0;
  max = 0;
  add(ms: number): void {
    this.buckets[Math.min(600_000, Math.round(ms * 10))]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  quantile(q: number): number {
    const target = Math.ceil(this.count * q);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= target) return i / 10;
    }
    return this.max;
  }
}

function ask<T>(child: ChildProcess, msg: string, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${key} answer from the server`)), 60_000);
    const on = (m: unknown): void => {
      if (m && typeof m === 'object' && key in m) {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

function startServer(upstream: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./servers/tollgate-server.ts', import.meta.url));
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_UPSTREAM: upstream },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the soak server did not start')), 60_000);
    child.once('exit', (code) => reject(new Error(`the soak server exited with ${code}`)));
    child.on('message', (m: { port?: number }) => {
      if (m.port) {
        clearTimeout(timer);
        resolve({ child, port: m.port });
      }
    });
  });
}

const PROMPTS = [
  'Summarise the meeting notes for the Q3 planning session.',
  'My email is jane.doe@example.com and my phone is +1 415 555 0100, please update my profile.',
  'Translate "good morning" into French, Spanish and German.',
  'Here is the config: api_key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd" — why does it fail?',
  'Write a haiku about audit logs.',
];

/** Runs the soak and returns its numbers (the server and the mock are stopped before it resolves). */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const mock = new MockProvider({ record: false });
  const upstream = await mock.listen();
  const { child, port } = await startServer(upstream);
  const origin = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
  const maxInflight = o.maxInflight ?? 256;
  // Latency after the warm-up only (the first requests load the tokenizer and warm the JIT).
  const hist = new Histogram();
  // The same, reset at every progress line: shows whether slow requests cluster in time.
  let window = new Histogram();
  let warm = false;
  let sent = 0;
  let completed = 0;
  let ok2xx = 0;
  let failed = 0;
  let skipped = 0;
  let skippedAfterWarmup = 0;
  let inflight = 0;
  const samples: number[] = [];
  const sampleRss = async (): Promise<number> => (await ask<ChildStats>(child, 'stats', 'rss')).rss / 1e6;

  const one = async (i: number): Promise<void> => {
    inflight++;
    const t0 = performance.now();
    try {
      const stream = i % 4 === 0;
      const res = await request(`${origin}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer sk-soak-${(i % 7).toString().repeat(4)}0123456789abcdefghijklmnop`,
          'x-tollgate-user': `user-${i % 50}`,
          'x-tollgate-session': `session-${i % 200}`,
          'x-tollgate-feature': ['chat', 'search', 'summary'][i % 3]!,
        },
        body: JSON.stringify({
          model: i % 5 === 0 ? 'gpt-4.1' : 'gpt-4.1-mini',
          stream,
          messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length] }],
        }),
      });
      await res.body.text();
      completed++;
      if (res.statusCode < 300) ok2xx++;
      const ms = performance.now() - t0;
      if (warm) hist.add(ms);
      window.add(ms);
    } catch {
      failed++;
    } finally {
      inflight--;
    }
  };

  const started = performance.now();
  const warmupEnd = started + o.warmupMs;
  const end = started + o.durationMs;
  let rssStart = 0;
  let nextSample = warmupEnd;
  const pending = new Set<Promise<void>>();
  // Open loop: start the requests that are due, every 5 ms.
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1000) * o.rps);
    while (sent < due) {
      if (inflight >= maxInflight) {
        skipped += due - sent;
        if (warm) skippedAfterWarmup += due - sent;
        sent = due;
        break;
      }
      const p = one(sent++);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    if (performance.now() >= nextSample) {
      warm = true;
      const rss = await sampleRss();
      samples.push(Math.round(rss * 10) / 10);
      if (rssStart === 0) rssStart = rss;
      nextSample += Math.min(60_000, Math.max(5_000, o.durationMs / 20));
      o.progress?.(
        `  t=${Math.round((performance.now() - started) / 1000)}s completed=${completed} failed=${failed} p99(window)=${window.quantile(0.99).toFixed(1)}ms max(window)=${window.max.toFixed(0)}ms rss=${rss.toFixed(1)}MB`,
      );
      window = new Histogram();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.allSettled([...pending]);
  const elapsedS = (performance.now() - started) / 1000;
  const rssEnd = await sampleRss();
  samples.push(Math.round(rssEnd * 10) / 10);
  const ev = await ask<ChildEvents>(child, 'events', 'events');
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  await agent.close();
  await mock.close();
  // One RSS sample moves by ±10% with GC timing; compare the median of the first three samples
  // after warm-up with the median of the last three.
  const median3 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const base = median3(samples.slice(0, 3)) || rssStart || rssEnd;
  const endRss = median3(samples.slice(-3)) || rssEnd;
  return {
    durationS: Math.round(elapsedS),
    sent: sent - skipped,
    completed,
    ok2xx,
    failed,
    skipped,
    skippedAfterWarmup,
    throughputRps: Math.round(completed / elapsedS),
    p50Ms: hist.quantile(0.5),
    p99Ms: hist.quantile(0.99),
    maxMs: Math.round(hist.max * 10) / 10,
    rssStartMb: Math.round(base * 10) / 10,
    rssEndMb: Math.round(endRss * 10) / 10,
    rssGrowthPct: Math.round(((endRss - base) / base) * 1000) / 10,
    rssSamplesMb: samples,
    eventsWritten: ev.events,
    eventsDropped: ev.writer.dropped,
    eventsSpooled: ev.writer.spooled,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const minutes = Number(process.env.SOAK_MINUTES ?? 10);
  const rps = Number(process.env.SOAK_RPS ?? 200);
  const durationMs = Math.round(minutes * 60_000);
  console.log(`soak: ${minutes} min at ${rps} req/s, whole pipeline on, loopback`);
  const r = await runSoak({
    durationMs,
    rps,
    warmupMs: Math.min(60_000, durationMs / 5),
    progress: (l) => console.log(l),
  });
  console.log(JSON.stringify(r, null, 2));
  const okRss = r.rssGrowthPct <= 10;
  const okEvents = r.eventsWritten === r.completed && r.eventsDropped === 0;
  console.log(
    `throughput ${r.throughputRps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, RSS ${r.rssStartMb} → ${r.rssEndMb} MB (${r.rssGrowthPct}%), ` +
      `events ${r.eventsWritten} / requests served ${r.completed}: ${okRss && okEvents ? 'OK' : 'NOT OK'}`,
  );
  process.exitCode = okRss && okEvents ? 0 : 1;
}
