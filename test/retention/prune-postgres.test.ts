/**
 * Retention on PostgreSQL: a day partition whose every event is pruned is detached and dropped
 * whole, the rest is deleted row by row (held events kept); chain counts stay right, verify passes,
 * content pruning works, and a hand-made deletion is still named.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains } from '../../src/integrity/verify.js';
import { formatVerifyReport } from '../../src/integrity/verify-report-format.js';
import { adminActionEvent } from '../../src/core/admin-action-event.js';
import { appendAdminEvent } from '../../src/retention/append-admin-event.js';
import { HOLD_CREATE_ACTION, formatHoldMessage } from '../../src/retention/hold-record.js';
import { pruneStore } from '../../src/retention/prune.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import type { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { postgresService, uniqueName } from '../support/services.js';
import { DAY } from './retention-fixture.js';

const service = await postgresService();

describe.skipIf(!service.available)('prune on PostgreSQL', () => {
  const schema = uniqueName('tg_prune');
  const pool = new pg.Pool({ connectionString: service.url, max: 2 });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('drops whole partitions past retention, deletes the rest by row, and verifies', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const opened = await openEventStore(`${service.url}?schema=${schema}`, { clock });
    const store = opened.store as PostgresEventStore;
    const { checkpoints } = opened;
    const key = generateSigningKey('tollgate-gw-1');
    const chainer = createChainer({ chainId: 'gw-1' });
    const writer = CheckpointWriter.forNewChain({
      chainId: 'gw-1',
      key,
      store: checkpoints,
      clock,
      everyEvents: 10,
      everyMs: 3_600_000_000,
      witnesses: [],
    });
    try {
      let n = 0;
      for (let d = 0; d < 40; d++) {
        const batch = [];
        for (let j = 0; j < 10; j++) {
          const e = sampleEvent(n++);
          e.timestamp = new Date(clock.now() + j * 60_000).toISOString();
          // One held person's events on days 20..39 only: the early days hold nobody's.
          e.user_id = d >= 20 && j === 3 ? 'held-user' : `user-${j}`;
          chainer.link(e);
          batch.push(e);
        }
        await store.append(batch);
        writer.recordWritten(batch);
        await writer.flush();
        clock.advance(DAY);
      }
      const h = adminActionEvent(
        { action: HOLD_CREATE_ACTION, actor: 'cli', subject: null, ok: true },
        clock,
      );
      h.error_message = formatHoldMessage({
        id: 'hold_00000000bb',
        user: 'held-user',
        session: null,
        key: null,
        since: null,
        until: null,
        reason: 'case',
      });
      await appendAdminEvent(store, 'admin-cli', h);
      const partitionsBefore = await store.partitions();

      const dropped: string[] = [];
      const res = await pruneStore({
        events: {
          ...store,
          chains: () => store.chains(),
          query: (f) => store.query(f),
          iterateChain: (c, f, p) => store.iterateChain(c, f, p),
          deleteChainRange: async (...args) => {
            const k = await store.deleteChainRange(...args);
            dropped.push(...store.lastDroppedPartitions);
            return k;
          },
          replaceContent: (u) => store.replaceContent(u),
        } as typeof store,
        checkpoints,
        signer: key,
        keys: [key.verifier()],
        policy: { eventsMs: 15 * DAY, contentMs: 10 * DAY, batch: 10_000 },
        clock,
        record: (e) => appendAdminEvent(store, 'admin-cli', e),
      });
      // Days 0..24 are past 15 days (the clock is at day 40): 250 events up to checkpoint 250,
      // of which the held person's 5 (days 20..24) are kept.
      expect(res.events[0]).toMatchObject({ first_seq: 1, last_seq: 250, deleted: 245, held: 5 });
      // Days 0..19 held nobody: their partitions went whole; days 20..24 were deleted by row.
      expect(dropped).toHaveLength(20);
      expect(dropped[0]).toBe('events_p20260101');
      expect((await store.partitions()).length).toBe(partitionsBefore.length - 20);
      expect((await store.chains()).find((c) => c.chain_id === 'gw-1')!.count).toBe(400 - 245);
      expect(await store.count({ chainId: 'gw-1' })).toBe(400 - 245);
      expect(res.content_pruned).toBeGreaterThan(0);

      const report = await verifyChains(store, checkpoints, [key.verifier()]);
      expect(report.ok, formatVerifyReport(report)).toBe(true);
      expect(report.events_pruned).toBe(245);

      await pool.query(`DELETE FROM "${schema}".events WHERE chain_id = 'gw-1' AND seq = 260`);
      const bad = await verifyChains(store, checkpoints, [key.verifier()]);
      expect(bad.first_damage).toMatchObject({ kind: 'deleted', seq: 260 });
    } finally {
      await writer.close();
      await store.close();
    }
  }, 120_000);
});
