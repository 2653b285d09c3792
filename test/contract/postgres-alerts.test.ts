import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { alertStoreContract, sampleAlert } from '../../src/alerting/alert-store.contract.js';
import { PostgresAlertStore } from '../../src/store/postgres/postgres-alerts.js';
import { postgresService, uniqueName } from '../support/services.js';

const service = await postgresService();

describe.skipIf(!service.available)('PostgreSQL alert store', () => {
  const pool = new pg.Pool({ connectionString: service.url, max: 8 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  });
  const fresh = (): PostgresAlertStore => {
    const schema = uniqueName('tg_alerts');
    schemas.push(schema);
    return new PostgresAlertStore(pool, schema);
  };

  alertStoreContract('PostgreSQL', fresh);

  it('two replicas upserting one incident at once: no unique violation, the highest count and latest last_seen win', async () => {
    const a = fresh();
    await a.opened();
    const b = new PostgresAlertStore(pool, schemas.at(-1)); // a second replica on the same schema
    const t0 = Date.parse(sampleAlert().first_seen);
    const writes = [];
    for (let n = 1; n <= 40; n++) {
      const update = sampleAlert({
        count: n,
        last_seen: new Date(t0 + n * 1000).toISOString(),
        title: `seen ${n} times`,
      });
      writes.push((n % 2 === 0 ? a : b).upsert(update));
    }
    await Promise.all(writes);
    const got = await a.get(sampleAlert().id);
    expect(got?.count).toBe(40);
    expect(got?.title).toBe('seen 40 times');
    expect(got?.last_seen).toBe(new Date(t0 + 40_000).toISOString());
    // A late, older write does not move the incident backwards.
    await b.upsert(
      sampleAlert({ count: 3, last_seen: new Date(t0 + 3000).toISOString(), title: 'seen 3 times' }),
    );
    expect((await b.get(sampleAlert().id))?.count).toBe(40);
    expect((await b.get(sampleAlert().id))?.title).toBe('seen 40 times');
  });

  it('replicas that joined one incident each add their own count, in any order; severity only rises', async () => {
    const first = fresh();
    await first.opened();
    const schema = schemas.at(-1)!;
    const r1 = new PostgresAlertStore(pool, schema, 'replica-1');
    const r2 = new PostgresAlertStore(pool, schema, 'replica-2');
    const t0 = Date.parse(sampleAlert().first_seen);
    const at = (n: number): string => new Date(t0 + n * 1000).toISOString();
    const writes = [
      ...[1, 2, 3, 4, 5].map((n) =>
        r1.upsert(sampleAlert({ count: n, last_seen: at(n), description: `r1 ${n}` })),
      ),
      // replica-2 joined later with its own count, first_seen and an escalation.
      ...[1, 2, 3].map((n) =>
        r2.upsert(
          sampleAlert({
            count: n,
            first_seen: at(2),
            last_seen: at(10 + n),
            severity: n === 3 ? 'CRITICAL' : 'HIGH',
            description: `r2 ${n}`,
          }),
        ),
      ),
    ];
    await Promise.all(writes.reverse());
    // replica-1 again, later but with an older severity: counts add, severity stays CRITICAL.
    await r1.upsert(sampleAlert({ count: 6, last_seen: at(20), description: 'r1 6' }));
    const got = await r1.get(sampleAlert().id);
    expect(got).toMatchObject({
      count: 9,
      severity: 'CRITICAL',
      first_seen: sampleAlert().first_seen,
      last_seen: at(20),
      description: 'r1 6',
    });
  });

  it('delivery records of several sinks reported at once are all kept', async () => {
    const store = fresh();
    await store.upsert(sampleAlert());
    const base = {
      status: 'delivered' as const,
      attempts: 1,
      last_error: null,
      updated_at: sampleAlert().first_seen,
    };
    await Promise.all(
      ['webhook', 'slack', 'log', 'pager'].map((sink) =>
        store.recordDelivery(sampleAlert().id, { ...base, sink }),
      ),
    );
    const sinks = (await store.get(sampleAlert().id))?.deliveries.map((d) => d.sink).sort();
    expect(sinks).toEqual(['log', 'pager', 'slack', 'webhook']);
  });

  it('runs its migration once per schema and records its version', async () => {
    const store = fresh();
    await store.opened();
    await new PostgresAlertStore(pool, schemas.at(-1)).opened();
    const v = await pool.query(
      `SELECT version FROM "${schemas.at(-1)!}".schema_migrations WHERE component = 'alerts'`,
    );
    expect(v.rows).toEqual([{ version: 2 }]);
  });
});
