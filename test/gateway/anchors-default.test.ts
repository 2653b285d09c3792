import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { localPaths } from '../../src/app/local-paths.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { readAnchorFile } from '../../src/integrity/anchors.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { cli } from '../support/run-cli.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('anchors are on by default', () => {
  it('the gateway anchors each checkpoint in a 0700 folder beside the data folder (file 0600) and in the log; verify reads them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tg-anchors-default-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'data'));
    const db = join(root, 'data', 'tollgate.db');
    const mock = new MockProvider();
    cleanup.push(() => mock.close());
    const upstream = await mock.listen();
    let logText = '';
    const log = pino(
      { level: 'info' },
      new Writable({ write: (c: Buffer, _e, cb) => ((logText += c.toString()), cb()) }),
    );
    const config = loadConfig({
      file: null,
      overrides: { db, port: 0, upstream_url: upstream, instance_id: 'gw-anchor' },
    });
    const tg = await startTollgate({ config, log });
    const res = await request(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-test-abcdefghijklmnop0123456789',
      },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.dump();
    await tg.close();

    const anchorDir = join(root, 'tollgate-anchors');
    expect(statSync(anchorDir).mode & 0o777).toBe(0o700);
    const anchorFile = localPaths(config).anchorFile!;
    expect(dirname(anchorFile)).toBe(anchorDir);
    const files = readAnchorFile(anchorFile);
    expect(statSync(files.path).mode & 0o777).toBe(0o600);
    expect(dirname(files.path)).not.toBe(dirname(db));
    expect(files.keys.map((k) => k.verifier_key)).toEqual([tg.signingKey.verifierKey]);
    const stored = await (async () => {
      const { openEventStore } = await import('../../src/store/open-event-store.js');
      const o = await openEventStore(db);
      const list = await o.checkpoints.list('gw-anchor');
      await o.store.close();
      return list;
    })();
    expect(stored.length).toBeGreaterThan(0);
    expect(files.checkpoints.map((c) => c.note)).toEqual(stored.map((c) => c.note));
    // The log carries each checkpoint with the witness-file fields at top level.
    const logged = logText
      .split('\n')
      .filter((l) => l.includes('"anchor":"checkpoint"'))
      .map((l) => JSON.parse(l) as { note: string; chain_id: string });
    expect(logged.map((l) => l.note)).toEqual(stored.map((c) => c.note));

    const r = await cli(['verify', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`anchors: ${files.path}`);
    expect(r.out).toMatch(
      /chain gw-anchor: newest checkpoint at tree size \d+, \d+ s old; anchored up to \d+/,
    );
    const json = JSON.parse((await cli(['verify', '--db', db, '--json'])).out) as {
      ok: boolean;
      anchors: {
        file: string;
        keys_from: string;
        chains: { chain_id: string; newest_checkpoint: { age_ms: number } }[];
      };
    };
    expect(json.ok).toBe(true);
    expect(json.anchors.keys_from).toBe('anchors');
    expect(json.anchors.chains[0]!.newest_checkpoint.age_ms).toBeGreaterThanOrEqual(0);
    // A shipped log file works as a witness as it is.
    const shipped = join(root, 'shipped.log');
    writeFileSync(shipped, logText);
    const w = await cli(['verify', '--db', db, '--witness', shipped, '--json']);
    expect(JSON.parse(w.out).checkpoints_checked).toBe(3 * stored.length);
    expect(w.code).toBe(0);
  });
});
