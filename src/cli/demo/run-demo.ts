import { rmSync } from 'node:fs';
import { fetch } from 'undici';
import { createLogger } from '../../app/logger.js';
import { startTollgate, type RunningTollgate } from '../../app/start-tollgate.js';
import {
  DEMO_ANTHROPIC_KEY,
  DEMO_BUDGET_USD,
  DEMO_BUDGET_USER,
  DEMO_GEMINI_KEY,
  DEMO_GOOD_KEY,
  demoTraffic,
  type DemoRequest,
} from './demo-traffic.js';
import { MockProvider } from '../../mock-provider/mock-provider.js';
import { configFor, println, type CliContext, type GlobalOptions } from '../cli-context.js';
import { colourer, formatUsd, renderTable } from '../format/table.js';
import type { AuditEvent } from '../../core/audit-event.js';
import type { TollgateConfig } from '../../config/config.js';
import { formatAlertsTable } from '../../alerting/alert-format.js';
import { verifyChains } from '../../integrity/verify.js';
import { demoEvidence } from './demo-evidence.js';
import { demoRetention } from './demo-retention.js';
import { formatVerifyReport } from '../../integrity/verify-report-format.js';
import { costReport, formatCostTable } from '../../reports/cost-report.js';
import { formatSecurityReportTable, securityReport } from '../../reports/security-report.js';
import { signInHint } from '../format/sign-in-hint.js';
import { isAdminEvent } from '../../observability/event-kind.js';
import { isUnpriced } from '../../pricing/unpriced.js';

export interface DemoOptions {
  seconds?: string;
  /** Keep the gateway and its dashboard running on the demo store until Ctrl-C. */
  serve?: boolean;
  /** Port with `--serve` (default: the configured port, 8787). */
  port?: string;
}

/**
 * `tollgate demo`: a simulated provider, the gateway in front of it, a minute of realistic traffic
 * with incidents, then what was recorded (events, cost, alerts, security, verify). Loaded only
 * when the demo runs (the CLI's other commands do not pay for the gateway and the mock provider).
 */
export async function runDemo(opts: DemoOptions, g: GlobalOptions, ctx: CliContext): Promise<void> {
  const dbPath = g.db ?? './data/demo.db';
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
  const seconds = opts.seconds === undefined ? 15 : Number(opts.seconds);
  const c = colourer(ctx.stdout.isTTY === true && !ctx.env.NO_COLOR);

  // The simulated provider counts its request quota down (x-ratelimit-* headers): the demo's traffic
  // takes it below the warning share, so `provider.quota-low` fires, with no 429.
  // It speaks OpenAI, Anthropic and Gemini, each on its own paths and with its own key header.
  const mock = new MockProvider({
    validKeys: [DEMO_GOOD_KEY, DEMO_ANTHROPIC_KEY, DEMO_GEMINI_KEY],
    chunks: 8,
    chunkDelayMs: 15,
    record: false,
    requestQuota: 160,
  });
  const upstream = await mock.listen();
  const config = configFor(ctx, g, {
    db: dbPath,
    // A passing demo takes any free port; one kept running takes the usual one (or --port).
    port: opts.serve ? opts.port : 0,
    upstream_url: upstream,
    provider: 'openai',
    // Three provider APIs behind the one gateway, routed by model (docs/providers.md).
    providers: [
      { name: 'openai', api: 'openai', base_url: upstream, models: ['gpt-*', 'text-embedding-*'] },
      { name: 'anthropic', api: 'anthropic', base_url: mock.origin, models: ['claude-*'] },
      { name: 'gemini', api: 'gemini', base_url: mock.origin, models: ['gemini-*'] },
    ],
    instance_id: 'demo-gateway',
    'retry.base_delay_ms': 20,
    'retry.max_retry_after_ms': 200,
    budgets: [
      { scope: 'user', subject: DEMO_BUDGET_USER, period: 'day', limit_usd: DEMO_BUDGET_USD, enforce: true },
    ],
    detection: { 'provider.quota-low': { share: 0.5 } },
  });
  const log = createLogger(ctx.env.TOLLGATE_LOG_LEVEL ?? 'error');
  const tg = await startTollgate({ config, log });
  println(ctx.stdout, c('bold', 'Tollgate demo') + ' — everything runs locally, no network needed');
  println(ctx.stdout, `  simulated providers ${mock.origin}   (OpenAI, Anthropic and Gemini APIs)`);
  println(ctx.stdout, `  gateway             ${tg.url}/v1   (point an OpenAI client's baseURL here;`);
  println(ctx.stdout, `                      Anthropic and Gemini clients take ${tg.url})`);
  println(ctx.stdout, `  audit store         ${dbPath}`);
  println(ctx.stdout);
  try {
    const traffic = demoTraffic();
    await drive(tg, traffic, seconds, (done) => {
      if (ctx.stdout.isTTY) ctx.stdout.write(`\r  sending traffic… ${done}/${traffic.length}`);
    });
    if (ctx.stdout.isTTY) ctx.stdout.write('\r');
    println(
      ctx.stdout,
      `  sent ${traffic.length} requests from 6 users across 4 features to 3 provider APIs, with incidents mixed in`,
    );
    await tg.writer.drain();
    await tg.checkpointWriter.checkpointNow();
    const events = await tg.store.query({ order: 'asc' });
    await printLoopHeld(ctx, tg, events.length, c);
    printSummary(ctx, events, c);
    await printReports(ctx, tg, c, config);
    println(ctx.stdout);
    const db = shellWord(dbPath);
    println(ctx.stdout, c('bold', 'Explore it yourself'));
    println(ctx.stdout, `  npx tollgate events --db ${db} --status AUTH_FAILED`);
    println(ctx.stdout, `  npx tollgate report cost --db ${db} --by user --since 1h`);
    println(
      ctx.stdout,
      `  npx tollgate evidence --db ${db} --out evidence.json && npx tollgate verify --evidence evidence.json`,
    );
    if (!opts.serve)
      println(ctx.stdout, `  npx tollgate demo --serve      (the same, then the dashboard on it)`);
    if (opts.serve) {
      println(ctx.stdout);
      for (const line of signInHint(tg)) println(ctx.stdout, line);
      println(
        ctx.stdout,
        c('dim', '  (Ctrl-C stops the demo gateway; the store stays for the commands above)'),
      );
      await untilSignal();
    }
  } finally {
    await tg.close();
    await mock.close();
  }
}

