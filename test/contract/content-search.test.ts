import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { openContentSearch } from '../../src/store/open-content-search.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { postgresService, uniqueName } from '../support/services.js';
import { contentSearchContract } from './content-search.contract.js';

describe('content search: SQLite FTS5', () => {
  contentSearchContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-search-'));
    const opened = await openEventStore(join(dir, 'tollgate.db'));
    return {
      store: opened.store,
      search: await openContentSearch(opened),
      async close() {
        await opened.store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }, sampleEvent);
});

const service = await postgresService();

describe.skipIf(!service.available)('content search: PostgreSQL full-text', () => {
  const admin = new pg.Pool({ connectionString: service.url, max: 2 });
  afterAll(async () => {
    await admin.end();
  });
  contentSearchContract(async () => {
    const schema = uniqueName('tg_search');
    const url = new URL(service.url);
    url.searchParams.set('schema', schema);
    const opened = await openEventStore(url.toString());
    return {
      store: opened.store,
      search: await openContentSearch(opened),
      async close() {
        await opened.store.close();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  }, sampleEvent);
});
