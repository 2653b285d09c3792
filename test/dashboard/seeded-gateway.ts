/**
 * A real Tollgate (startTollgate) in front of the mock provider, filled with the demo's traffic:
 * ordinary use plus incidents (leaked secrets, credential stuffing, provider errors, a leaking
 * session). Shared by the admin API tests, the browser tests and the screenshots.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import {
  DEMO_ANTHROPIC_KEY,
  DEMO_GEMINI_KEY,
  DEMO_GOOD_KEY,
  demoTraffic,
} from '../../src/cli/demo/demo-traffic.js';
import { sendDemoRequest } from '../../src/cli/demo/run-demo.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';

export interface SeededGateway {
  tg: RunningTollgate;
  mock: MockProvider;
  dir: string;
  /** The admin token the gateway generated into its data folder. */
  token: string;
  /** How many demo requests were sent. */
  sent: number;
  close(): Promise<void>;
}

/** Starts the gateway, sends the demo traffic (4 clients), and waits until it is all stored, alerted and checkpointed. */
export async function startSeededGateway(): Promise<SeededGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-'));
  // A provider quota far from spent: every answer carries rate-limit headers (the security view's
  // provider quota table) and none is refused for it.
  const mock = new MockProvider({
    validKeys: [DEMO_GOOD_KEY, DEMO_ANTHROPIC_KEY, DEMO_GEMINI_KEY],
    chunks: 4,
    chunkDelayMs: 5,
    record: false,
    requestQuota: 1_000_000,
  });
  const upstream = await mock.listen();
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      db: join(dir, 'tollgate.db'),
      port: 0,
      upstream_url: upstream,
      provider: 'openai',
      // The demo's three provider APIs, routed by model as `tollgate demo` does.
      providers: [
        { name: 'openai', api: 'openai', base_url: upstream, models: ['gpt-*', 'text-embedding-*'] },
        { name: 'anthropic', api: 'anthropic', base_url: mock.origin, models: ['claude-*'] },
        { name: 'gemini', api: 'gemini', base_url: mock.origin, models: ['gemini-*'] },
      ],
      instance_id: 'dashboard-test',
      'retry.base_delay_ms': 5,
      'retry.max_retry_after_ms': 50,
    },
  });
  const tg = await startTollgate({ config, log: createLogger('silent') });
  const traffic = demoTraffic();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < traffic.length) await sendDemoRequest(tg.url, traffic[next++]!);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await tg.writer.drain();
  await tg.checkpointWriter.checkpointNow();
  // An incident's later evidence is a coalesced update (written up to 5 s later): store it now, so
  // every page reads the alerts as complete.
  await tg.flushAlerts();
  return {
    tg,
    mock,
    dir,
    token: tg.admin.token.token,
    sent: traffic.length,
    async close() {
      await tg.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
