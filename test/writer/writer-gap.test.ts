/**
 * Writer gaps end to end on a real SQLite store (docs/integrity.md "Accounted gaps"): the store
 * fails and the spool is full, so events are lost; the writer coalesces them into one gap, chains a
 * gap record once the store takes writes again, checkpoints go on past the hole, and
 * `tollgate verify` reports an accounted gap (exit 0, 1 with --strict). Tampering next to the gap
 * or with the record stays a failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writerGapEvent } from '../../src/integrity/gap-event.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { ManualClock } from '../../src/core/clock.js';
import { eventHash } from '../../src/integrity/canonical-json.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { buildInclusionProof, checkInclusionProof } from '../../src/integrity/inclusion-proof.js';
import { generateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import { formatVerifyReport } from '../../src/integrity/verify-report-format.js';
import { verifyChains } from '../../src/integrity/verify.js';
import { AuditPipeline } from '../../src/pipeline/pipeline.js';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteCheckpointStore } from '../../src/store/sqlite/sqlite-checkpoints.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { DiskSpool } from '../../src/writer/disk-spool.js';
import { EventWriter, type WriterGap } from '../../src/writer/event-writer.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { cli } from '../support/run-cli.js';
import { SwitchableStore } from './switchable-store.js';

interface Episode {
  dir: string;
  dbPath: string;
  db: SqliteDatabase;
  store: SqliteEventStore;
  checkpoints: SqliteCheckpointStore;
  key: SigningKey;
  keysFile: string;
  writer: EventWriter;
  gapLog: WriterGap[];
  /** Every event handed to the pipeline, by seq. */
  bySeq: Map<number, AuditEvent>;
}

const dirs: string[] = [];
const dbs: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * 30 events stored; the store fails and the spool (1 byte) takes nothing: 25 events lost in one
 * flush and 5 more one by one (seqs 31..60); the store comes back: the gap record (seq 61) and 25
 * more events (62..86) are stored. Checkpoints every 10 events.
 */
async function diskFullEpisode(): Promise<Episode> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-gap-'));
  dirs.push(dir);
  const dbPath = join(dir, 'tollgate.db');
  const db = openSqlite(dbPath);
  dbs.push(db);
  const store = new SqliteEventStore(db);
  const failing = new SwitchableStore(store);
  const checkpoints = new SqliteCheckpointStore(db);
  const key = generateSigningKey('tollgate-test');
  const keysFile = join(dir, 'verifier.keys');
  writeFileSync(keysFile, key.verifierKey + '\n');
  const clock = new ManualClock();
  const cpw = CheckpointWriter.forNewChain({
    chainId: 'gw-1',
    key,
    store: checkpoints,
    clock,
    everyEvents: 10,
    everyMs: 3_600_000,
  });
  const gapLog: WriterGap[] = [];
  const writer = new EventWriter({
    store: failing,
    clock,
    policy: 'fail-open',
    maxQueue: 1000,
    batchSize: 10,
    spool: new DiskSpool(join(dir, 'spool.jsonl'), 1),
    retryIntervalMs: 3_600_000, // the test calls replaySpool itself
    onGap: (g) => gapLog.push({ ...g }),
    onWritten: (events) => cpw.recordWritten(events),
  });
  const pipeline = new AuditPipeline({
    redactor: { apply: () => undefined },
    chainer: createChainer({ chainId: 'gw-1' }),
    writer,
  });
  writer.onLost((range) => cpw.recordLost(range));
  writer.recordGapsWith((gap) => pipeline.recordEvent(writerGapEvent(gap, clock)));
  const bySeq = new Map<number, AuditEvent>();
  const record = (from: number, n: number): void => {
    for (let i = from; i < from + n; i++) {
      const e = pipeline.recordEvent(sampleEvent(i));
      bySeq.set(e.seq!, e);
      clock.advance(100);
    }
  };

  record(0, 30);
  await writer.drain();
  failing.down = true;
  record(30, 25);
  await writer.drain();
  for (let i = 55; i < 60; i++) {
    record(i, 1);
    await writer.drain();
  }
  expect(writer.gaps, 'one open gap while nothing can be written').toHaveLength(1);
  expect(gapLog, 'the gap is logged once, when it closes').toHaveLength(0);
  // Probing while down keeps the writer down.
  await writer.replaySpool();
  expect(writer.stats().storeAvailable).toBe(false);

  failing.down = false;
  await writer.replaySpool();
  expect(writer.stats().storeAvailable).toBe(true);
  record(60, 25);
  await writer.drain();
  await cpw.close();
  await writer.close();
  for (const [, e] of bySeq) expect(e.chain_id).toBe('gw-1');
  // The gap record was chained by the writer's recorder: take it (and every stored row) from the store.
  for (const r of await store.query({ chainId: 'gw-1', order: 'asc' })) bySeq.set(r.seq!, r);
  return { dir, dbPath, db, store, checkpoints, key, keysFile, writer, gapLog, bySeq };
}

