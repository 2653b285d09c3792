/**
 * Dashboard and admin API with 1 million events in the store (issue 11: pages load in ≤ 500 ms).
 *
 * 1. Synthesizes N events over the last 30 days (500 users, 20k sessions, 50 keys, 2 % auth
 *    failures, 3 % errors, 1 % with redactions), chained and hashed like the gateway's, appended
 *    through SqliteEventStore in batches of 5,000 with the rollups hook in the same transaction.
 * 2. Starts Tollgate on that store (startTollgate: the gateway continues the chain).
 * 3. Times each page and API call, server side to the full response (fetch), p50 and max of
 *    7 runs after a warm-up; then with Chromium (when /usr/bin/chromium exists) the page load to
 *    the `load` event.
 *
 * Run: npx tsx bench/dashboard.bench.ts [events=1000000] [--reuse]
 * The store goes to /tmp/tollgate-dashboard-bench/ and is removed first; `--reuse` keeps a store
 * an earlier run seeded (its timestamps then lie further in the past).
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../src/app/logger.js';
import { startTollgate } from '../src/app/start-tollgate.js';
import { blankEvent, type AuditEvent, type EventStatus } from '../src/core/audit-event.js';
import { loadConfig } from '../src/config/config.js';
import { newEventId } from '../src/core/ids.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups } from '../src/store/sqlite/sqlite-rollups.js';

const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const REUSE = process.argv.includes('--reuse');
const DIR = '/tmp/tollgate-dashboard-bench';
const CHAIN = 'bench-gateway';
const DAY = 86_400_000;
const RUNS = 7;

let seed = 42;
function rand(): number {
  // xorshift32: deterministic, fast enough for a million events.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4_294_967_296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const MODELS = [
  'gpt-4.1-2025-04-14',
  'gpt-4.1-mini-2025-04-14',
  'gpt-4o-mini',
  'text-embedding-3-small',
  'o3',
];
const FEATURES = [
  'chat',
  'search',
  'summarize',
  'support-bot',
  'agent',
  'translate',
  'code-review',
  'reports',
];

function synth(i: number, tsMs: number): AuditEvent {
  const e = blankEvent({ id: newEventId(tsMs), timestamp: new Date(tsMs).toISOString(), source: 'gateway' });
  const user = Math.floor(rand() * 500);
  const key = user % 50;
  const r = rand();
  const status: EventStatus =
    r < 0.02 ? 'AUTH_FAILED' : r < 0.035 ? 'SERVER_ERROR' : r < 0.05 ? 'RATE_LIMITED' : 'SUCCESS';
  e.request_id = e.id;
  e.instance_id = CHAIN;
  e.ip_address = `10.0.${user % 200}.${(i % 7) + 1}`;
  e.user_agent = 'bench-client/1.0';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.model_requested = pick(MODELS);
  e.model_used = e.model_requested;
  e.auth_method = 'bearer';
  e.auth_result = status === 'AUTH_FAILED' ? 'FAILED' : 'SUCCESS';
  e.api_key_id = `fp${key.toString(16).padStart(14, '0')}`;
  e.api_key_prefix = 'sk-proj-';
  e.status = status;
  e.http_status_code =
    status === 'SUCCESS' ? 200 : status === 'AUTH_FAILED' ? 401 : status === 'RATE_LIMITED' ? 429 : 500;
  e.error_code = status === 'SUCCESS' ? null : 'TG_ERR_UPSTREAM_ERROR';
  if (status === 'SUCCESS') {
    e.input_tokens = 50 + Math.floor(rand() * 2000);
    e.output_tokens = Math.floor(rand() * 600);
    e.total_tokens = e.input_tokens + e.output_tokens;
    e.cached_input_tokens = 0;
    e.reasoning_tokens = 0;
    e.usage_source = 'reported';
    e.cost_micro_usd = Math.round(e.input_tokens * 2 + e.output_tokens * 8);
    e.pricing_version = 'bench';
    e.finish_reason = 'stop';
  }
  e.latency_ms = 200 + rand() * 1500;
  e.user_id = `user-${user}`;
  e.session_id = `s-${user}-${Math.floor(tsMs / (3 * 3_600_000)) % 40}`;
  e.feature_name = pick(FEATURES);
  e.team = `team-${user % 12}`;
  e.content_mode = 'redacted';
  e.prompt = 'user: [redacted bench prompt]';
  if (rand() < 0.01)
    e.redactions = [
      {
        type: pick(['email', 'aws_access_key', 'phone', 'generic_secret']),
        count: 1 + Math.floor(rand() * 2),
      },
    ];
  return e;
}

async function seedStore(dbPath: string, nowMs: number): Promise<void> {
  const db = openSqlite(dbPath);
  const store = new SqliteEventStore(db);
  const rollups = createSqliteRollups(db);
  store.addInTransactionHook((events) => rollups.applyRollups(events));
  const chainer = createChainer({ chainId: CHAIN, head: null });
  const start = nowMs - 30 * DAY;
  const step = (30 * DAY) / N;
  const t0 = performance.now();
  let batch: AuditEvent[] = [];
  for (let i = 0; i < N; i++) {
    const e = synth(i, Math.floor(start + i * step));
    chainer.link(e);
    batch.push(e);
    if (batch.length === 5000) {
      await store.append(batch);
      batch = [];
    }
    if (i % 200_000 === 199_999)
      process.stderr.write(`  seeded ${i + 1} events (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  if (batch.length) await store.append(batch);
  await store.close();
  console.log(
    `seeded ${N.toLocaleString('en-US')} events in ${((performance.now() - t0) / 1000).toFixed(1)} s, store ${(statSync(dbPath).size / 1e6).toFixed(0)} MB`,
  );
}

function stats(xs: number[]): { p50: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

async function main(): Promise<void> {
  const dbPath = join(DIR, 'tollgate.db');
  if (!REUSE || !existsSync(dbPath)) {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await seedStore(dbPath, Date.now());
  } else console.log(`reusing ${dbPath} (${(statSync(dbPath).size / 1e6).toFixed(0)} MB)`);

  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      db: dbPath,
      port: 0,
      upstream_url: 'http://127.0.0.1:9/v1',
      provider: 'openai',
      instance_id: CHAIN,
    },
  });
  const t0 = performance.now();
  const tg = await startTollgate({ config, log: createLogger('silent') });
  console.log(
    `startTollgate on the store: ${(performance.now() - t0).toFixed(0)} ms (the first start re-reads a chain that has no checkpoint yet)`,
  );
  await tg.checkpointWriter.checkpointNow();
  const token = tg.admin.token.token;
  const session = tg.admin.console.sessions.create();
  const cookie = `tg_session=${session.id}`;
  const sample = (await tg.store.query({ user: 'user-7', limit: 1 }))[0]!;

  const targets: [string, string][] = [
    ['UI live events (newest 50)', '/ui/events'],
    ['UI events, user filter', '/ui/events?user=user-7'],
    ['UI events, status AUTH_FAILED', '/ui/events?status=AUTH_FAILED'],
    ['UI events, feature + model', '/ui/events?feature=agent&model=o3'],
    ['UI events, live refresh rows', '/ui/events?fragment=rows'],
    ['UI event detail', `/ui/events/${sample.id}`],
    ['UI cost, 24h by feature', '/ui/cost'],
    ['UI cost, 30d by user', '/ui/cost?by=user&since=30d'],
    ['UI cost, 7d by session', '/ui/cost?by=session&since=7d'],
    ['UI security, 24h', '/ui/security'],
    ['UI security, 7d', '/ui/security?since=7d'],
    ['UI integrity', '/ui/integrity'],
    ['API events?limit=100', '/admin/events?limit=100'],
    ['API cost 30d by model', '/admin/reports/cost?by=model&since=30d'],
    ['API security 24h', '/admin/reports/security'],
    ['API integrity', '/admin/integrity'],
  ];
  console.log(`\nserver time to full response, ${RUNS} runs after a warm-up (target ≤ 500 ms):`);
  console.log(`${'page'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'KB'.padStart(6)}`);
  for (const [name, path] of targets) {
    const headers: Record<string, string> = path.startsWith('/admin')
      ? { authorization: `Bearer ${token}` }
      : { cookie };
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i <= RUNS; i++) {
      const s = performance.now();
      const res = await fetch(`${tg.url}${path}`, { headers });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
      if (i > 0) times.push(performance.now() - s);
      bytes = body.byteLength;
    }
    const st = stats(times);
    console.log(
      `${name.padEnd(34)} ${st.p50.toFixed(1).padStart(8)} ${st.max.toFixed(1).padStart(8)} ${(bytes / 1024).toFixed(0).padStart(6)}`,
    );
  }

  const s = performance.now();
  const vr = await fetch(`${tg.url}/admin/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  await vr.arrayBuffer();
  console.log(
    `\nPOST /admin/verify (full verification of ${N.toLocaleString('en-US')} events, on demand): ${(performance.now() - s).toFixed(0)} ms`,
  );

  if (existsSync('/usr/bin/chromium')) {
    const { launchChromium } = await import('../test/dashboard/chromium.js');
    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await context.addCookies([
      { name: 'tg_session', value: session.id, url: tg.url, httpOnly: true, sameSite: 'Strict' },
    ]);
    const page = await context.newPage();
    console.log(`\nChromium: navigation start to the load event, ${RUNS} runs after a warm-up:`);
    for (const [name, path] of targets.filter(([, p]) => p.startsWith('/ui') && !p.includes('fragment'))) {
      const times: number[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const st = performance.now();
        await page.goto(`${tg.url}${path}`, { waitUntil: 'load' });
        if (i > 0) times.push(performance.now() - st);
      }
      const r = stats(times);
      console.log(`${name.padEnd(34)} ${r.p50.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)}`);
    }
    await browser.close();
  } else console.log('\nChromium not installed: browser timings skipped');
  await tg.close();
}

await main();
