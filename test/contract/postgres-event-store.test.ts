import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { ManualClock } from '../../src/core/clock.js';
import { postgresService, uniqueName } from '../support/services.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { eventStoreContract } from './event-store.contract.js';

const service = await postgresService();

describe.skipIf(!service.available)('PostgreSQL event store', () => {
  // One pool for the file; every store gets its own schema, dropped afterwards.
  const admin = new pg.Pool({ connectionString: service.url, max: 4 });
  afterAll(async () => {
    await admin.end();
  });
  const fresh = async (
    options: { clock?: ManualClock } = {},
  ): Promise<{ store: PostgresEventStore; dispose: () => Promise<void> }> => {
    const schema = uniqueName('tg_contract');
    const store = await PostgresEventStore.open({ url: service.url, schema, ...options });
    return {
      store,
      dispose: async () => void (await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
    };
  };

  eventStoreContract('PostgreSQL (partitioned)', fresh);

  it('runs migrations once: a second open of the same schema keeps the data and the version', async () => {
    const { store, dispose } = await fresh();
    try {
      await store.append([{ ...sampleEvent(1), chain_id: 'a', seq: 1, hash: 'h1' }]);
      const again = await PostgresEventStore.open({ url: service.url, schema: store.schema });
      expect(await again.count()).toBe(1);
      const v = await admin.query(`SELECT component, version FROM "${store.schema}".schema_migrations`);
      expect(v.rows).toEqual([{ component: 'events', version: 6 }]);
      // Migration 2 dropped the index no query reads; the ones the filters use stay.
      const idx = await admin.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'events'`,
        [store.schema],
      );
      const names = idx.rows.map((r) => r.indexname);
      expect(names).not.toContain('events_key');
      expect(names).toEqual(
        expect.arrayContaining(['events_vkey', 'events_user', 'events_session', 'events_status']),
      );
      await again.close();
    } finally {
      await store.close();
      await dispose();
    }
  });

  it('runs its sessions without JIT (plan compilation cost more than the rollup reads it sped up)', async () => {
    const { store, dispose } = await fresh();
    try {
      // Every connection of the pool, not only the first.
      const clients = await Promise.all([0, 1, 2].map(() => store.connectionPool.connect()));
      for (const c of clients) expect((await c.query<{ jit: string }>('SHOW jit')).rows[0]!.jit).toBe('off');
      for (const c of clients) c.release();
    } finally {
      await store.close();
      await dispose();
    }
  });

  it('opens concurrently from several replicas without a migration or partition race', async () => {
    const schema = uniqueName('tg_race');
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresEventStore.open({ url: service.url, schema })),
    );
    try {
      await Promise.all(
        stores.map((s, i) =>
          s.append([{ ...sampleEvent(i, Date.UTC(2027, 5, 1)), chain_id: `r${i}`, seq: 1, hash: `h${i}` }]),
        ),
      );
      expect(await stores[0]!.count()).toBe(4);
      expect((await stores[0]!.chains()).map((c) => c.chain_id)).toEqual(['r0', 'r1', 'r2', 'r3']);
    } finally {
      for (const s of stores) await s.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('partitions by day, creates partitions ahead, and retention drops whole old partitions', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 10, 8));
    const { store, dispose } = await fresh({ clock });
    try {
      // Created at open: today and two days ahead.
      expect(await store.partitions()).toEqual(['events_p20260310', 'events_p20260311', 'events_p20260312']);
      const day = 24 * 3600_000;
      const events = [0, 1, 2, 3].map((d) => ({
        ...sampleEvent(d, Date.UTC(2026, 2, 1) + d * day),
        chain_id: 'a',
        seq: d + 1,
        hash: `h${d + 1}`,
      }));
      await store.append(events);
      expect(await store.partitions()).toContain('events_p20260302');
      const dropped = await store.dropPartitionsBefore(new Date(Date.UTC(2026, 2, 3)));
      expect(dropped).toEqual(['events_p20260301', 'events_p20260302']);
      expect(await store.count()).toBe(2);
      expect(await store.chains()).toEqual([{ chain_id: 'a', seq: 4, hash: 'h4', count: 2 }]);
      // A partition that still holds newer rows is kept: a cutoff inside a day drops nothing of it.
      expect(await store.dropPartitionsBefore(new Date(Date.UTC(2026, 2, 3, 12)))).toEqual([]);
      // A dropped day can be written again (the partition is recreated on demand).
      await store.append([events[0]!]);
      expect(await store.count()).toBe(3);
    } finally {
      await store.close();
      await dispose();
    }
  });

  it('the idempotence key includes the partition key: a replay lands in the same partition', async () => {
    const { store, dispose } = await fresh();
    try {
      const pk = await admin.query<{ def: string }>(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
        [`"${store.schema}".events`],
      );
      expect(pk.rows[0]!.def).toBe('PRIMARY KEY (id, ts)');
      const e = { ...sampleEvent(3), chain_id: 'a', seq: 1, hash: 'h' };
      await Promise.all([store.append([e]), store.append([e]), store.append([e])]);
      expect(await store.count()).toBe(1);
      expect((await store.chains())[0]!.count).toBe(1);
    } finally {
      await store.close();
      await dispose();
    }
  });

  it('pages exactly through events of one millisecond stamped in microseconds (ingested events may be)', async () => {
    const { store, dispose } = await fresh();
    try {
      // Microseconds out of step with the write order: ordering by ms alone would lose or repeat.
      const us = ['.123900', '.123100', '.123500', '.123100', '.123999', '.123000'];
      const events = us.map((frac, i) => ({
        ...sampleEvent(i),
        timestamp: `2026-01-01T12:00:00${frac}Z`,
      }));
      await store.append(events);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const p = await store.page({ limit: 1 }, cursor);
        seen.push(...p.events.map((e) => e.id));
        cursor = p.next;
      } while (cursor !== null);
      expect([...seen].sort()).toEqual(events.map((e) => e.id).sort());
      expect(seen[0]).toBe(events[4]!.id);
      expect(seen[seen.length - 1]).toBe(events[5]!.id);
    } finally {
      await store.close();
      await dispose();
    }
  });

  it('refuses a schema whose events table is not partitioned, by name, and changes nothing', async () => {
    const schema = uniqueName('tg_plain');
    // A plain table of the same name (by hand or another tool: no Tollgate release made one).
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`CREATE TABLE "${schema}".events (id text PRIMARY KEY, ts timestamptz NOT NULL)`);
    await admin.query(`INSERT INTO "${schema}".events VALUES ('e1', now())`);
    try {
      const err = await PostgresEventStore.open({ url: service.url, schema }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'TG_ERR_STORE_OPEN',
        detail: { table: `${schema}.events`, reason: expect.stringContaining('not partitioned') },
      });
      const left = await admin.query(
        `SELECT (SELECT COUNT(*) FROM "${schema}".events)::int AS n, to_regclass($1)::text AS migrations`,
        [`"${schema}".schema_migrations`],
      );
      expect(left.rows).toEqual([{ n: 1, migrations: null }]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('an empty append reaches the server (the writer probes a failed store with it)', async () => {
    const store = await PostgresEventStore.open({
      url: 'postgres://postgres@127.0.0.1:1/none',
      schema: 'x',
    }).catch((err: unknown) => err);
    expect(store).toBeInstanceOf(Error);
    const { store: ok, dispose } = await fresh();
    await expect(ok.append([])).resolves.toBeUndefined();
    await ok.close();
    await expect(ok.append([])).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE' });
    await dispose();
  });
});
