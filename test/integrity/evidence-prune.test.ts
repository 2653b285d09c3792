/**
 * An evidence bundle of a chain whose start retention pruned: the prune record (h21a's signed
 * shape) is bundled with its proof, the checkpoint at the prune's last seq is the base of every
 * proof (its stored frontier stands for the deleted leaves), the kept events of the pruned range
 * are listed and match the record's kept_root; a bundle that passes a deletion off as a prune fails.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { EvidenceBundle } from '../../src/integrity/evidence-bundle.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import {
  HashListRoot,
  PRUNE_RECORD_ACTION,
  formatPruneBody,
  pruneRecordEvent,
  signRecordBody,
} from '../../src/integrity/prune-record.js';
import { CompactRange, EventLeafHasher } from '../../src/integrity/merkle.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { cli } from '../support/run-cli.js';
import { evidenceSite, type EvidenceSite } from './evidence-site.js';

const roots: string[] = [];
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** Deletes events 1..30 but the administrative ones, as a prune would, and chains its signed record. */
async function pruneThrough30(s: EvidenceSite): Promise<void> {
  const through = 30;
  const range = s.events.slice(0, through);
  const deleted = range.filter((e) => e.http_method !== 'ADMIN');
  const kept = range.filter((e) => e.http_method === 'ADMIN');
  const root = (list: typeof range): string => {
    const r = new HashListRoot();
    for (const e of list) r.add(e.hash!);
    return r.root();
  };
  const tree = new CompactRange();
  const leaf = new EventLeafHasher();
  for (const e of range) tree.append(leaf.hash(e.hash!));
  const clock = new ManualClock(Date.parse(s.events[74]!.timestamp) + 60_000);
  const body = formatPruneBody({
    chain_id: 'gw-1',
    first_seq: 1,
    last_seq: through,
    count: deleted.length,
    kept: kept.length,
    tree_root: tree.root().toString('hex'),
    pruned_root: root(deleted),
    kept_root: root(kept),
    last_hash: range[through - 1]!.hash!,
    policy: 'events:400d',
    cutoff: range[through - 1]!.timestamp,
    at: new Date(clock.now()).toISOString(),
  });
  const record = pruneRecordEvent(PRUNE_RECORD_ACTION, signRecordBody(body, s.key), clock);
  const last = s.events[74]!;
  createChainer({ chainId: 'gw-1', head: { seq: last.seq!, hash: last.hash! } }).link(record);
  const opened = await openEventStore(s.db);
  if (opened.kind !== 'sqlite') throw new Error('sqlite expected');
  opened.db.exec(`DELETE FROM events WHERE seq <= ${through} AND http_method != 'ADMIN'`);
  await opened.store.append([record]);
  await opened.store.close();
}

async function exported(): Promise<{ s: EvidenceSite; file: string }> {
  const s = await evidenceSite(Date.now() - 2 * DAY);
  roots.push(s.root);
  await pruneThrough30(s);
  const out = s.root + '-out';
  roots.push(out);
  mkdirSync(out);
  const file = join(out, 'evidence.json');
  const r = await cli(['evidence', '--db', s.db, '--out', file]);
  expect(r.err).toBe('');
  rmSync(s.root, { recursive: true, force: true });
  return { s, file };
}

describe('evidence bundle of a pruned chain', () => {
  it('proves everything from the checkpoint at the prune on, and the kept events through the record', async () => {
    const { file } = await exported();
    const b = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
    const chain = b.sections.chains[0]!;
    expect(chain.pruned!.through).toBe(30);
    expect(chain.pruned!.kept.map((k) => k.seq)).toEqual([5, 10, 15, 20, 25, 30]);
    expect(chain.checkpoints.map((c) => c.tree_size)).toEqual([30, 40, 50, 60, 70]);
    expect(b.sections.prunes.map((p) => p.event.seq)).toEqual([76]);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.out).toContain('ok   checkpoints: 5 signed checkpoint(s) in 1 chain(s), 4 consistency proof(s)');
    expect(r.out).toContain(
      'ok   anchors: 5 anchored checkpoint(s) agree with the bundled ones, 2 older than a prune',
    );
    expect(r.out).toContain(
      'ok   events: 17 event(s) (15 access, 1 prune, 1 hold): hashes recomputed, 9 proven in signed checkpoints, 2 in the tail after the newest checkpoint, 6 kept through a prune',
    );
    expect(r.out).toContain('ok   prunes: 1 signed prune record(s) account for every pruned range');
  });

  it('a bundle whose prune record was removed: the pruned range is a deletion passed off as a prune', async () => {
    const { file } = await exported();
    const b = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
    b.sections.prunes = [];
    writeFileSync(file, JSON.stringify(b));
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'FAIL chain gw-1, pruned: the chain says it was pruned up to seq 30, but its signed prune records end at 0: a deletion passed off as a prune',
    );
  });

  it('a kept event removed from the list: the record’s kept_root no longer matches', async () => {
    const { file } = await exported();
    const b = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
    b.sections.chains[0]!.pruned!.kept.splice(1, 1);
    writeFileSync(file, JSON.stringify(b));
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "FAIL prunes[0]: chain gw-1, seq 76: the events kept in seqs 1..30 are not the ones the record's kept_root names",
    );
    expect(r.out).toContain('FAIL access_log[1]: chain gw-1, seq 10, event');
  });
});

describe('tollgate prune, then tollgate evidence, then the store deleted', () => {
  it('the bundle of a store pruned by the real command verifies offline: prune record, held and admin events kept', async () => {
    const s = await evidenceSite(Date.now() - 2 * DAY);
    roots.push(s.root);
    const pruned = await cli(['prune', '--db', s.db, '--events', '1d']);
    expect(pruned.code).toBe(0);
    const out = s.root + '-out';
    roots.push(out);
    mkdirSync(out);
    const file = join(out, 'evidence.json');
    const r = await cli(['evidence', '--db', s.db, '--out', file]);
    expect(r.out).toContain('verify at export: OK');
    expect(r.code).toBe(0);
    rmSync(s.root, { recursive: true, force: true });
    const b = JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
    // `tollgate prune` chains its record in the CLI's own chain; the pruned chain is gw-1.
    const chain = b.sections.chains.find((c) => c.chain_id === 'gw-1')!;
    expect(chain.pruned).not.toBeNull();
    // Kept through the prune: the admin events and the events of user-7, whom the hold covers.
    const keptSeqs = chain.pruned!.kept.map((k) => k.seq);
    for (const e of s.events.filter((x) => x.seq! <= chain.pruned!.through))
      expect(keptSeqs.includes(e.seq!), `seq ${e.seq}`).toBe(
        e.http_method === 'ADMIN' || e.user_id === 'user-7',
      );
    expect(b.sections.prunes.length).toBeGreaterThan(0);
    const v = await cli(['verify', '--evidence', file]);
    expect(v.out).toMatch(/ok {3}prunes: \d+ signed prune record\(s\) account for every pruned range/);
    expect(v.out).toContain('ok   store verify at export: OK');
    expect(v.out).toContain('verify --evidence: OK');
    expect(v.code).toBe(0);
  });
});
