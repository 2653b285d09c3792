import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { HttpEventSink } from '../../src/sdk/index.js';
import { cli } from '../support/run-cli.js';
import { harnessLikeAuditor, KEY, sdkClient } from './sdk-support.js';

describe('SDK → a running tollgate serve (/ingest)', () => {
  it('lands SDK events in the gateway store, in rollups and reports, with their own chain verifying', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-ingest-'));
    const upstream = new MockProvider({ validKeys: [KEY] });
    const base = await upstream.listen();
    const gatewayMock = new MockProvider();
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        port: 0,
        upstream_url: await gatewayMock.listen(),
        instance_id: 'central',
      },
    });
    const tg = await startTollgate({ config, log: createLogger('silent') });
    try {
      const auditor = await harnessLikeAuditor({
        store: new HttpEventSink({ url: `${tg.url}/ingest`, token: tg.admin.token.token }),
        writer: { flushDelayMs: 10 },
      });
      const client = sdkClient(auditor, base);
      for (let i = 0; i < 4; i++)
        await client.chat.completions.create({
          model: 'gpt-4.1',
          messages: [{ role: 'user', content: `from the app ${i}` }],
        });
      await auditor.close();
      const events = await tg.store.query({ order: 'asc' });
      const sdkEvents = events.filter((e) => e.source === 'sdk');
      expect(sdkEvents).toHaveLength(4);
      expect(sdkEvents[0]!.chain_id).toMatch(/^sdk-/);
    } finally {
      await tg.close();
      await upstream.close();
      await gatewayMock.close();
    }
    const report = JSON.parse(
      (await cli(['report', 'cost', '--db', join(dir, 'tollgate.db'), '--by', 'model', '--json'])).out,
    );
    expect(report.totals.requests).toBe(4);
    const verify = await cli(['verify', '--db', join(dir, 'tollgate.db'), '--json']);
    expect(verify.code).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
