/**
 * CPU per event of the OTLP listener alone (no gateway): N synthetic events through
 * createOtelExport's listener in bursts, spans and metrics exported to a discarding OTLP/HTTP
 * receiver in another process (its CPU is not counted). For profiling the exporter:
 *
 *   npx tsx bench/otel-listener.bench.ts [N] [traces|metrics|both|both-sampled ...]
 *   node --import tsx --cpu-prof bench/otel-listener.bench.ts 40000 both   (a CPU profile of it)
 */
import { spawn } from 'node:child_process';
import { createOtelExport } from '../src/observability/otel.js';
import { benchEvent } from './verify-store.js';

const N = Number(process.argv[2] ?? 20_000);
const modes = process.argv.slice(3).length ? process.argv.slice(3) : ['traces', 'metrics', 'both'];

const receiver = spawn(
  process.execPath,
  [
    '-e',
    `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.writeHead(200,{'content-type':'application/x-protobuf'}).end())}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((resolve) =>
  receiver.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
);

const MODELS = ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'o3'];
const events = Array.from({ length: 2000 }, (_, i) => {
  const e = benchEvent(i);
  e.model_requested = MODELS[i % MODELS.length]!;
  if (i % 50 === 7) {
    e.status = 'SERVER_ERROR';
    e.http_status_code = 500;
  }
  return e;
});

for (const mode of modes) {
  const otel = createOtelExport({
    endpoint: `http://127.0.0.1:${port}`,
    upstreamUrl: 'https://api.openai.com/v1',
    instanceId: 'bench',
    traces: mode !== 'metrics',
    metrics: mode !== 'traces',
    scheduleDelayMs: 500,
    maxQueueSize: 16_384,
    metricIntervalMs: 5_000,
    ...(mode === 'both-sampled' ? { sampling: { ratio: 0.1, parentBased: true } } : {}),
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 500) {
    for (let k = 0; k < 500; k++) otel.listener(events[(i + k) % events.length]!, null);
    await new Promise((r) => setTimeout(r, 60));
  }
  await otel.shutdown();
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  console.log(
    `${mode.padEnd(13)} ${((cpu.user + cpu.system) / N).toFixed(2).padStart(7)} µs CPU per event  (${N} events, ${(wall / 1000).toFixed(1)} s wall)`,
  );
}
receiver.kill();
