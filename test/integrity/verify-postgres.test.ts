/**
 * Verify on PostgreSQL reads chain segments by keyset ranges as column arrays and confirms them
 * with the specialised serializer, on the calling thread (readChainColumns, verify-pool.ts
 * inlineSegmentChecker) or in worker threads with connections of their own (the store's
 * ReaderSource, postgres-segment-reader.ts); the report is the sequential walk's either way, on an
 * intact chain and on chains tampered through SQL, and when the workers cannot connect.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { eventHash } from '../../src/integrity/canonical-json.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { CompactRange } from '../../src/integrity/merkle.js';
import { foldLinksInWorkers } from '../../src/integrity/verify-fast.js';
import { generateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains, type VerifyReport } from '../../src/integrity/verify.js';
import { inlineSegmentChecker } from '../../src/integrity/verify-pool.js';
import { postgresSegmentReader } from '../../src/integrity/postgres-segment-reader.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { ADMIN_METHOD } from '../../src/core/admin-action-event.js';
import { PostgresCheckpointStore } from '../../src/store/postgres/postgres-checkpoint-store.js';
import { fromRow, PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { postgresService, uniqueName } from '../support/services.js';
import { populate } from './populate.js';
import { sampleEvent } from './sample-events.js';

const service = await postgresService();
const N = 1_200;

describe.skipIf(!service.available)('verify on PostgreSQL: segments by keyset ranges', () => {
  const admin = new pg.Pool({ connectionString: service.url, max: 2 });
  const schema = uniqueName('tg_h22v_verify');
  let store: PostgresEventStore;
  let checkpoints: PostgresCheckpointStore;
  let key: SigningKey;

  beforeAll(async () => {
    store = await PostgresEventStore.open({ url: service.url, schema });
    checkpoints = new PostgresCheckpointStore(admin, schema);
    key = generateSigningKey('tollgate-gw-1');
    await populate({
      store,
      checkpoints,
      key,
      chainId: 'gw-1',
      n: N,
      everyEvents: 100,
      batch: 200,
      clock: new ManualClock(),
    });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  const same = (r: VerifyReport): unknown => ({ ...r, duration_ms: 0, events_hashed_in_workers: 0 });
  /** Segments on the calling thread, segments in two workers, and the sequential walk. */
  async function both(
    on: PostgresEventStore = store,
  ): Promise<{ fast: VerifyReport; pool: VerifyReport; sequential: VerifyReport }> {
    const keys = [key.verifier()];
    const fast = await verifyChains(on, checkpoints, keys, { segmentSize: 250, workers: 0 });
    const pool = await verifyChains(on, checkpoints, keys, {
      segmentSize: 250,
      workers: 2,
      workerMinEvents: 0,
    });
    const sequential = await verifyChains(on, checkpoints, keys, { sequentialOnly: true });
    expect(same(pool)).toEqual(same(sequential));
    return { fast, pool, sequential };
  }

  it('reads a chain range as column arrays the store decodes to the events iterateChain gives', async () => {
    const read = await store.readChainColumns('gw-1', 5, 9);
    expect(read.codec).toBe('postgres');
    const events = [];
    for await (const e of store.iterateChain('gw-1', 5, 3)) if (e.seq! <= 9) events.push(e);
    expect(read.rows.map((r) => read.decode(r))).toEqual(events);
    expect((await store.readChainColumns('gw-1', N + 1, N + 10)).rows).toEqual([]);
    // The checker verify uses confirms a segment from those rows (it is not falling back).
    const checked = await inlineSegmentChecker(store)!.check({ chainId: 'gw-1', first: 1, last: 250 });
    expect(checked.regular).toBe(true);
    expect(checked.leaves.length).toBe(250 * 32);
  });

  it('reports an intact chain exactly as the sequential walk does, on the calling thread and in workers', async () => {
    const { fast, pool, sequential } = await both();
    expect(fast.ok).toBe(true);
    expect(fast.events_checked).toBe(N);
    expect(fast.events_hashed_in_workers).toBe(0);
    expect(pool.events_hashed_in_workers).toBe(N);
    expect(same(fast)).toEqual(same(sequential));
  });

  it('reads in workers only through a source the store names, and walks inline when they cannot connect', async () => {
    expect(store.readerSource()).toEqual({ kind: 'postgres', url: service.url, schema });
    // A store on a caller's pool has no URL to hand to workers.
    const onPool = await PostgresEventStore.open({ pool: admin, schema });
    expect(onPool.readerSource()).toBeNull();
    const { pool, sequential } = await both(onPool);
    expect(pool.events_hashed_in_workers).toBe(0);
    expect(pool.ok).toBe(true);
    expect(same(pool)).toEqual(same(sequential));
    // Workers pointed at a port nothing listens on: they fail to start, the run reads inline.
    const unreachable = Object.assign(Object.create(store) as PostgresEventStore, {
      readerSource: () => ({
        kind: 'postgres' as const,
        url: 'postgres://postgres@127.0.0.1:1/test',
        schema,
      }),
    });
    const report = await verifyChains(unreachable, checkpoints, [key.verifier()], {
      segmentSize: 250,
      workers: 2,
      workerMinEvents: 0,
    });
    expect(report.events_hashed_in_workers).toBe(0);
    expect(same(report)).toEqual(same(sequential));
  });

  it('folds the links in workers for a first start as the sequential read does', async () => {
    const resume = (workers: number): Promise<CheckpointWriter> =>
      CheckpointWriter.resume(
        {
          chainId: 'gw-1',
          key,
          store: new MemoryCheckpointStore(),
          clock: new ManualClock(),
          resumeInWorkers: { workers, minEvents: 0 },
        },
        store,
      );
    // The links are read in the workers (null would mean the sequential read did the work).
    const folded = await foldLinksInWorkers(store, 'gw-1', new CompactRange(), { workers: 2, minEvents: 0 });
    expect(folded?.range.size).toBe(N);
    const fast = await resume(2);
    const sequential = await resume(0);
    expect(fast.treeSize).toBe(N);
    const [a, b] = [await fast.checkpointNow(), await sequential.checkpointNow()];
    expect(a!.frontier).toEqual(b!.frontier);
  });

  it('names a changed event and a deleted one exactly as the sequential walk does', async () => {
    const t = `"${schema}".events`;
    await admin.query(`UPDATE ${t} SET prompt = 'changed' WHERE chain_id = 'gw-1' AND seq = 377`);
    // The first event of a segment (segments of 250 from seq 1).
    await admin.query(`DELETE FROM ${t} WHERE chain_id = 'gw-1' AND seq = 751`);
    const { fast, sequential } = await both();
    expect(fast.ok).toBe(false);
    expect(fast.chains[0]!.damages.map((d) => [d.kind, d.seq])).toEqual([
      ['modified', 377],
      ['deleted', 751],
    ]);
    expect(same(fast)).toEqual(same(sequential));
    // The changed row still hashes as the reference says (no false positive from the serializer).
    const row = await store.get(
      (await admin.query(`SELECT id FROM ${t} WHERE seq = 378 AND chain_id = 'gw-1'`)).rows[0].id,
    );
    expect(eventHash(row!)).toBe(row!.hash);
  });

  it('names an event re-hashed consistently on a segment boundary, and a cut tail, as the sequential walk does', async () => {
    const t = `"${schema}".events`;
    // The last event of a segment, changed and re-hashed: its successor (the next segment's first) no longer links.
    const res = await admin.query(`SELECT * FROM ${t} WHERE chain_id = 'gw-1' AND seq = 1000`);
    const row = fromRow(res.rows[0] as Record<string, unknown>);
    row.user_id = 'mallory';
    await admin.query(
      `UPDATE ${t} SET user_id = 'mallory', hash = $1 WHERE chain_id = 'gw-1' AND seq = 1000`,
      [eventHash(row)],
    );
    await admin.query(`DELETE FROM ${t} WHERE chain_id = 'gw-1' AND seq > 1150`);
    const { fast, pool, sequential } = await both();
    expect(pool.ok).toBe(false);
    expect(pool.chains[0]!.damages.map((d) => d.seq)).toEqual(expect.arrayContaining([377, 751, 1001]));
    expect(same(fast)).toEqual(same(sequential));
    expect(same(pool)).toEqual(same(sequential));
  });
});

