/**
 * The attacker who holds write access to the store and to the data folder beside it (the events,
 * the checkpoints table, the signing key file and its keyring) but not to the anchor folder. Each
 * attack leaves a history that is consistent in itself, re-signed with the key it found (or one it
 * made); `tollgate verify` must fail and say what and where, from the anchors alone.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { eventHash } from '../../src/integrity/canonical-json.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { GENESIS_PREV_HASH } from '../../src/integrity/hash-chain.js';
import { generateSigningKey, keyringPath, type SigningKey } from '../../src/integrity/signing-key.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { cli } from '../support/run-cli.js';
import { anchoredSite, type AnchoredSite } from './anchored-site.js';

const roots: string[] = [];
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true });
});

/** A store of 60 events with checkpoints every 10, anchored as the gateway anchors them. */
async function site(startMs = Date.UTC(2026, 0, 1)): Promise<AnchoredSite> {
  const s = await anchoredSite(startMs);
  roots.push(s.root);
  return s;
}

/**
 * Replaces the store's chain with `events` (re-linked and re-hashed from seq 1) and its checkpoints
 * with new ones signed by `key`, every 10 events and at the end: a history consistent in itself.
 */
async function rewrite(
  db: string,
  key: SigningKey,
  edit: (events: AuditEvent[]) => AuditEvent[],
): Promise<void> {
  const opened = await openEventStore(db);
  if (opened.kind !== 'sqlite') throw new Error('sqlite expected');
  const { store, checkpoints } = opened;
  const events: AuditEvent[] = [];
  for await (const e of store.iterateChain('gw-1')) events.push(e);
  const kept = edit(events);
  let prev = GENESIS_PREV_HASH;
  kept.forEach((e, i) => {
    e.seq = i + 1;
    e.prev_hash = prev;
    e.hash = eventHash(e);
    prev = e.hash;
  });
  opened.db.exec('DELETE FROM events; DELETE FROM checkpoints');
  await store.append(kept);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const writer = CheckpointWriter.forNewChain({
    chainId: 'gw-1',
    key,
    store: checkpoints,
    clock,
    everyEvents: 10,
  });
  for (let i = 0; i < kept.length; i += 10) {
    writer.recordWritten(kept.slice(i, i + 10));
    clock.advance(1000);
  }
  await writer.close();
  await store.close();
}

