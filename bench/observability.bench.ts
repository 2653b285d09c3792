/**
 * CPU per request of the gateway with observability off vs on (issue 22: OTLP traces + metrics
 * ≤ 10 % more than the same gateway with OTLP off, measured in the same run).
 * The gateway runs the real audit pipeline (redaction, pricing, detection, chain, SQLite writer)
 * in its own process, so process.cpuUsage() there counts only the gateway; the mock provider is
 * another process, and the OTLP receiver (which accepts and discards) and the load generator live
 * in this one. Variants: nothing; Prometheus metrics (scraped every second); OTLP traces + metrics;
 * both; both with 10 % of traces sampled (metrics still count every event); and a second 'off'
 * process as the noise floor. The variants take turns in small batches (a shared, noisy machine slows all alike), and
 * each process's CPU is taken over the whole run, so exporter work between turns counts too.
 *
 *   npx tsx bench/observability.bench.ts      (BENCH_CYCLES=C BENCH_BATCH=B to change;
 *     BENCH_VARIANTS=off,otel,both,off-again to pick; BENCH_MODES=json or stream for one half)
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { childStats, startServer, type Child } from './bench-servers.js';

const ROLE = process.env.OBS_BENCH_ROLE;

if (ROLE === 'server') await runServer();
else await runBench();

/** The gateway process: the full pipeline, observability per OBS_BENCH_VARIANT. */
async function runServer(): Promise<void> {
  const { createGateway } = await import('../src/app/create-gateway.js');
  const { systemClock } = await import('../src/core/clock.js');
  const { createRedactor } = await import('../src/redaction/redactor.js');
  const { createPricer } = await import('../src/pricing/pricer.js');
  const { loadPriceCatalog } = await import('../src/pricing/catalog.js');
  const { estimateUsage } = await import('../src/pricing/token-estimate.js');
  const { createDetectionEngine } = await import('../src/detection/detection-engine.js');
  const { createDetectors } = await import('../src/detection/default-detectors.js');
  const { PassthroughPolicy } = await import('../src/proxy/passthrough-policy.js');
  const { openSqlite } = await import('../src/store/sqlite/open-sqlite.js');
  const { SqliteEventStore } = await import('../src/store/sqlite/sqlite-event-store.js');
  const { upstreamPolicy } = await import('../src/upstream/upstream-policy.js');
  const { createPrometheusMetrics } = await import('../src/observability/prometheus.js');
  const { createOtelExport } = await import('../src/observability/otel.js');
  const { announce, serveStats } = await import('./servers/child-stats.js');

  const variant = process.env.OBS_BENCH_VARIANT ?? 'off';
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-obs-bench-'));
  const store = new SqliteEventStore(openSqlite(join(dir, 'tollgate.db')));
  const listeners: Array<(e: Parameters<ReturnType<typeof createPrometheusMetrics>['listener']>[0]) => void> =
    [];
  const routes = [];
  let metricsWriter: (() => import('../src/writer/event-writer.js').WriterStats) | null = null;
  if (variant === 'metrics' || variant === 'both' || variant === 'both-sampled') {
    const m = createPrometheusMetrics({ writerStats: () => metricsWriter!() });
    listeners.push(m.listener);
    routes.push(m.route);
  }
  const otel =
    variant === 'otel' || variant === 'both' || variant === 'both-sampled'
      ? createOtelExport({
          endpoint: process.env.OBS_BENCH_OTLP!,
          upstreamUrl: process.env.BENCH_UPSTREAM!,
          instanceId: 'bench',
          scheduleDelayMs: Number(process.env.BENCH_BSP_DELAY_MS ?? 500),
          maxQueueSize: 16_384,
          metricIntervalMs: 5_000,
          // OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1 (metrics count every event).
          ...(variant === 'both-sampled' ? { sampling: { ratio: 0.1, parentBased: true } } : {}),
        })
      : null;
  if (otel) listeners.push(otel.listener);
  const detection = createDetectionEngine({
    detectors: createDetectors({}),
    clock: systemClock,
    onAlert: () => undefined,
  });
  const tg = await createGateway({
    config: {
      instanceId: 'bench',
      provider: 'openai',
      bodyLimitBytes: 16 * 1024 * 1024,
      responseCaptureLimitBytes: 8 * 1024 * 1024,
      totalTimeoutMs: 60_000,
      policy: 'fail-open',
      trustProxy: false,
    },
    upstreamUrl: process.env.BENCH_UPSTREAM!,
    upstreamPolicy: upstreamPolicy({ retry: { maxRetries: 0 } }),
    store,
    redactor: createRedactor(),
    pricer: createPricer(loadPriceCatalog()),
    estimateUsage,
    detectors: [detection],
    listeners,
    routes,
    policy: new PassthroughPolicy(Buffer.from('bench-fingerprint-secret')),
    clock: systemClock,
    writer: { maxQueue: 50_000, batchSize: 512, flushDelayMs: 10 },
  });
  metricsWriter = () => tg.writer.stats();
  serveStats();
  process.on('message', (msg: unknown) => {
    if (msg === 'stop') {
      void (async () => {
        await otel?.shutdown();
        await tg.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      })();
    }
  });
  announce(Number(new URL(await tg.gateway.listen(0, '127.0.0.1')).port));
}

