import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/store/open-event-store.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { PostgresRollups } from '../../src/store/postgres/postgres-rollups.js';
import { postgresService, uniqueName } from '../support/services.js';
import {
  expectRollupsOf,
  mixedEvents,
  rollupStoreContract,
  type RollupStore,
} from './rollup-store.contract.js';

const service = await postgresService();

describe.skipIf(!service.available)('PostgreSQL rollups', () => {
  const admin = new pg.Pool({ connectionString: service.url, max: 2 });
  afterAll(async () => {
    await admin.end();
  });

  /** A replica: an event store on `schema` with its rollups in the append transaction. */
  const replica = async (
    schema: string,
    dropOnClose: boolean,
  ): Promise<RollupStore & { store: PostgresEventStore; pgRollups: PostgresRollups }> => {
    const store = await PostgresEventStore.open({ url: service.url, schema });
    const rollups = await PostgresRollups.open(store.connectionPool, schema);
    store.addInTransactionHook((client, inserted) => rollups.apply(client, inserted));
    return {
      store,
      pgRollups: rollups,
      rollups,
      append: (events) => store.append(events),
      close: async () => {
        await store.close();
        if (dropOnClose) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  };

  rollupStoreContract('PostgreSQL', () => replica(uniqueName('tg_rollups'), true));

  it('replicas writing at once share one set of rollups: exact totals, no deadlock, days folded once', async () => {
    const schema = uniqueName('tg_rollups_rep');
    const replicas = await Promise.all([0, 1, 2].map(() => replica(schema, false)));
    try {
      // Three replicas, interleaved in time over ~2 days (hour and day folds race), the same
      // users, models and sessions (the same rollup rows), batches of 1–40 events.
      const streams = [0, 1, 2].map((r) => mixedEvents(600, 20 + r));
      await Promise.all(
        replicas.map(async (rep, r) => {
          const events = streams[r]!;
          for (let i = 0; i < events.length; i += 1 + ((i * 7) % 40))
            await rep.append(events.slice(i, i + 1 + ((i * 7) % 40)));
        }),
      );
      const all = streams.flat();
      for (const rep of replicas) await expectRollupsOf(rep.rollups, all);
    } finally {
      for (const rep of replicas) await rep.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('rolls back with the batch: a failing hook after the rollups leaves neither events nor rollups', async () => {
    const schema = uniqueName('tg_rollups_rb');
    const rep = await replica(schema, true);
    try {
      const events = mixedEvents(50, 5);
      let fail = true;
      rep.store.addInTransactionHook(async () => {
        if (fail) throw new Error('later hook failed');
      });
      await expect(rep.append(events)).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE' });
      expect(await rep.store.count()).toBe(0);
      expect(await rep.rollups.groups('all', 0, Date.UTC(2100, 0, 1))).toEqual([]);
      fail = false;
      await rep.append(events);
      await expectRollupsOf(rep.rollups, events);
    } finally {
      await rep.close();
    }
  });

  it('openEventStore returns the shared rollups with the hook registered, migrations versioned', async () => {
    const schema = uniqueName('tg_rollups_open');
    const opened = await openEventStore(`${service.url}?schema=${schema}`);
    try {
      expect(opened.kind).toBe('postgres');
      if (opened.kind !== 'postgres') return;
      const events = mixedEvents(200, 9);
      await opened.store.append(events);
      await opened.store.append(events.slice(50, 150)); // replayed: the staging path, nothing counted twice
      await expectRollupsOf(opened.rollups, events);
      const v = await admin.query(
        `SELECT component, version FROM "${schema}".schema_migrations ORDER BY component`,
      );
      expect(v.rows).toContainEqual({ component: 'rollups', version: 1 });
    } finally {
      await opened.store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