describe('tamper suite: write access to the store and data folder, not to the anchors', () => {
  it('an untouched store verifies against its anchors (exit 0), and the output names the anchor file', async () => {
    const s = await site();
    const r = await cli(['verify', '--db', s.db]);
    expect(r.out).toContain(`anchors: ${s.anchorFile} — 6 checkpoint(s), 1 pinned key(s)`);
    expect(r.out).toMatch(/chain gw-1: newest checkpoint at tree size 60, .* old; anchored up to 60/);
    expect(r.code).toBe(0);
  });

  it('truncate and re-chain with the stolen key: TRUNCATED after the new end, naming the anchored size', async () => {
    const s = await site();
    await rewrite(s.db, s.key, (events) => events.slice(0, 25));
    const r = await cli(['verify', '--db', s.db]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('chain gw-1: DAMAGED — TRUNCATED at seq 26');
    expect(r.out).toContain('the chain ends at seq 25 but a signed witness checkpoint covers 60 events');
    expect(r.out).toContain(`anchors: ${s.anchorFile}`);
  });

  it('an anchor from an older checkpoint still catches a truncation below it', async () => {
    const s = await site();
    // Only the anchor lines up to tree size 30 (e.g. the anchors shipped off before a crash).
    const lines = readFileSync(s.anchorFile, 'utf8').split('\n');
    const older = join(s.anchorFile + '.older');
    writeFileSync(
      older,
      lines.filter((l) => l.includes('"kind":"key"') || /"tree_size":(10|20|30),/.test(l)).join('\n') + '\n',
    );
    await rewrite(s.db, s.key, (events) => events.slice(0, 25));
    const r = await cli(['verify', '--db', s.db, '--anchors', older]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('TRUNCATED at seq 26');
    expect(r.out).toContain('a signed witness checkpoint covers 30 events');
  });

  it('rewrite one event and re-chain everything after it: MODIFIED, from the last anchored root that matches', async () => {
    const s = await site();
    await rewrite(s.db, s.key, (events) => {
      events[14]!.model_used = 'gpt-4.1-nano';
      return events;
    });
    const r = await cli(['verify', '--db', s.db]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'MODIFIED at seq 11, checkpoint at tree size 20: events 11..20 were rewritten consistently, but the tree root differs from the signed witness checkpoint at tree size 20',
    );
  });

  it('delete the checkpoints: CHECKPOINT MISSING at the first anchored one', async () => {
    const s = await site();
    const opened = await openEventStore(s.db);
    if (opened.kind !== 'sqlite') throw new Error('sqlite expected');
    opened.db.exec('DELETE FROM checkpoints');
    await opened.store.close();
    const r = await cli(['verify', '--db', s.db]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'CHECKPOINT MISSING at checkpoint at tree size 10: the witness holds a checkpoint at tree size 10 that the store does not',
    );
  });

  it('replace the signing key (key file and keyring) and re-sign every checkpoint: CHECKPOINT FORGED naming the key', async () => {
    const s = await site();
    const forged = generateSigningKey('tollgate-gw-1');
    writeFileSync(s.keyPath, forged.privateKeyText() + '\n', { mode: 0o600 });
    writeFileSync(keyringPath(s.keyPath), forged.verifierKey + '\n');
    await rewrite(s.db, forged, (events) => events);
    const id = forged.keyId.toString(16).padStart(8, '0');
    const r = await cli(['verify', '--db', s.db]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `CHECKPOINT FORGED at checkpoint at tree size 10: checkpoint at tree size 10 is signed by key tollgate-gw-1+${id}, which the anchors in ${s.anchorFile} never trusted and no trusted key announced (it is in the data-folder keyring): the signing key was replaced`,
    );
  });

  it('without the anchor file the same forgery passes: what the anchors add', async () => {
    const s = await site();
    const forged = generateSigningKey('tollgate-gw-1');
    writeFileSync(s.keyPath, forged.privateKeyText() + '\n', { mode: 0o600 });
    writeFileSync(keyringPath(s.keyPath), forged.verifierKey + '\n');
    await rewrite(s.db, forged, (events) => events.slice(0, 25));
    rmSync(s.anchorFile);
    const r = await cli(['verify', '--db', s.db]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('warning: no anchor file: nothing outside the store vouches for it');
    // --strict refuses a chain no anchor covers.
    const strict = await cli(['verify', '--db', s.db, '--strict', '--max-checkpoint-age', '10000d']);
    expect(strict.code).toBe(1);
    expect(strict.out).toContain('CHECKPOINT MISSING: no anchor file was found');
  });

  it('copying the store elsewhere does not shed the anchors: --anchors names them', async () => {
    const s = await site();
    const other = join(s.db + '.copy');
    copyFileSync(s.db, other);
    await rewrite(other, s.key, (events) => events.slice(0, 40));
    const r = await cli(['verify', '--db', other, '--anchors', s.anchorFile]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('TRUNCATED at seq 41');
  });
});

describe('checkpoint age', () => {
  it('verify reports the newest checkpoint age and fails past --max-checkpoint-age, naming the chain and size', async () => {
    // Checkpoints made two hours ago (the site's clock), verified now.
    const s = await site(Date.now() - 2 * 3_600_000);
    const ok = await cli(['verify', '--db', s.db, '--max-checkpoint-age', '3h']);
    expect(ok.out).toMatch(/newest checkpoint at tree size 60, (1 h 59|2 h 0) min old \(max 3 h 0 min\)/);
    expect(ok.code).toBe(0);
    const old = await cli(['verify', '--db', s.db, '--max-checkpoint-age', '1h']);
    expect(old.code).toBe(1);
    // The age is about two hours (the test's own run time added), so matched loosely.
    expect(old.out).toMatch(
      /chain gw-1: DAMAGED — CHECKPOINT MISSING at checkpoint at tree size 60: the newest valid checkpoint \(tree size 60, (1 h 59|2 h 0) min old\) is older than 1 h 0 min/,
    );
    // --strict: 1 day unless set, so two hours pass.
    expect((await cli(['verify', '--db', s.db, '--strict'])).code).toBe(0);
    expect((await cli(['verify', '--db', s.db, '--max-checkpoint-age', 'soon'])).code).toBe(2);
  });

  it('a chain with events and no checkpoint fails under --strict', async () => {
    const s = await site(Date.now());
    const opened = await openEventStore(s.db);
    if (opened.kind !== 'sqlite') throw new Error('sqlite expected');
    opened.db.exec('DELETE FROM checkpoints');
    await opened.store.close();
    rmSync(s.anchorFile);
    const r = await cli(['verify', '--db', s.db, '--strict']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('CHECKPOINT MISSING: the chain has events but no valid checkpoint');
  });
});
