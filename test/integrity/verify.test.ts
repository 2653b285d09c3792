import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { openCheckpoint } from '../../src/integrity/checkpoint.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { buildInclusionProof, checkInclusionProof } from '../../src/integrity/inclusion-proof.js';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { formatVerifyReport } from '../../src/integrity/verify-report-format.js';
import { verifyChains } from '../../src/integrity/verify.js';
import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { RecordingWitness, populate } from './populate.js';
import { sampleEvent } from './sample-events.js';

async function setup(n = 300, everyEvents = 50) {
  const store = new MemoryEventStore();
  const checkpoints = new MemoryCheckpointStore();
  const key = generateSigningKey('tollgate-test');
  const witness = new RecordingWitness();
  const events = await populate({ store, checkpoints, key, chainId: 'gw-1', n, everyEvents, witness });
  return { store, checkpoints, key, witness, events, keys: [key.verifier()] };
}

describe('verifyChains', () => {
  it('reports an untouched store intact, with progress and a human summary', async () => {
    const { store, checkpoints, keys, events } = await setup();
    const progress: number[] = [];
    const report = await verifyChains(store, checkpoints, keys, {
      onProgress: (p) => progress.push(p.events),
      progressEvery: 100,
    });
    expect(report.ok).toBe(true);
    expect(report.first_damage).toBeNull();
    expect(report.chains).toHaveLength(1);
    expect(report.chains[0]).toMatchObject({
      chain_id: 'gw-1',
      tree_size: events.length,
      events_checked: events.length,
    });
    expect(report.chains[0]!.latest_checkpoint?.tree_size).toBe(events.length);
    expect(progress).toEqual([100, 200, 300, 300]);
    expect(formatVerifyReport(report)).toMatch(/chain gw-1: intact — 300 events/);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('writes checkpoints every N events, heartbeats when idle, and to witnesses', async () => {
    const store = new MemoryEventStore();
    const checkpoints = new MemoryCheckpointStore();
    const key = generateSigningKey('tollgate-test');
    const clock = new ManualClock();
    const witness = new RecordingWitness();
    const writer = CheckpointWriter.forNewChain({
      chainId: 'c',
      key,
      store: checkpoints,
      clock,
      everyEvents: 10,
      everyMs: 60_000,
      witnesses: [witness],
    });
    const chainer = createChainer({ chainId: 'c' });
    const events = Array.from({ length: 25 }, (_, i) => sampleEvent(i));
    events.forEach((e) => chainer.link(e));
    await store.append(events);
    writer.recordWritten(events.slice(0, 12));
    writer.recordWritten(events.slice(12));
    await writer.flush();
    expect((await checkpoints.list('c')).map((c) => c.tree_size)).toEqual([12, 25]);
    await writer.tick();
    expect(await checkpoints.list('c')).toHaveLength(2);
    clock.advance(60_000);
    await writer.tick();
    clock.advance(60_000);
    await writer.tick();
    const list = await checkpoints.list('c');
    expect(list.map((c) => c.tree_size)).toEqual([12, 25, 25, 25]);
    expect(writer.getStats()).toMatchObject({ checkpoints: 2, heartbeats: 2 });
    expect(witness.received.map((c) => c.note)).toEqual(list.map((c) => c.note));
    const last = openCheckpoint(list[3]!.note, [key.verifier()]);
    expect(last.ok && last.checkpoint.timeMs).toBe(clock.now());
    // A stale newest checkpoint is reported once heartbeats stop.
    expect(
      (await verifyChains(store, checkpoints, [key.verifier()], { clock, maxCheckpointAgeMs: 120_000 })).ok,
    ).toBe(true);
    clock.advance(600_000);
    const stale = await verifyChains(store, checkpoints, [key.verifier()], {
      clock,
      maxCheckpointAgeMs: 120_000,
    });
    expect(stale.first_damage).toMatchObject({ kind: 'checkpoint_missing', checkpoint_size: 25 });
  });

  it('resumes a writer from the stored frontier after a restart', async () => {
    const { store, checkpoints, key, keys, events } = await setup(120, 50);
    const clock = new ManualClock(Date.UTC(2026, 1, 1));
    const heads = await store.chains();
    const chainer = createChainer({ chainId: 'gw-1', head: heads[0]! });
    const writer = await CheckpointWriter.resume(
      { chainId: 'gw-1', key, store: checkpoints, clock, everyEvents: 50 },
      store,
    );
    expect(writer.treeSize).toBe(events.length);
    const more = Array.from({ length: 60 }, (_, i) => sampleEvent(1000 + i));
    more.forEach((e) => chainer.link(e));
    await store.append(more);
    writer.recordWritten(more);
    await writer.close();
    const report = await verifyChains(store, checkpoints, keys);
    expect(report.ok).toBe(true);
    expect(report.chains[0]!.latest_checkpoint?.tree_size).toBe(180);

    // After a key rotation the old checkpoints still verify with the keyring, and resume uses them.
    const rotated = generateSigningKey('tollgate-test');
    const again = await CheckpointWriter.resume(
      { chainId: 'gw-1', key: rotated, previousKeys: keys, store: checkpoints, clock, everyEvents: 50 },
      store,
    );
    expect(again.treeSize).toBe(180);
    const last = Array.from({ length: 5 }, (_, i) => sampleEvent(2000 + i));
    const chainer2 = createChainer({ chainId: 'gw-1', head: (await store.chains())[0]! });
    last.forEach((e) => chainer2.link(e));
    await store.append(last);
    again.recordWritten(last);
    await again.close();
    expect((await verifyChains(store, checkpoints, [...keys, rotated.verifier()])).ok).toBe(true);
    const withoutOld = await verifyChains(store, checkpoints, [rotated.verifier()]);
    expect(withoutOld.first_damage?.kind).toBe('checkpoint_forged');
  });

  it('starts from a trusted checkpoint with --from and still finds later damage', async () => {
    const { store, checkpoints, keys } = await setup(300, 50);
    const list = await checkpoints.list('gw-1');
    const from = list.find((c) => c.tree_size === 200)!.note;
    const clean = await verifyChains(store, checkpoints, keys, { from });
    expect(clean.ok).toBe(true);
    expect(clean.chains[0]!.events_checked).toBe(100);
    store.unsafeRows()[250]!.cost_micro_usd = 1;
    const report = await verifyChains(store, checkpoints, keys, { from });
    expect(report.first_damage).toMatchObject({ kind: 'modified', seq: 251 });
    await expect(
      verifyChains(store, checkpoints, [generateSigningKey('x').verifier()], { from }),
    ).rejects.toThrow(/TG_ERR_INTEGRITY_NOTE_INVALID/);
  });

  it('keeps going after the first damage and lists every damaged event, in order', async () => {
    const { store, checkpoints, keys, events } = await setup(300, 50);
    const rows = store.unsafeRows();
    rows[29]!.cost_micro_usd = 1; // seq 30: content changed
    rows[119]!.hash = 'f'.repeat(64); // seq 120: stored hash changed
    rows[249]!.user_id = 'mallory'; // seq 250: content changed
    const deleted = rows.splice(179, 2); // seqs 180..181 removed
    expect(deleted.map((e) => e.seq)).toEqual([180, 181]);
    store.unsafeReindex();
    const report = await verifyChains(store, checkpoints, keys);
    expect(report.ok).toBe(false);
    const chain = report.chains[0]!;
    expect(chain.damage).toMatchObject({ kind: 'modified', seq: 30 });
    expect(chain.damages[0]).toBe(chain.damage);
    expect(chain.damages.map((d) => [d.kind, d.seq, d.event_id])).toEqual([
      ['modified', 30, events[29]!.id],
      ['modified', 120, events[119]!.id],
      ['deleted', 180, events[181]!.id],
      ['modified', 250, events[249]!.id],
    ]);
    expect(report.damage_count).toBe(4);
    const text = formatVerifyReport(report);
    expect(text).toMatch(/chain gw-1: DAMAGED — MODIFIED at seq 30/);
    expect(text).toMatch(/^ {2}also MODIFIED at seq 120, /m);
    expect(text).toMatch(/^ {2}also DELETED at seq 180, .*events 180\.\.181 are missing/m);
    expect(text).toMatch(/^ {2}also MODIFIED at seq 250, /m);
    expect(text).toMatch(/4 damage\(s\) in all/);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('does not blame the event after a changed one, nor report an intact chain', async () => {
    const { store, checkpoints, keys } = await setup(120, 50);
    expect((await verifyChains(store, checkpoints, keys)).chains[0]!.damages).toEqual([]);
    const rows = store.unsafeRows();
    for (const i of [10, 11, 12, 60]) rows[i]!.prompt = 'changed';
    const report = await verifyChains(store, checkpoints, keys);
    expect(report.chains[0]!.damages.map((d) => [d.kind, d.seq])).toEqual([
      ['modified', 11],
      ['modified', 12],
      ['modified', 13],
      ['modified', 61],
    ]);
  });

  it('detects a consistent rewrite of the chain by the signed root', async () => {
    const { store, checkpoints, keys } = await setup(200, 50);
    const rows = store.unsafeRows();
    rows[120]!.user_id = 'someone-else';
    const chainer = createChainer({ chainId: 'gw-1', head: { seq: 120, hash: rows[119]!.hash! } });
    for (const e of rows.slice(120)) chainer.link(e);
    const report = await verifyChains(store, checkpoints, keys);
    expect(report.first_damage).toMatchObject({ kind: 'modified', seq: 101, checkpoint_size: 150 });
  });

  it('produces inclusion proofs that a third party can check, and that fail when altered', async () => {
    const { store, checkpoints, keys, events } = await setup(137, 50);
    for (const idx of [0, 1, 64, 99, 136]) {
      const doc = await buildInclusionProof(store, checkpoints, keys, events[idx]!.id);
      expect(doc).toMatchObject({ leaf_index: idx, tree_size: 137 });
      const roundTripped = JSON.parse(JSON.stringify(doc));
      expect(checkInclusionProof(roundTripped, keys)).toEqual({ ok: true });
      expect(
        checkInclusionProof({ ...roundTripped, event: { ...doc.event, cost_micro_usd: 0 } }, keys).ok,
      ).toBe(false);
      expect(checkInclusionProof({ ...roundTripped, leaf_index: (idx + 1) % 137 }, keys).ok).toBe(false);
      if (doc.proof.length > 0) {
        const proof = [...doc.proof];
        proof[0] = Buffer.alloc(32, 9).toString('base64');
        expect(checkInclusionProof({ ...roundTripped, proof }, keys).ok).toBe(false);
      }
      expect(checkInclusionProof(roundTripped, [generateSigningKey('tollgate-test').verifier()]).ok).toBe(
        false,
      );
    }
    await expect(buildInclusionProof(store, checkpoints, keys, 'nope')).rejects.toThrow(
      /TG_ERR_INTEGRITY_EVENT_NOT_FOUND/,
    );
  });

  it('verifies several chains and a chain whose events are all gone', async () => {
    const store = new MemoryEventStore();
    const checkpoints = new MemoryCheckpointStore();
    const key = generateSigningKey('tollgate-test');
    await populate({ store, checkpoints, key, chainId: 'a', n: 40, everyEvents: 10 });
    await populate({ store, checkpoints, key, chainId: 'b', n: 30, everyEvents: 10, startIndex: 500 });
    expect((await verifyChains(store, checkpoints, [key.verifier()])).ok).toBe(true);
    const rows = store.unsafeRows();
    rows.splice(0, rows.length, ...rows.filter((r) => r.chain_id !== 'b'));
    store.unsafeReindex();
    const report = await verifyChains(store, checkpoints, [key.verifier()]);
    expect(report.chains.find((c) => c.chain_id === 'a')!.ok).toBe(true);
    expect(report.first_damage).toMatchObject({
      chain_id: 'b',
      kind: 'truncated',
      seq: 1,
      checkpoint_size: 30,
    });
  });
});