describe.skipIf(!service.available)(
  'a verify worker on PostgreSQL: rows the server text does not confirm',
  () => {
    const schema = uniqueName('tg_h22v_vworker');
    let store: PostgresEventStore;

    beforeAll(async () => {
      store = await PostgresEventStore.open({ url: service.url, schema });
      const chainer = createChainer({ chainId: 'gw-1' });
      const events = Array.from({ length: 40 }, (_, i) => {
        const e = sampleEvent(i);
        // An admin event (the slow way: from its columns) and a double PostgreSQL writes otherwise
        // than ECMAScript (1e+16 against 10000000000000000): both checked from the columns.
        if (i === 7) e.http_method = ADMIN_METHOD;
        if (i === 23) e.latency_ms = 1e16;
        chainer.link(e);
        return e;
      });
      await store.append(events);
    });

    afterAll(async () => {
      await store?.close();
      const admin = new pg.Client({ connectionString: service.url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });

    it('confirms the segment from its columns, with the leaves the calling thread computes', async () => {
      const reader = await postgresSegmentReader(service.url, schema);
      try {
        for (const task of [
          { chainId: 'gw-1', first: 1, last: 40 },
          { chainId: 'gw-1', first: 1, last: 6 },
          { chainId: 'gw-1', first: 21, last: 30 },
        ]) {
          const inWorker = await reader.check(task);
          const inline = await inlineSegmentChecker(store)!.check(task);
          expect(inWorker.regular).toBe(true);
          expect(inWorker).toEqual(inline);
        }
      } finally {
        await reader.close();
      }
    });
  },
);
