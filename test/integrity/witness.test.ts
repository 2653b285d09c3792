import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains } from '../../src/integrity/verify.js';
import { FileWitness, HttpWitness, readWitnessFile } from '../../src/integrity/witness.js';
import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { sampleEvent } from './sample-events.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(
  status: number,
): Promise<{ url: string; received: { type: string | undefined; note: string }[] }> {
  const received: { type: string | undefined; note: string }[] = [];
  const server = createServer((req, res) => {
    void body(req).then((note) => {
      received.push({ type: req.headers['content-type'], note });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`, received };
}

async function writeChain(store: MemoryEventStore, writer: CheckpointWriter, n: number): Promise<void> {
  const chainer = createChainer({ chainId: 'gw-1' });
  const events = Array.from({ length: n }, (_, i) => sampleEvent(i));
  events.forEach((e) => chainer.link(e));
  await store.append(events);
  writer.recordWritten(events);
  await writer.close();
}

describe('witnesses', () => {
  it('append every checkpoint to a file and POST it to a URL; verify uses the file to catch deleted checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-witness-'));
    const path = join(dir, 'checkpoints.jsonl');
    const http = await listen(204);
    const key = generateSigningKey('tollgate-gw-1');
    const store = new MemoryEventStore();
    const checkpoints = new MemoryCheckpointStore();
    const writer = CheckpointWriter.forNewChain({
      chainId: 'gw-1',
      key,
      store: checkpoints,
      clock: new ManualClock(),
      everyEvents: 10,
      witnesses: [new FileWitness(path), new HttpWitness(http.url)],
    });
    await writeChain(store, writer, 35);
    const stored = await checkpoints.list('gw-1');
    expect(stored.map((c) => c.tree_size)).toEqual([35]);
    appendFileSync(path, '{"torn line');
    const records = await readWitnessFile(path);
    expect(records.map((r) => r.note)).toEqual(stored.map((c) => c.note));
    expect(http.received).toEqual(stored.map((c) => ({ type: 'text/plain; charset=utf-8', note: c.note })));

    expect((await verifyChains(store, checkpoints, [key.verifier()], { witnessNotes: records })).ok).toBe(
      true,
    );
    // The database owner deletes the checkpoint: only the witness still knows it.
    checkpoints.unsafeRows().length = 0;
    expect((await verifyChains(store, checkpoints, [key.verifier()])).ok).toBe(true);
    const missing = await verifyChains(store, checkpoints, [key.verifier()], { witnessNotes: records });
    expect(missing.first_damage).toMatchObject({ kind: 'checkpoint_missing', checkpoint_size: 35 });
    // …and cuts the tail too: the witnessed size shows the cut, which comes first in the chain.
    store.unsafeRows().splice(30);
    store.unsafeReindex();
    expect((await verifyChains(store, checkpoints, [key.verifier()])).ok).toBe(true);
    const cut = await verifyChains(store, checkpoints, [key.verifier()], { witnessNotes: records });
    expect(cut.first_damage).toMatchObject({ kind: 'truncated', seq: 31, checkpoint_size: 35 });
  });

  it('reports a failing witness through onError and keeps checkpointing', async () => {
    const http = await listen(500);
    const errors: unknown[] = [];
    const key = generateSigningKey('tollgate-gw-1');
    const store = new MemoryEventStore();
    const checkpoints = new MemoryCheckpointStore();
    const writer = CheckpointWriter.forNewChain({
      chainId: 'gw-1',
      key,
      store: checkpoints,
      clock: new ManualClock(),
      everyEvents: 5,
      witnesses: [new HttpWitness(http.url), new FileWitness(join(tmpdir(), 'no-such-dir-tg', 'x.jsonl'))],
      onError: (e) => errors.push(e),
    });
    await writeChain(store, writer, 12);
    expect((await checkpoints.list('gw-1')).map((c) => c.tree_size)).toEqual([12]);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'TG_ERR_INTEGRITY_WITNESS',
      'TG_ERR_INTEGRITY_WITNESS',
    ]);
    expect(writer.getStats().failures).toBe(2);
  });

  it('stops and reports when fed a gap in seq instead of signing a broken tree', async () => {
    const errors: unknown[] = [];
    const key = generateSigningKey('tollgate-gw-1');
    const checkpoints = new MemoryCheckpointStore();
    const writer = CheckpointWriter.forNewChain({
      chainId: 'gw-1',
      key,
      store: checkpoints,
      clock: new ManualClock(),
      everyEvents: 1,
      onError: (e) => errors.push(e),
    });
    const chainer = createChainer({ chainId: 'gw-1' });
    const events = Array.from({ length: 3 }, (_, i) => sampleEvent(i));
    events.forEach((e) => chainer.link(e));
    writer.recordWritten([events[0]!, events[2]!]);
    await writer.close();
    // Nothing is signed once the tree cannot match the chain; verify's staleness check notices.
    expect(await checkpoints.list('gw-1')).toEqual([]);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['TG_ERR_INTEGRITY_CHAIN_STATE']);
  });
});