describe('writer gaps', () => {
  it('coalesces lost events into one gap, chains its record, and verify reports an accounted gap (exit 0; --strict exit 1)', async () => {
    const ep = await diskFullEpisode();
    const s = ep.writer.stats();
    expect(s.dropped).toBe(30);
    expect(s.gapsUnrecorded).toBe(0);
    expect(ep.writer.gaps).toEqual([
      {
        chain_id: 'gw-1',
        first_seq: 31,
        last_seq: 60,
        count: 30,
        reason: 'spool_full',
        at: expect.any(String),
        last_hash: ep.bySeq.get(60)!.hash,
      },
    ]);
    expect(ep.gapLog).toHaveLength(1);

    // The record is an administrative event in the same chain, right after the lost events.
    const rows = await ep.store.query({ chainId: 'gw-1', order: 'asc' });
    expect(rows.map((r) => r.seq)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => i + 1),
      ...Array.from({ length: 26 }, (_, i) => i + 61),
    ]);
    const rec = rows.find((r) => r.seq === 61)!;
    expect(rec).toMatchObject({
      endpoint: 'admin:audit.gap',
      http_method: 'ADMIN',
      request_source: 'writer',
      status: 'SERVER_ERROR',
      error_code: 'TG_ERR_SPOOL_FULL',
    });
    expect(rec.error_message).toBe(
      `events not stored: chain=gw-1 seq=31..60 count=30 reason=spool_full since=${ep.writer.gaps[0]!.at} last_hash=${ep.bySeq.get(60)!.hash}`,
    );
    expect(rec.prev_hash).toBe(ep.bySeq.get(60)!.hash);

    const keys = [ep.key.verifier()];
    const report = await verifyChains(ep.store, ep.checkpoints, keys);
    expect(report.ok).toBe(true);
    expect(report.first_damage).toBeNull();
    expect(report).toMatchObject({ accounted_gaps: 1, events_not_stored: 30, events_checked: 56 });
    const chain = report.chains[0]!;
    expect(chain).toMatchObject({ ok: true, tree_size: 86, events_checked: 56 });
    expect(chain.accounted_gaps).toEqual([
      {
        chain_id: 'gw-1',
        first_seq: 31,
        last_seq: 60,
        count: 30,
        reason: 'spool_full',
        at: ep.writer.gaps[0]!.at,
        last_hash: ep.bySeq.get(60)!.hash,
        record_seq: 61,
        record_event_id: rec.id,
      },
    ]);
    const text = formatVerifyReport(report);
    expect(text).toContain(
      `warning: accounted gap: 30 events not stored (spool_full) at ${ep.writer.gaps[0]!.at} — seqs 31..60, gap record at seq 61`,
    );
    expect(text).toMatch(/^chain gw-1: intact with accounted gaps — 56 events stored of 86/m);
    expect(text).toMatch(/^verify: OK — .*; 1 accounted gap\(s\): 30 event\(s\) not stored$/m);

    const strict = await verifyChains(ep.store, ep.checkpoints, keys, { strict: true });
    expect(strict.ok).toBe(false);
    expect(strict.first_damage).toBeNull();
    expect(formatVerifyReport(strict)).toMatch(
      /^verify: FAILED — 1 accounted gap\(s\): 30 event\(s\) not stored \(--strict: counted as a failure\)$/m,
    );

    // The command line: exit 0 with the warning, 1 with --strict, the gaps in --json.
    const plain = await cli(['verify', '--db', ep.dbPath, '--keys', ep.keysFile]);
    expect(plain.code, plain.out + plain.err).toBe(0);
    expect(plain.out).toContain('accounted gap: 30 events not stored (spool_full)');
    const strictCli = await cli(['verify', '--db', ep.dbPath, '--keys', ep.keysFile, '--strict']);
    expect(strictCli.code).toBe(1);
    const json = await cli(['verify', '--db', ep.dbPath, '--keys', ep.keysFile, '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out) as typeof report;
    expect(parsed.chains[0]!.accounted_gaps).toEqual(chain.accounted_gaps);
    expect(parsed).toMatchObject({ ok: true, accounted_gaps: 1, events_not_stored: 30, strict: false });
  });

  it('checkpoints continue past the gap, verify against the tree, and inclusion proofs work on both sides', async () => {
    const ep = await diskFullEpisode();
    const sizes = (await ep.checkpoints.list('gw-1')).map((c) => c.tree_size);
    expect(sizes.filter((n) => n <= 30).length).toBeGreaterThan(0);
    expect(sizes.filter((n) => n > 60).length, `checkpoints: ${sizes.join(',')}`).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBe(86);
    const keys = [ep.key.verifier()];
    const report = await verifyChains(ep.store, ep.checkpoints, keys);
    expect(report.chains[0]!.latest_checkpoint?.tree_size).toBe(86);
    expect(report.chains[0]!.checkpoints_checked).toBe(sizes.length);
    for (const seq of [5, 61, 70, 86]) {
      const proof = await buildInclusionProof(ep.store, ep.checkpoints, keys, ep.bySeq.get(seq)!.id);
      expect(proof.leaf_index).toBe(seq - 1);
      expect(checkInclusionProof(proof, keys)).toEqual({ ok: true });
    }
    // And from the first checkpoint on, the same gap is read from --from as well.
    const first = (await ep.checkpoints.list('gw-1'))[0]!;
    const from = await verifyChains(ep.store, ep.checkpoints, keys, { from: first.note });
    expect(from).toMatchObject({ ok: true, accounted_gaps: 1, events_not_stored: 30 });
    // From a checkpoint after the gap: the trusted prefix holds the hole and its record.
    const after = (await ep.checkpoints.list('gw-1')).find((c) => c.tree_size > 61 && c.tree_size < 86)!;
    const fromAfter = await verifyChains(ep.store, ep.checkpoints, keys, { from: after.note });
    expect(fromAfter).toMatchObject({ ok: true, accounted_gaps: 1, events_not_stored: 30 });
    expect(fromAfter.chains[0]!.events_checked).toBe(86 - after.tree_size);
    // A checkpoint writer that resumes after a restart continues over the accounted gap, also
    // when its newest checkpoint is from before the gap (it reads the hole and its record).
    const resumed = await CheckpointWriter.resume(
      { chainId: 'gw-1', key: ep.key, store: ep.checkpoints, clock: new ManualClock() },
      ep.store,
    );
    expect(resumed.treeSize).toBe(86);
    const beforeGap = Math.max(...sizes.filter((n) => n <= 30));
    const laterCheckpoints = ep.db.prepare('SELECT * FROM checkpoints WHERE tree_size > ?').all(beforeGap);
    ep.db.prepare('DELETE FROM checkpoints WHERE tree_size > ?').run(beforeGap);
    const fromBefore = await CheckpointWriter.resume(
      { chainId: 'gw-1', key: ep.key, store: ep.checkpoints, clock: new ManualClock() },
      ep.store,
    );
    expect(fromBefore.treeSize).toBe(86);
    const again = await fromBefore.checkpointNow();
    const cp = await verifyChains(ep.store, ep.checkpoints, keys);
    expect(cp.ok).toBe(true);
    expect(cp.chains[0]!.latest_checkpoint?.note).toBe(again!.note);
    // Without its record the hole is not accepted: resume refuses to sign over the chain.
    ep.db.prepare('DELETE FROM checkpoints WHERE tree_size > ?').run(beforeGap);
    ep.db.prepare('DELETE FROM events WHERE chain_id = ? AND seq = 61').run('gw-1');
    await expect(
      CheckpointWriter.resume(
        { chainId: 'gw-1', key: ep.key, store: ep.checkpoints, clock: new ManualClock() },
        ep.store,
      ),
    ).rejects.toMatchObject({
      code: 'TG_ERR_INTEGRITY_BROKEN',
    });
    expect(laterCheckpoints.length).toBeGreaterThan(0);
  });

  it('tampering next to an accounted gap, or with its record, is still a failure', async () => {
    const cases: Array<{
      name: string;
      tamper: (ep: Episode) => void;
      kind: string;
      seq: number;
      detail: RegExp;
    }> = [
      {
        name: 'delete the event before the gap',
        tamper: (ep) => del(ep, 30),
        kind: 'deleted',
        seq: 30,
        detail: /names events 31\.\.60 only/,
      },
      {
        name: 'delete the event after the record',
        tamper: (ep) => del(ep, 62),
        kind: 'deleted',
        seq: 62,
        detail: /event 62/,
      },
      {
        name: 'delete the gap record',
        tamper: (ep) => del(ep, 61),
        kind: 'deleted',
        seq: 31,
        detail: /no gap record names these events/,
      },
      {
        name: 'edit the record (range), hash left alone',
        tamper: (ep) => edit(ep, 61, (m) => m.replace('seq=31..60 count=30', 'seq=31..59 count=29'), false),
        kind: 'modified',
        seq: 61,
        detail: /recomputed hash differs/,
      },
      {
        name: 'edit the record (range) and recompute its hash',
        tamper: (ep) => edit(ep, 61, (m) => m.replace('seq=31..60 count=30', 'seq=31..59 count=29'), true),
        kind: 'deleted',
        seq: 60,
        detail: /account for events 31\.\.59 only/,
      },
      {
        name: 'edit the record (last hash) and recompute its hash',
        tamper: (ep) =>
          edit(ep, 61, (m) => m.replace(/last_hash=[0-9a-f]{64}/, `last_hash=${'a'.repeat(64)}`), true),
        kind: 'deleted',
        seq: 31,
        detail: /does not link to the last hash it recorded/,
      },
    ];
    for (const c of cases) {
      const ep = await diskFullEpisode();
      c.tamper(ep);
      const report = await verifyChains(ep.store, ep.checkpoints, [ep.key.verifier()]);
      expect(report.ok, c.name).toBe(false);
      expect(report.first_damage, c.name).toMatchObject({ kind: c.kind, seq: c.seq });
      expect(report.first_damage!.detail, c.name).toMatch(c.detail);
      const run = await cli(['verify', '--db', ep.dbPath, '--keys', ep.keysFile]);
      expect(run.code, c.name).toBe(1);
      expect(run.out, c.name).toMatch(/verify: FAILED/);
    }
  });

  it('a gap record lost itself (the store fails again before it is written) is recorded again, and both gaps are accounted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-gap-'));
    dirs.push(dir);
    const db = openSqlite(join(dir, 'tollgate.db'));
    dbs.push(db);
    const store = new SqliteEventStore(db);
    const failing = new SwitchableStore(store);
    const checkpoints = new SqliteCheckpointStore(db);
    const key = generateSigningKey('tollgate-test');
    const clock = new ManualClock();
    const cpw = CheckpointWriter.forNewChain({
      chainId: 'gw-1',
      key,
      store: checkpoints,
      clock,
      everyEvents: 5,
      everyMs: 3_600_000,
    });
    const writer = new EventWriter({
      store: failing,
      clock,
      policy: 'fail-open',
      maxQueue: 1000,
      batchSize: 10,
      spool: new DiskSpool(join(dir, 'spool.jsonl'), 1),
      retryIntervalMs: 3_600_000,
      onWritten: (events) => cpw.recordWritten(events),
    });
    const pipeline = new AuditPipeline({
      redactor: { apply: () => undefined },
      chainer: createChainer({ chainId: 'gw-1' }),
      writer,
    });
    writer.onLost((range) => cpw.recordLost(range));
    writer.recordGapsWith((gap) => pipeline.recordEvent(writerGapEvent(gap, clock)));
    const record = (from: number, n: number): void => {
      for (let i = from; i < from + n; i++) pipeline.recordEvent(sampleEvent(i));
    };
    record(0, 10);
    await writer.drain();
    failing.down = true;
    record(10, 10); // seqs 11..20 lost
    await writer.drain();
    failing.down = false;
    await writer.replaySpool(); // the record of 11..20 is chained (seq 21) and queued...
    failing.down = true;
    await writer.drain(); // ...and lost with the store failing again
    expect(writer.stats().gapsUnrecorded).toBe(1);
    failing.down = false;
    await writer.replaySpool(); // records for 11..20 (again) and for 21..21
    record(20, 5);
    await writer.drain();
    await cpw.close();
    await writer.close();
    expect(writer.stats()).toMatchObject({ dropped: 11, gapsUnrecorded: 0 });
    const report = await verifyChains(store, checkpoints, [key.verifier()]);
    expect(report.ok, JSON.stringify(report.first_damage)).toBe(true);
    expect(report.chains[0]!.accounted_gaps.map((g) => [g.first_seq, g.last_seq, g.record_seq])).toEqual([
      [11, 20, 22],
      [21, 21, 23],
    ]);
    expect(report.chains[0]!.tree_size).toBe(28);
    expect(report.chains[0]!.latest_checkpoint?.tree_size).toBe(28);
  });

  it('a gap record that names events the chain does not miss is a failure', async () => {
    const ep = await diskFullEpisode();
    // A forged record appended at the head, claiming that stored events 10..12 were lost.
    const heads = await ep.store.chains();
    const head = heads.find((h) => h.chain_id === 'gw-1')!;
    const clock = new ManualClock();
    const forged = writerGapEvent(
      {
        chain_id: 'gw-1',
        first_seq: 10,
        last_seq: 12,
        count: 3,
        reason: 'spool_full',
        at: new Date(0).toISOString(),
        last_hash: ep.bySeq.get(12)!.hash!,
      },
      clock,
    );
    createChainer({ chainId: 'gw-1', head: { seq: head.seq, hash: head.hash } }).link(forged);
    await ep.store.append([forged]);
    const report = await verifyChains(ep.store, ep.checkpoints, [ep.key.verifier()]);
    expect(report.ok).toBe(false);
    expect(report.first_damage).toMatchObject({ kind: 'modified', seq: 87, event_id: forged.id });
  });
});

function del(ep: Episode, seq: number): void {
  ep.db.prepare('DELETE FROM events WHERE chain_id = ? AND seq = ?').run('gw-1', seq);
}

function edit(ep: Episode, seq: number, change: (message: string) => string, rehash: boolean): void {
  const row = ep.bySeq.get(seq)!;
  const changed: AuditEvent = { ...row, error_message: change(row.error_message!) };
  expect(changed.error_message).not.toBe(row.error_message);
  if (rehash) changed.hash = eventHash({ ...changed, hash: null });
  ep.db
    .prepare('UPDATE events SET error_message = ?, hash = ? WHERE id = ?')
    .run(changed.error_message, changed.hash, row.id);
}
