/**
 * Verify's fast path (segments hashed in worker threads over the SQLite file, verify-pool.ts)
 * gives the same report as the sequential walk, on an intact chain and on tampered ones: it only
 * confirms intact segments, and a chain with any damage is walked sequentially from the start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { eventHash } from '../../src/integrity/canonical-json.js';
import { generateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains, type VerifyOptions, type VerifyReport } from '../../src/integrity/verify.js';
import { openEventStore, type OpenedEventStore } from '../../src/store/open-event-store.js';
import { fromRow } from '../../src/store/sqlite/sqlite-event-store.js';
import { populate } from './populate.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { CompactRange, EventLeafHasher } from '../../src/integrity/merkle.js';
import { foldLinksInWorkers } from '../../src/integrity/verify-fast.js';
import { chainLinks } from '../../src/store/event-store.js';

const N = 2_500;
let root: string;
let key: SigningKey;
let pristine: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tg-verify-parallel-'));
  key = generateSigningKey('tollgate-gw-1');
  pristine = join(root, 'pristine.db');
  const { store, checkpoints } = await openEventStore(pristine);
  await populate({
    store,
    checkpoints,
    key,
    chainId: 'gw-1',
    n: N,
    everyEvents: 100,
    batch: 250,
    clock: new ManualClock(),
  });
  await store.close();
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

let copies = 0;
/** A copy of the pristine store, changed by `tamper` through SQL as an attacker would. */
async function copyOf(tamper: (o: OpenedEventStore & { kind: 'sqlite' }) => void): Promise<OpenedEventStore> {
  const file = join(root, `copy-${copies++}.db`);
  const src = await openEventStore(pristine);
  if (src.kind !== 'sqlite') throw new Error('sqlite expected');
  await src.db.backup(file);
  await src.store.close();
  const o = await openEventStore(file);
  if (o.kind !== 'sqlite') throw new Error('sqlite expected');
  tamper(o);
  return o;
}

const PARALLEL: VerifyOptions = { workers: 2, workerMinEvents: 0, segmentSize: 300 };

async function both(o: OpenedEventStore): Promise<{ parallel: VerifyReport; sequential: VerifyReport }> {
  const keys = [key.verifier()];
  const parallel = await verifyChains(o.store, o.checkpoints, keys, PARALLEL);
  const sequential = await verifyChains(o.store, o.checkpoints, keys, { sequentialOnly: true });
  await o.store.close();
  return { parallel, sequential };
}

const same = (r: VerifyReport): unknown => ({ ...r, duration_ms: 0, events_hashed_in_workers: 0 });

describe('verify with a worker pool', () => {
  it('reports an intact SQLite chain exactly as the sequential walk does', async () => {
    const { parallel, sequential } = await both(await copyOf(() => undefined));
    expect(parallel.ok).toBe(true);
    expect(parallel.events_checked).toBe(N);
    expect(parallel.events_hashed_in_workers).toBe(N);
    expect(sequential.events_hashed_in_workers).toBe(0);
    expect(same(parallel)).toEqual(same(sequential));
  });

  const tamperings: { label: string; tamper: (o: OpenedEventStore & { kind: 'sqlite' }) => void }[] = [
    {
      label: 'a changed event in the middle of a segment',
      tamper: (o) => o.db.prepare(`UPDATE events SET user_id = 'mallory' WHERE seq = 1234`).run(),
    },
    {
      label: 'a deleted event on a segment boundary',
      tamper: (o) => o.db.prepare('DELETE FROM events WHERE seq = 901').run(),
    },
    {
      label: 'an event re-hashed consistently (its successor no longer links)',
      tamper: (o) => {
        const row = fromRow(
          o.db.prepare('SELECT * FROM events WHERE seq = 1500').get() as Record<string, unknown>,
        );
        row.user_id = 'mallory';
        o.db
          .prepare('UPDATE events SET user_id = ?, hash = ? WHERE seq = 1500')
          .run('mallory', eventHash(row));
      },
    },
    {
      label: 'the tail cut off after the last checkpoint was signed',
      tamper: (o) => o.db.prepare('DELETE FROM events WHERE seq > 2450').run(),
    },
    {
      label: 'two changes far apart (every damage is named)',
      tamper: (o) => {
        o.db.prepare(`UPDATE events SET model_used = 'x' WHERE seq = 10`).run();
        o.db.prepare(`UPDATE events SET model_used = 'y' WHERE seq = 2400`).run();
      },
    },
  ];

  for (const t of tamperings) {
    it(`names ${t.label} exactly as the sequential walk does`, async () => {
      const { parallel, sequential } = await both(await copyOf(t.tamper));
      expect(parallel.ok).toBe(false);
      expect(parallel.damage_count).toBeGreaterThan(0);
      expect(same(parallel)).toEqual(same(sequential));
    });
  }
});

describe('first start on a chain without checkpoints: links folded in worker threads', () => {
  /** The tree and last hash of the sequential read (CheckpointWriter.resume's own loop). */
  async function sequentialFold(o: OpenedEventStore): Promise<{ root: string; size: number; last: string }> {
    const range = new CompactRange();
    const leaf = new EventLeafHasher();
    let last = '';
    for await (const l of chainLinks(o.store, 'gw-1', 1)) {
      range.append(leaf.hash(l.hash!));
      last = l.hash!;
    }
    return { root: range.root().toString('hex'), size: range.size, last };
  }

  it('gives the tree and last hash of the sequential read', async () => {
    const o = await copyOf(() => undefined);
    const fast = await foldLinksInWorkers(o.store, 'gw-1', new CompactRange(), { workers: 2, minEvents: 0 });
    const want = await sequentialFold(o);
    await o.store.close();
    expect(fast).not.toBeNull();
    expect({
      root: fast!.range.root().toString('hex'),
      size: fast!.range.size,
      last: fast!.lastHash,
    }).toEqual(want);
  });

  it('leaves a hole or a broken link to the sequential read (null)', async () => {
    for (const tamper of [
      (o: OpenedEventStore & { kind: 'sqlite' }) => o.db.prepare('DELETE FROM events WHERE seq = 1700').run(),
      (o: OpenedEventStore & { kind: 'sqlite' }) =>
        o.db.prepare(`UPDATE events SET prev_hash = '${'0'.repeat(64)}' WHERE seq = 300`).run(),
    ]) {
      const o = await copyOf(tamper);
      const fast = await foldLinksInWorkers(o.store, 'gw-1', new CompactRange(), {
        workers: 2,
        minEvents: 0,
      });
      await o.store.close();
      expect(fast).toBeNull();
    }
  });
});

describe('CheckpointWriter.resume with links folded in worker threads', () => {
  it('resumes at the tree the sequential read gives, and goes on from there', async () => {
    const o = await copyOf(() => undefined);
    const resume = (workers: number): Promise<CheckpointWriter> =>
      CheckpointWriter.resume(
        {
          chainId: 'gw-1',
          key,
          store: new MemoryCheckpointStore(),
          clock: new ManualClock(),
          resumeInWorkers: { workers, minEvents: 0 },
        },
        o.store,
      );
    const fast = await resume(2);
    const sequential = await resume(0);
    await o.store.close();
    expect(fast.treeSize).toBe(N);
    const [a, b] = [await fast.checkpointNow(), await sequential.checkpointNow()];
    expect(a!.frontier).toEqual(b!.frontier);
  });
});
