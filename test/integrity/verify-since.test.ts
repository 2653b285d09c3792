/**
 * `tollgate verify --since-checkpoint`: after a run that found the chain intact, only the events
 * after the checkpoint it verified are checked. A tampering after that checkpoint is found; one
 * before it is out of scope of the incremental run, which says so (a full verify finds it). The
 * start point is tied to the checkpoint's signature: a forged record or frontier makes the run
 * verify the whole chain, and say why.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { verifiedCheckpointsPath } from '../../src/integrity/verified-checkpoints.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { cli } from '../support/run-cli.js';
import { anchoredSite, gatewayWitness, type AnchoredSite } from './anchored-site.js';
import { sampleEvent } from './sample-events.js';

const roots: string[] = [];
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true });
});

const START = Date.UTC(2026, 0, 1);

/** 60 events (checkpoints every 10, anchored), verified once in full, then 25 more events. */
async function verifiedThenGrown(): Promise<AnchoredSite> {
  const s = await anchoredSite(START);
  roots.push(s.root);
  const full = await cli(['verify', '--db', s.db]);
  expect(full.code).toBe(0);
  await appendEvents(s, 25);
  return s;
}

async function appendEvents(s: AnchoredSite, n: number, firstIndex = 5_000): Promise<void> {
  const { store, checkpoints } = await openEventStore(s.db);
  const head = (await store.chains()).find((h) => h.chain_id === 'gw-1')!;
  const clock = new ManualClock(START + 3_600_000);
  const chainer = createChainer({ chainId: 'gw-1', head: { seq: head.seq, hash: head.hash } });
  const writer = await CheckpointWriter.resume(
    {
      chainId: 'gw-1',
      key: s.key,
      store: checkpoints,
      clock,
      everyEvents: 10,
      witnesses: [gatewayWitness(s.anchorFile, s.key, clock.now())],
    },
    store,
  );
  const events: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e = sampleEvent(firstIndex + i);
    chainer.link(e);
    events.push(e);
    await store.append([e]);
    writer.recordWritten([e]);
    clock.advance(1000);
  }
  await writer.close();
  await store.close();
}

async function sql(s: AnchoredSite, statement: string): Promise<void> {
  const opened = await openEventStore(s.db);
  if (opened.kind !== 'sqlite') throw new Error('sqlite expected');
  opened.db.prepare(statement).run();
  await opened.store.close();
}

describe('verify --since-checkpoint', () => {
  it('checks only the events after the checkpoint the last run verified, and says what it left out', async () => {
    const s = await verifiedThenGrown();
    const recorded = readFileSync(verifiedCheckpointsPath(s.anchorFile), 'utf8').trim().split('\n');
    expect(recorded.map((l) => (JSON.parse(l) as { tree_size: number }).tree_size)).toEqual([60]);

    const r = await cli(['verify', '--db', s.db, '--since-checkpoint']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('chain gw-1: intact — 85 events');
    expect(r.out).toMatch(
      /since checkpoint: 25 event\(s\) after the verified checkpoint at tree size 60 \(2026-01-01T\S+\) checked; events 1\.\.60 were not re-checked/,
    );
    const json = JSON.parse((await cli(['verify', '--db', s.db, '--since-checkpoint', '--json'])).out) as {
      events_checked: number;
      chains: { since_checkpoint: { tree_size: number } }[];
    };
    // The first incremental run recorded the checkpoint at 85: nothing new since.
    expect(json.chains[0]!.since_checkpoint.tree_size).toBe(85);
    expect(json.events_checked).toBe(0);
  });

  it('finds a tampering after the verified checkpoint, with what and where', async () => {
    const s = await verifiedThenGrown();
    await sql(s, `UPDATE events SET user_id = 'mallory' WHERE seq = 75`);
    const r = await cli(['verify', '--db', s.db, '--since-checkpoint']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /chain gw-1: DAMAGED — MODIFIED at seq 75, event \S+: event 75: recomputed hash differs/,
    );
    // A damaged chain records nothing: the next incremental run starts from the same checkpoint.
    const lines = readFileSync(verifiedCheckpointsPath(s.anchorFile), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
  });

  it('a tampering before the verified checkpoint is out of scope of the run, which says so; a full verify finds it', async () => {
    const s = await verifiedThenGrown();
    await sql(s, `UPDATE events SET user_id = 'mallory' WHERE seq = 30`);
    const since = await cli(['verify', '--db', s.db, '--since-checkpoint']);
    expect(since.code).toBe(0);
    expect(since.out).toContain('events 1..60 were not re-checked (out of scope of --since-checkpoint');
    const full = await cli(['verify', '--db', s.db]);
    expect(full.code).toBe(1);
    expect(full.out).toContain('MODIFIED at seq 30');
  });

  it('a changed event among the verified checkpoint’s last leaves makes the run verify the whole chain', async () => {
    const s = await verifiedThenGrown();
    // Tree size 60 = 0b111100: its last subtree holds events 57..60, read to tie the link to the root.
    await sql(s, `UPDATE events SET hash = '${'ab'.repeat(32)}' WHERE seq = 58`);
    const r = await cli(['verify', '--db', s.db, '--since-checkpoint']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "since checkpoint: verified the whole chain: events 57..60 (the checkpoint's last leaves) are not as signed",
    );
    expect(r.out).toContain('at seq 58');
  });

  it('a record naming a checkpoint that is not signed, or a stored frontier that was changed, is not trusted', async () => {
    const s = await verifiedThenGrown();
    const file = verifiedCheckpointsPath(s.anchorFile);
    const record = JSON.parse(readFileSync(file, 'utf8').trim()) as { note: string };
    appendFileSync(
      file,
      JSON.stringify({
        chain_id: 'gw-1',
        tree_size: 80,
        note: record.note.replace('\n60\n', '\n80\n'),
        verified_ms: 1,
      }) + '\n',
    );
    let r = await cli(['verify', '--db', s.db, '--since-checkpoint', '--json']);
    let chain = (
      JSON.parse(r.out) as { chains: { since_checkpoint_unusable?: string; events_checked: number }[] }
    ).chains[0]!;
    expect(chain.since_checkpoint_unusable).toMatch(/not among the valid checkpoints/);
    expect(chain.events_checked).toBe(85);

    // The full run above recorded 85; a frontier changed in the store no longer folds to the signed root.
    // 85 = 0b1010101: four subtree roots, replaced by four others.
    const forged = JSON.stringify(Array.from({ length: 4 }, () => '00'.repeat(32)));
    await sql(s, `UPDATE checkpoints SET frontier = '${forged}' WHERE tree_size = 85`);
    await appendEvents(s, 3, 6_000);
    r = await cli(['verify', '--db', s.db, '--since-checkpoint', '--json']);
    chain = (
      JSON.parse(r.out) as { chains: { since_checkpoint_unusable?: string; events_checked: number }[] }
    ).chains[0]!;
    expect(chain.since_checkpoint_unusable).toMatch(/frontier/);
    expect(chain.events_checked).toBe(88);
  });

  it('needs the anchors, and is not combined with --from or --event', async () => {
    const s = await verifiedThenGrown();
    expect((await cli(['verify', '--db', s.db, '--since-checkpoint', '--event', 'x'])).code).toBe(2);
  });
});