async function runBench(): Promise<void> {
  const { compileForBench } = await import('./compiled.js');
  const compiled = compileForBench();
  const CYCLES = Number(process.env.BENCH_CYCLES ?? 20);
  const BATCH = Number(process.env.BENCH_BATCH ?? 200);
  const CONNECTIONS = 10;

  const start = (script: string, env: Record<string, string>): Promise<Child> =>
    startServer(compiled(script), env);
  const cpuOf = async (c: Child): Promise<number> => (await childStats(c)).cpuMicros;

  // The OTLP receiver: accepts and discards (its CPU is this process's, not the gateway's).
  let otlpBytes = 0;
  const receiver = createServer((req, res) => {
    req.on('data', (c: Buffer) => (otlpBytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const mock = await start('servers/mock-upstream.ts', {});
  const upstream = `http://127.0.0.1:${mock.port}/v1`;
  // A second process with nothing on shows how far two identical gateways differ on this machine.
  const variants = (process.env.BENCH_VARIANTS?.split(',') ?? [
    'off',
    'metrics',
    'otel',
    'both',
    'both-sampled',
    'off-again',
  ]) as Array<'off' | 'metrics' | 'otel' | 'both' | 'both-sampled' | 'off-again'>;
  const servers = new Map<string, Child>();
  for (const v of variants)
    servers.set(
      v,
      await start('observability.bench.ts', {
        OBS_BENCH_ROLE: 'server',
        OBS_BENCH_VARIANT: v,
        OBS_BENCH_OTLP: otlp,
        BENCH_UPSTREAM: upstream,
      }),
    );

  const payload = (stream: boolean): string =>
    JSON.stringify({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: 'You are a helpful assistant for an online shop. '.repeat(6) },
        {
          role: 'user',
          content: 'Where is my order #48213? It was due on Monday and the tracking page shows nothing.',
        },
      ],
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    });

  const load = async (port: number, n: number, stream: boolean, scrape: boolean): Promise<void> => {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
    const body = payload(stream);
    let next = 0;
    const scraper = scrape
      ? setInterval(() => {
          void pool.request({ path: '/metrics', method: 'GET' }).then((r) => r.body.dump());
        }, 1000)
      : null;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        const res = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer sk-bench-0123456789abcdefghijklmnopqrstuv',
            'x-tollgate-user': `u${next % 50}`,
          },
          body,
        });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    if (scraper) clearInterval(scraper);
    await pool.close();
  };

  console.log(
    `observability overhead: ${CYCLES} cycles × ${BATCH} requests per variant, ${CONNECTIONS} connections; CPU of each gateway process over the whole run`,
  );
  const TARGET_PCT = 10;
  const modes = (process.env.BENCH_MODES ?? 'json,stream').split(',');
  for (const stream of [false, true]) {
    if (!modes.includes(stream ? 'stream' : 'json')) continue;
    for (const v of variants) await load(servers.get(v)!.port, 500, stream, false); // warm-up
    await new Promise((res) => setTimeout(res, 1000));
    const before = new Map<string, number>();
    for (const v of variants) before.set(v, await cpuOf(servers.get(v)!));
    // Variants take turns in small batches, so a noisy neighbour slows them all alike; each
    // process's CPU is read once at the start and once at the end, so work an exporter does
    // between its turns (batches, serialisation, HTTP) is counted too.
    for (let c = 0; c < CYCLES; c++) {
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(c + k) % variants.length]!;
        await load(servers.get(v)!.port, BATCH, stream, v === 'metrics' || v === 'both');
      }
    }
    await new Promise((res) => setTimeout(res, 1500)); // the last batches' exports and writes
    const perRequest = new Map<string, number>();
    for (const v of variants)
      perRequest.set(v, ((await cpuOf(servers.get(v)!)) - before.get(v)!) / (CYCLES * BATCH));
    const base = perRequest.get('off')!;
    console.log(`\n${stream ? 'streaming' : 'non-streaming'}`);
    for (const v of variants) {
      const us = perRequest.get(v)!;
      const pct = ((us - base) / base) * 100;
      console.log(
        `  ${v.padEnd(12)} ${us.toFixed(1).padStart(7)} µs/request  ${v === 'off' ? '' : `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} %`}`,
      );
    }
    // The issue's figure: OTLP traces + metrics on vs the same gateway with OTLP off, this run.
    for (const v of ['otel', 'both', 'both-sampled'] as const) {
      const us = perRequest.get(v);
      if (us === undefined) continue;
      const pct = ((us - base) / base) * 100;
      // With Prometheus on as well, OTLP's own share is measured against the Prometheus-only gateway.
      const prom = v === 'otel' ? undefined : perRequest.get('metrics');
      const own =
        prom === undefined ? '' : `; vs Prometheus only: ${(((us - prom) / prom) * 100).toFixed(1)} %`;
      console.log(
        `  ${v}: ${pct >= 0 ? '+' : ''}${pct.toFixed(1)} % CPU per request vs off${own} (target ≤ ${TARGET_PCT} %: ${pct <= TARGET_PCT ? 'met' : 'not met'})`,
      );
    }
  }
  console.log(`\nOTLP bytes received: ${otlpBytes}`);
  for (const s of [...servers.values(), mock]) s.proc.send(s === mock ? 'exit' : 'stop');
  await Promise.all([...servers.values(), mock].map((s) => new Promise((r) => s.proc.once('exit', r))));
  receiver.close();
}
