import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { PostgresCheckpointStore } from '../../src/store/postgres/postgres-checkpoint-store.js';
import { checkpointStoreContract } from '../integrity/checkpoint-store.contract.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();

describe.skipIf(!service.available)('PostgreSQL checkpoint store', () => {
  const pool = new pg.Pool({ connectionString: service.url, max: 4 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  });
  // The shared contract (test/integrity) wants a fresh store per test: a fresh schema each time.
  checkpointStoreContract('PostgreSQL', () => {
    const schema = uniqueName('tg_cp');
    schemas.push(schema);
    return new PostgresCheckpointStore(pool, schema);
  });
});