/** Resolves on the first SIGINT or SIGTERM (the demo kept running with --serve). */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** A path as one word a POSIX shell reads back unchanged (quoted only when it needs to be). */
function shellWord(s: string): string {
  return /^[\w./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Sends the traffic with 4 clients in parallel, spread over `seconds`. */
async function drive(
  tg: RunningTollgate,
  traffic: DemoRequest[],
  seconds: number,
  progress: (done: number) => void,
): Promise<void> {
  const gapMs = (seconds * 1000) / traffic.length;
  let next = 0;
  let done = 0;
  const started = Date.now();
  const worker = async (): Promise<void> => {
    while (next < traffic.length) {
      const i = next++;
      const due = started + i * gapMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await sendDemoRequest(tg.url, traffic[i]!);
      progress(++done);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** Sends one demo request and reads its answer; a client that gives up aborts after the first token. */
export async function sendDemoRequest(base: string, req: DemoRequest): Promise<void> {
  const controller = new AbortController();
  try {
    const key = req.keyHeader ? { [req.keyHeader]: req.key } : { authorization: `Bearer ${req.key}` };
    const res = await fetch(`${base}${req.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key, ...req.headers },
      body: JSON.stringify(req.body),
      signal: controller.signal,
    });
    if (!req.abortAfterFirstToken || !res.body) {
      await res.arrayBuffer();
      return;
    }
    const decoder = new TextDecoder();
    let seen = '';
    for await (const chunk of res.body) {
      seen += decoder.decode(chunk as Uint8Array, { stream: true });
      if (/"content":"[^"]/.test(seen)) {
        controller.abort();
        break;
      }
    }
  } catch {
    // aborts and broken streams are part of the story; the gateway records them
  }
}

async function printReports(
  ctx: CliContext,
  tg: RunningTollgate,
  c: ReturnType<typeof colourer>,
  config: TollgateConfig,
): Promise<void> {
  const now = Date.now();
  println(ctx.stdout);
  println(ctx.stdout, c('bold', 'Cost by feature') + c('dim', '   (tollgate report cost --by feature)'));
  println(
    ctx.stdout,
    formatCostTable(
      await costReport(tg.rollups, { by: 'feature', sinceMs: now - 3_600_000, untilMs: now + 60_000 }),
    ),
  );
  const sessions = await costReport(tg.rollups, {
    by: 'session',
    sinceMs: now - 3_600_000,
    untilMs: now + 60_000,
  });
  const leak = sessions.rows.find((r) => r.key === sessions.worst_session)?.growth;
  if (sessions.worst_session && leak) {
    println(ctx.stdout);
    println(
      ctx.stdout,
      c(
        'yellow',
        `The silent token leak: session ${sessions.worst_session} resent its growing history — input grew ${leak.first_input_tokens} → ${leak.last_input_tokens} tokens per request`,
      ) + c('dim', '   (tollgate report cost --by session)'),
    );
  }
  await tg.dispatcher.drain();
  const alerts = await tg.alerts.list({ sinceMs: now - 3_600_000 });
  println(ctx.stdout);
  println(ctx.stdout, c('bold', `Alerts raised (${alerts.length})`) + c('dim', '   (tollgate alerts)'));
  println(ctx.stdout, alerts.length ? formatAlertsTable(alerts) : '  none');
  println(ctx.stdout);
  println(ctx.stdout, c('bold', 'Security report') + c('dim', '   (tollgate report security)'));
  const security = await securityReport(
    { rollups: tg.rollups, alerts: tg.alerts },
    { sinceMs: now - 3_600_000, untilMs: now + 60_000, top: 5 },
  );
  println(ctx.stdout, formatSecurityReportTable(security));
  const report = await verifyChains(tg.store, tg.checkpoints, [tg.signingKey.verifier()]);
  println(ctx.stdout);
  println(ctx.stdout, c('bold', 'Tamper evidence') + c('dim', '   (tollgate verify)'));
  println(ctx.stdout, formatVerifyReport(report));
  println(ctx.stdout);
  println(
    ctx.stdout,
    c('bold', 'Retention and legal hold') +
      c('dim', '   (tollgate hold create; tollgate prune --dry-run; tollgate erase)'),
  );
  for (const line of await demoRetention(tg, now)) println(ctx.stdout, line);
  println(ctx.stdout);
  // The checkpoints the full run above found intact are where the next run starts: only what the
  // retention steps added since is read and hashed.
  const verified = new Map(
    report.chains.flatMap((ch) =>
      ch.ok && ch.latest_checkpoint ? [[ch.chain_id, ch.latest_checkpoint.note] as const] : [],
    ),
  );
  const since = await verifyChains(tg.store, tg.checkpoints, [tg.signingKey.verifier()], { since: verified });
  println(
    ctx.stdout,
    c('bold', 'Incremental verify') +
      c(
        'dim',
        '   (tollgate verify --since-checkpoint: only what is new since the last verified checkpoint)',
      ),
  );
  println(ctx.stdout, formatVerifyReport(since));
  println(ctx.stdout);
  println(
    ctx.stdout,
    c('bold', 'Evidence bundle for an auditor') +
      c('dim', '   (tollgate evidence --out FILE; tollgate verify --evidence FILE, offline)'),
  );
  for (const line of await demoEvidence(tg, config, now)) println(ctx.stdout, line);
}

/**
 * What recording cost the gateway's requests: how long the audit trail held the event loop
 * (`tollgate_writer_loop_held_seconds` on /metrics): building the events, and the store writes.
 */
async function printLoopHeld(
  ctx: CliContext,
  tg: RunningTollgate,
  events: number,
  c: ReturnType<typeof colourer>,
): Promise<void> {
  const text = await tg.metrics.text();
  const ms = (stat: 'sum' | 'count', phase: 'build' | 'write'): number => {
    const series = `tollgate_writer_loop_held_seconds_${stat}{phase="${phase}"} `;
    const line = text.split('\n').find((l) => l.startsWith(series));
    return line === undefined ? 0 : Number(line.slice(series.length)) * (stat === 'sum' ? 1000 : 1);
  };
  const build = ms('sum', 'build');
  const write = ms('sum', 'write');
  if (events === 0 || build + write === 0) return;
  // Totals, not a mean: an event's build grows with its content (the runaway session's prompts).
  println(
    ctx.stdout,
    `  recording held the gateway's event loop ${(build + write).toFixed(0)} ms over the run` +
      c('dim', '   (/metrics: tollgate_writer_loop_held_seconds)'),
  );
  println(
    ctx.stdout,
    `    building ${events} events ${build.toFixed(0)} ms (redact, price, detect, chain; large prompts cost most), ` +
      `${ms('count', 'write')} store writes ${write.toFixed(0)} ms`,
  );
}

function printSummary(ctx: CliContext, events: AuditEvent[], c: ReturnType<typeof colourer>): void {
  println(ctx.stdout);
  println(ctx.stdout, c('bold', 'What the audit trail recorded'));
  const byStatus = new Map<string, number>();
  for (const e of events) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  println(
    ctx.stdout,
    renderTable(
      [...byStatus.entries()].sort((a, b) => b[1] - a[1]),
      [
        { header: 'status', value: (r) => r[0] },
        { header: 'events', value: (r) => r[1], align: 'right' },
      ],
    ),
  );
  const priced = events.filter((e) => e.cost_micro_usd !== null);
  // One definition with the cost report and /metrics (pricing/unpriced.ts); admin actions are not requests.
  const unpriced = events.filter((e) => !isAdminEvent(e) && isUnpriced(e));
  const total = priced.reduce((s, e) => s + (e.cost_micro_usd ?? 0), 0);
  println(ctx.stdout);
  println(
    ctx.stdout,
    `  ${events.length} events, one per request; total cost ${formatUsd(total)}; ${unpriced.length} unpriced (cost unknown, not $0)`,
  );
  const overBudget = events.filter((e) => e.error_code === 'TG_ERR_POLICY_BUDGET_EXCEEDED');
  if (overBudget.length)
    println(
      ctx.stdout,
      `  ${overBudget.length} request(s) refused past a budget (BLOCKED, no provider call): ${overBudget[0]!.error_message ?? ''}`,
    );
  const redacted = events.filter((e) => e.redactions.length > 0);
  if (redacted.length) {
    println(
      ctx.stdout,
      `  ${redacted.length} event(s) had secrets or personal data redacted before storage, e.g.:`,
    );
    const e = redacted[0]!;
    println(ctx.stdout, c('dim', `    ${(e.prompt ?? '').slice(0, 160).replace(/\s+/g, ' ')}`));
  }
  printProviders(ctx, events, c);
  println(ctx.stdout);
  println(ctx.stdout, c('bold', 'Latest events'));
  const latest = events.slice(-12);
  println(
    ctx.stdout,
    renderTable(latest, [
      { header: 'status', value: (e) => e.status },
      { header: 'model', value: (e) => e.model_used ?? e.model_requested, max: 26 },
      { header: 'user', value: (e) => e.user_id },
      { header: 'feature', value: (e) => e.feature_name },
      { header: 'key', value: (e) => e.api_key_prefix },
      { header: 'in', value: (e) => e.input_tokens, align: 'right' },
      { header: 'out', value: (e) => e.output_tokens, align: 'right' },
      { header: 'cost', value: (e) => formatUsd(e.cost_micro_usd), align: 'right' },
      { header: 'seq', value: (e) => e.seq, align: 'right' },
    ]),
  );
}

/** Cost by provider, API and model: each provider's events priced from the same catalog. */
function printProviders(ctx: CliContext, events: AuditEvent[], c: ReturnType<typeof colourer>): void {
  interface Row {
    provider: string;
    endpoint: string;
    model: string;
    requests: number;
    input: number;
    output: number;
    cost: number | null;
  }
  const rows = new Map<string, Row>();
  for (const e of events) {
    if (isAdminEvent(e) || e.status !== 'SUCCESS') continue;
    const model = e.model_requested ?? e.model_used ?? '-';
    // Gemini's endpoint names the model: keep the method only.
    const endpoint = (e.endpoint ?? '-').replace(/^\/models\/[^:]+:/, ':');
    const key = `${e.api_provider}\u0000${endpoint}\u0000${model}`;
    const row = rows.get(key) ?? {
      provider: e.api_provider ?? '-',
      endpoint,
      model,
      requests: 0,
      input: 0,
      output: 0,
      cost: 0,
    };
    row.requests++;
    row.input += e.input_tokens ?? 0;
    row.output += e.output_tokens ?? 0;
    row.cost = row.cost === null || e.cost_micro_usd === null ? null : row.cost + e.cost_micro_usd;
    rows.set(key, row);
  }
  println(ctx.stdout);
  println(
    ctx.stdout,
    c('bold', 'Cost by provider and model') +
      c('dim', '   (successful requests; tollgate report cost --by model)'),
  );
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.provider.localeCompare(b.provider) ||
      a.endpoint.localeCompare(b.endpoint) ||
      a.model.localeCompare(b.model),
  );
  println(
    ctx.stdout,
    renderTable(sorted, [
      { header: 'provider', value: (r) => r.provider },
      { header: 'api', value: (r) => r.endpoint },
      { header: 'model', value: (r) => r.model, max: 26 },
      { header: 'requests', value: (r) => r.requests, align: 'right' },
      { header: 'in', value: (r) => r.input, align: 'right' },
      { header: 'out', value: (r) => r.output, align: 'right' },
      { header: 'cost', value: (r) => formatUsd(r.cost), align: 'right' },
    ]),
  );
}
