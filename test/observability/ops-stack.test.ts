/**
 * The shipped ops stack (ops/): the Grafana dashboard and the Prometheus alerting rules name only
 * metrics Tollgate serves; promtool checks and unit-tests the rules; and a real Prometheus scrapes
 * a running gateway and fires a shipped rule on a planted condition.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { PROMETHEUS_PATH, PROMTOOL_PATH, prometheusAvailable } from '../support/prometheus-binaries.js';
import { until } from '../support/until.js';
import { sendChat, TEST_KEY } from './send-chat.js';

const run = promisify(execFile);
const RULES = resolve('ops/prometheus/tollgate-rules.yml');
const RULE_TESTS = resolve('ops/prometheus/tollgate-rules.test.yml');
const DASHBOARD = resolve('ops/grafana/tollgate-dashboard.json');

interface GrafanaPanel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

/** Metric names in a PromQL expression (Tollgate's own; histogram suffixes folded to the family). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\btollgate_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

/** Every metric family a running gateway serves (from `# TYPE` lines, so series not yet seen count too). */
function servedFamilies(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('ops stack (ops/grafana, ops/prometheus)', () => {
  let dir: string;
  let mock: MockProvider;
  let tg: RunningTollgate;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-ops-'));
    mock = new MockProvider({ validKeys: [TEST_KEY] });
    const upstream = await mock.listen();
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        port: 0,
        upstream_url: upstream,
        instance_id: 'ops-test',
        // No heartbeat checkpoint during the test: the planted condition is an old checkpoint.
        'checkpoints.every_ms': 86_400_000,
      },
    });
    tg = await startTollgate({ config, log: createLogger('silent'), clock });
    expect((await sendChat(`${tg.url}/v1`, { model: 'gpt-4.1', stream: true })).status).toBe(200);
  });

  afterAll(async () => {
    await tg?.close();
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the dashboard and the rules use only metrics the gateway serves', async () => {
    const served = servedFamilies(await tg.metrics.text());
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: GrafanaPanel[];
      templating: { list: Array<{ name: string }> };
    };
    expect(dashboard.uid).toBe('tollgate-overview');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance', 'model']);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const rules = readFileSync(RULES, 'utf8');
    const ruleExprs = [...rules.matchAll(/tollgate_[a-z0-9_]+/g)].map((m) => m[0]);
    const used = new Set([...exprs.flatMap(metricNames), ...ruleExprs.flatMap(metricNames)]);
    for (const name of used) expect(served, `${name} is not served at /metrics`).toContain(name);
    // What the issue asks the dashboard to show, each by its metric.
    for (const name of [
      'tollgate_requests_total',
      'tollgate_request_duration_seconds',
      'tollgate_time_to_first_token_seconds',
      'tollgate_cost_micro_usd_total',
      'tollgate_tokens_total',
      'tollgate_alerts_total',
      'tollgate_writer_queue_depth',
      'tollgate_events_spooled_total',
      'tollgate_checkpoint_age_seconds',
      'tollgate_writer_loop_held_seconds',
    ])
      expect(
        exprs.some((e) => metricNames(e).includes(name)),
        name,
      ).toBe(true);
    for (const alert of [
      'TollgateWriterSpooling',
      'TollgateCheckpointTooOld',
      'TollgateBudgetBurn',
      'TollgateHighErrorRate',
      'TollgateProviderQuotaLow',
      'TollgateAuditLoopStalls',
    ])
      expect(rules).toContain(`alert: ${alert}\n`);
  });

  const withPrometheus = prometheusAvailable();

  it.skipIf(!withPrometheus)('promtool checks the rules and passes their unit tests', async () => {
    const check = await run(PROMTOOL_PATH, ['check', 'rules', RULES]);
    expect(check.stdout).toMatch(/SUCCESS: 7 rules found/);
    const tests = await run(PROMTOOL_PATH, ['test', 'rules', RULE_TESTS]);
    expect(tests.stdout).toMatch(/SUCCESS/);
    // /metrics passes promtool's lint too.
    const metrics = await run('/bin/sh', ['-c', `printf '%s' "$M" | ${PROMTOOL_PATH} check metrics`], {
      env: { ...process.env, M: await tg.metrics.text() },
    });
    expect(metrics.stderr).toBe('');
  });

  it.skipIf(!withPrometheus)(
    'a real Prometheus scrapes /metrics and fires TollgateCheckpointTooOld on a planted old checkpoint',
    async () => {
      const port = await freePort();
      const promDir = mkdtempSync(join(tmpdir(), 'tollgate-prom-'));
      const target = new URL(tg.url).host;
      writeFileSync(
        join(promDir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${RULES}`,
          'scrape_configs:',
          '  - job_name: tollgate',
          `    static_configs: [{ targets: ['${target}'] }]`,
          '',
        ].join('\n'),
      );
      let prom: ChildProcess | null = null;
      let log = '';
      try {
        prom = spawn(
          PROMETHEUS_PATH,
          [
            `--config.file=${join(promDir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(promDir, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        prom.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
        const api = `http://127.0.0.1:${port}/api/v1`;
        const get = async (path: string): Promise<{ data: unknown }> => {
          const res = await fetch(`${api}${path}`);
          return (await res.json()) as { data: unknown };
        };
        const reachable = async (): Promise<boolean> => {
          try {
            return (await fetch(`${api}/status/buildinfo`)).ok;
          } catch {
            return false;
          }
        };
        await until('Prometheus to start', reachable, 30_000, 200);
        // Healthy first: a fresh checkpoint, scraped, the rule quiet.
        await until(
          'the gateway scraped',
          async () => {
            const r = (await get(
              `/query?query=${encodeURIComponent('tollgate_checkpoint_age_seconds')}`,
            )) as {
              data: { result: Array<{ metric: Record<string, string> }> };
            };
            return r.data.result.length === 1 && r.data.result[0]!.metric.job === 'tollgate';
          },
          30_000,
          250,
        );
        const firing = async (): Promise<Array<{ labels: Record<string, string>; state: string }>> =>
          (
            (await get('/alerts')) as {
              data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
            }
          ).data.alerts.filter((a) => a.labels.alertname === 'TollgateCheckpointTooOld');
        expect(await firing()).toEqual([]);
        // The planted condition: no checkpoint for two hours (the gateway's clock moves on).
        clock.advance(2 * 3_600_000);
        await until(
          'TollgateCheckpointTooOld to fire',
          async () => (await firing()).some((a) => a.state === 'firing'),
          30_000,
          250,
        );
        const [alert] = await firing();
        expect(alert!.labels).toMatchObject({ severity: 'critical', job: 'tollgate', instance: target });
      } catch (err) {
        throw new Error(`${(err as Error).message}\nprometheus log tail:\n${log}`);
      } finally {
        prom?.kill('SIGTERM');
        if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
        rmSync(promDir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});
