import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { cli } from '../support/run-cli.js';

const KEY = 'sk-good-0123456789abcdefghijklmnopqrstuv';

describe('the gateway on SQLite commits through the append thread (writer.thread: true)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  for (const policy of ['fail-closed', 'fail-open'] as const)
    it(`${policy}: every answered request's event is stored (fail-closed: before the answer ends), with rollups, and the chain verifies`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-append-thread-'));
      dirs.push(dir);
      const mock = new MockProvider({ validKeys: [KEY] });
      const upstream = await mock.listen();
      const db = join(dir, 'tollgate.db');
      const config = loadConfig({
        file: null,
        overrides: {
          db,
          port: 0,
          upstream_url: upstream,
          instance_id: 'thread',
          failure_policy: policy,
          'writer.thread': true,
        },
      });
      expect(config.writer.thread).toBe(true);
      const tg = await startTollgate({ config, log: createLogger('silent') });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 12; i++) {
          const res = await request(`${tg.url}/v1/chat/completions`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${KEY}`,
              'x-tollgate-user': 'ana',
            },
            body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `hi ${i}` }] }),
          });
          await res.body.dump();
          expect(res.statusCode).toBe(200);
          const id = String(res.headers['x-tollgate-event-id']);
          ids.push(id);
          // fail-closed holds the end of the answer until the commit: the event is readable now.
          if (policy === 'fail-closed') expect(await tg.store.get(id)).not.toBeNull();
        }
        await tg.writer.drain();
        for (const id of ids) expect(await tg.store.get(id)).not.toBeNull();
        expect(tg.writer.stats()).toMatchObject({ written: expect.any(Number), spooled: 0, dropped: 0 });
      } finally {
        await tg.close();
        await mock.close();
      }
      // The rollups were written in the same transactions, by the worker's connection.
      const check = openSqlite(db);
      try {
        const users = check
          .prepare(`SELECT COUNT(*) FROM cost_rollups WHERE k = 'ana'`)
          .pluck()
          .get() as number;
        expect(users).toBeGreaterThan(0);
      } finally {
        check.close();
      }
      const verify = await cli(['verify', '--db', db]);
      expect(verify.code, verify.out + verify.err).toBe(0);
    });
});
