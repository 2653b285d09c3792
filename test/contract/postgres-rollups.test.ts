import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/store/open-event-store.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { PostgresRollups, type PostgresRollupOptions } from '../../src/store/postgres/postgres-rollups.js';
import { postgresService, uniqueName } from '../support/services.js';
import { HOUR_MS } from '../../src/store/rollups.js';
import {
  appendInBatches,
  eventsOverDays,
  expectGroupsOverDays,
  expectProviderQuotaOf,
  expectRollupsOf,
  expectSecurityOf,
  expectSecurityReportOf,
  expectSessionsOf,
  mixedEvents,
  randomWindows,
  securityEvents,
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
    options: PostgresRollupOptions = {},
  ): Promise<RollupStore & { store: PostgresEventStore; pgRollups: PostgresRollups }> => {
    const store = await PostgresEventStore.open({ url: service.url, schema });
    const rollups = await PostgresRollups.open(store.connectionPool, schema, options);
    store.addInTransactionHook((client, inserted) => rollups.apply(client, inserted));
    return {
      store,
      pgRollups: rollups,
      rollups,
      append: (events) => store.append(events),
      rebuildSessionTotals: async () => {
        await rollups.rebuildSessionTotals();
      },
      rebuildSecurity: () => rollups.rebuildSecurity(),
      close: async () => {
        await store.close();
        if (dropOnClose) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  };

  rollupStoreContract('PostgreSQL', () => replica(uniqueName('tg_rollups'), true));

  // Sessions that need segments read from their day summaries (and edge hours), never by id;
  // growing sessions by walking the rank index.
  rollupStoreContract('PostgreSQL, sessions from day summaries', () =>
    replica(uniqueName('tg_rollups_days'), true, { sessionsByIdUpTo: 0, growingSortUpTo: 0 }),
  );

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

  it('session summaries and security rollups survive a restart; a schema written before them gets them from its segments and events', async () => {
    const schema = uniqueName('tg_rollups_sess');
    const events = securityEvents(700, 41);
    const windows = randomWindows(
      Date.parse(events[0]!.timestamp) - HOUR_MS,
      Date.parse(events[events.length - 1]!.timestamp) + HOUR_MS,
      12,
      43,
    );
    let rep = await replica(schema, false);
    try {
      await rep.append(events.slice(0, 300));
      // Back to a schema from before the summaries: migration 2 runs again at the next open.
      await admin.query(
        `DROP TABLE "${schema}".session_totals; DROP INDEX "${schema}".session_rollups_session;
         DROP TABLE "${schema}".session_days;
         DROP TABLE "${schema}".security_rollups; DROP TABLE "${schema}".provider_quota_rollups;
         UPDATE "${schema}".schema_migrations SET version = 1 WHERE component = 'rollups'`,
      );
      await rep.close();
      rep = await replica(schema, false);
      await rep.append(events.slice(300));
      const inexact = await admin.query(
        `SELECT COUNT(*)::int AS n FROM "${schema}".session_totals WHERE NOT exact`,
      );
      expect(inexact.rows[0].n).toBeGreaterThan(0);
      await expectSessionsOf(rep.rollups, events, windows);
      await expectSecurityOf(rep.rollups, events, windows);
      await expectSecurityReportOf(rep.rollups, events, windows);
      await expectProviderQuotaOf(rep.rollups, events, windows);
      await rep.close();
      rep = await replica(schema, false); // restarted: the same answers
      await expectSessionsOf(rep.rollups, events, windows);
      await expectSecurityOf(rep.rollups, events, windows);
      await expectSecurityReportOf(rep.rollups, events, windows);
      await expectProviderQuotaOf(rep.rollups, events, windows);
      await rep.rebuildSessionTotals();
      const after = await admin.query(
        `SELECT COUNT(*)::int AS n FROM "${schema}".session_totals WHERE NOT exact`,
      );
      expect(after.rows[0].n).toBe(0);
      await expectSessionsOf(rep.rollups, events, windows);
    } finally {
      await rep.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('gives a schema written before the day summaries inexact ones from its segments (exact answers), exact after a rebuild', async () => {
    const schema = uniqueName('tg_rollups_sdays');
    const start = Date.UTC(2026, 0, 5, 22, 17, 31);
    // ~4 days: windows hold whole UTC days, sessions reach outside them.
    const events = mixedEvents(500, 83).map((e) => {
      e.timestamp = new Date(start + (Date.parse(e.timestamp) - start) * 8).toISOString();
      return e;
    });
    const windows = randomWindows(start - HOUR_MS, Date.parse(events[events.length - 1]!.timestamp), 15, 89);
    let rep = await replica(schema, false, { sessionsByIdUpTo: 0 });
    try {
      await appendInBatches(rep, events, 7);
      const exactBefore = await admin.query(`SELECT COUNT(*)::int AS n FROM "${schema}".session_days`);
      expect(exactBefore.rows[0].n).toBeGreaterThan(0);
      // Back to a schema from before session_days: migration 7 runs again at the next open.
      await admin.query(
        `DROP TABLE "${schema}".session_days;
         UPDATE "${schema}".schema_migrations SET version = 6 WHERE component = 'rollups'`,
      );
      await rep.close();
      rep = await replica(schema, false, { sessionsByIdUpTo: 0 });
      const count = async (): Promise<{ all: number; inexact: number }> =>
        (
          await admin.query(
            `SELECT COUNT(*)::int AS all, (COUNT(*) FILTER (WHERE NOT exact))::int AS inexact FROM "${schema}".session_days`,
          )
        ).rows[0];
      expect(await count()).toEqual({ all: exactBefore.rows[0].n, inexact: exactBefore.rows[0].n });
      await expectSessionsOf(rep.rollups, events, windows);
      await rep.rebuildSessionTotals();
      expect(await count()).toEqual({ all: exactBefore.rows[0].n, inexact: 0 });
      await expectSessionsOf(rep.rollups, events, windows);
    } finally {
      await rep.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }, 60_000);

  it('builds the day blocks of a schema written before them from its day rows', async () => {
    const schema = uniqueName('tg_rollups_blocks');
    const events = eventsOverDays(1200, 67);
    let rep = await replica(schema, false);
    try {
      await appendInBatches(rep, events.slice(0, 700), 4);
      await admin.query(
        `DELETE FROM "${schema}".cost_rollups WHERE granularity > 2;
         UPDATE "${schema}".schema_migrations SET version = 7 WHERE component = 'rollups'`,
      );
      await rep.close();
      rep = await replica(schema, false);
      const blocks = await admin.query(
        `SELECT COUNT(*)::int AS n FROM "${schema}".cost_rollups WHERE granularity > 2`,
      );
      expect(blocks.rows[0].n).toBeGreaterThan(0);
      await appendInBatches(rep, events.slice(700), 6);
      await expectGroupsOverDays(rep.rollups, events, 9);
    } finally {
      await rep.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }, 60_000);

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
      expect(v.rows).toContainEqual({ component: 'rollups', version: 9 });
    } finally {
      await opened.store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
