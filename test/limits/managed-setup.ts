import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { MockProvider, type MockProviderOptions } from '../../src/mock-provider/mock-provider.js';
import { createKey, type CreateKeyInput } from '../../src/access/virtual-keys.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteKeyStore } from '../../src/store/sqlite/sqlite-keys.js';

/** The provider key the gateway holds in these tests (the mock accepts only it). */
export const PROVIDER_KEY = 'sk-proj-PROVIDERkey0123456789abcdefghijklmnopqrstu';

/** One managed-mode gateway (SQLite) in front of a mock provider, keys created through its own store. */
export interface ManagedSetup {
  tg: RunningTollgate;
  mock: MockProvider;
  /** The SQLite store's path (for the CLI). */
  db: string;
  newKey(input?: Partial<CreateKeyInput>): Promise<{ key: string; id: string }>;
  /** An `openai` client presenting `key`, with no retries of its own. */
  client(key: string, headers?: Record<string, string>): OpenAI;
  events(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

/**
 * `o.keysFirst`: keys created in the database before the gateway starts, so `overrides` (a function
 * of their ids) can name them, e.g. in `limits:`; their plaintexts come back in `ManagedSetup.first`.
 */
export async function managedSetup(
  overrides: Record<string, unknown> | ((ids: string[]) => Record<string, unknown>) = {},
  o: { clock?: Clock; mock?: MockProviderOptions; keysFirst?: Array<Partial<CreateKeyInput>> } = {},
): Promise<ManagedSetup & { first: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-limits-'));
  const first: Array<{ key: string; id: string }> = [];
  if (o.keysFirst) {
    const db = openSqlite(join(dir, 'tollgate.db'));
    const store = new SqliteKeyStore(db);
    for (const input of o.keysFirst) {
      const c = await createKey(store, o.clock ?? systemClock, { name: 'first', ...input });
      first.push({ key: c.key, id: c.record.id });
    }
    db.close();
  }
  const extra = typeof overrides === 'function' ? overrides(first.map((k) => k.id)) : overrides;
  const mock = new MockProvider({ validKeys: [PROVIDER_KEY], ...o.mock });
  const upstream = await mock.listen();
  const config = loadConfig({
    file: null,
    overrides: {
      db: join(dir, 'tollgate.db'),
      port: 0,
      upstream_url: upstream,
      instance_id: 'limits',
      mode: 'managed',
      'managed.provider_key': PROVIDER_KEY,
      ...extra,
    },
  });
  const tg = await startTollgate({
    config,
    log: createLogger('silent'),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  return {
    tg,
    mock,
    db: join(dir, 'tollgate.db'),
    first: first.map((k) => k.key),
    async newKey(input = {}) {
      const created = await createKey(tg.keys, o.clock ?? systemClock, { name: 'test', ...input });
      return { key: created.key, id: created.record.id };
    },
    client(key, headers = {}) {
      return new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0, defaultHeaders: headers });
    },
    async events() {
      await tg.writer.drain();
      return tg.store.query({ order: 'asc' });
    },
    async close() {
      await tg.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
