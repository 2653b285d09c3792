/**
 * `tollgate evidence` and `tollgate verify --evidence`: a bundle made from a real SQLite store
 * with anchors verifies offline after the store, the data folder and the anchors are deleted;
 * each tampering with the bundle is found and named (what, and where in the bundle).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvidenceBundle } from '../../src/integrity/evidence-bundle.js';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { cli } from '../support/run-cli.js';
import { evidenceSite, type EvidenceSite } from './evidence-site.js';

const roots: string[] = [];
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true });
});

const DAY = 86_400_000;

async function site(): Promise<EvidenceSite> {
  const s = await evidenceSite(Date.now() - 2 * DAY);
  roots.push(s.root);
  return s;
}

/** Exports a bundle of the site into a folder outside it, then deletes the whole site. */
async function exportThenDeleteStore(s: EvidenceSite, extra: string[] = []): Promise<string> {
  const outDir = join(s.root + '-out');
  roots.push(outDir);
  rmSync(outDir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(outDir);
  const file = join(outDir, 'evidence.json');
  const r = await cli(['evidence', '--db', s.db, '--since', '90d', '--out', file, ...extra]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  rmSync(s.root, { recursive: true, force: true });
  expect(existsSync(s.db)).toBe(false);
  expect(existsSync(s.anchorFile)).toBe(false);
  return file;
}

const read = (file: string): EvidenceBundle => JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle;
const write = (file: string, b: EvidenceBundle): void => writeFileSync(file, JSON.stringify(b));

describe('tollgate evidence → tollgate verify --evidence, offline', () => {
  it('exports chains, checkpoints, anchors, keys, verify, access events with proofs, config; verifies with the store deleted', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    const chain = b.sections.chains[0]!;
    expect(chain.head).toMatchObject({ seq: 75, count: 75 });
    expect(chain.checkpoints.map((c) => c.tree_size)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(chain.consistency).toHaveLength(6);
    expect(chain.tail!.links.map((l) => l.seq)).toEqual([71, 72, 73, 74, 75]);
    expect(b.sections.anchors.checkpoints).toHaveLength(7);
    expect(b.sections.keys.pinned).toEqual([s.key.verifierKey]);
    expect(b.sections.keys.signer).toBe(s.key.verifierKey);
    expect(b.sections.verify.ok).toBe(true);
    // Every 5th event is an admin or dashboard action: 15 of them, as stored, with their hashes.
    expect(b.sections.access_log.map((e) => e.event.seq)).toEqual(
      Array.from({ length: 15 }, (_, i) => (i + 1) * 5),
    );
    expect(b.sections.access_log[0]!.event.hash).toBe(s.events[4]!.hash);
    expect(b.sections.access_log.filter((e) => e.proof !== null)).toHaveLength(14);
    expect(b.sections.prunes).toEqual([]);
    expect(b.sections.holds.records.map((h) => h.event.seq)).toEqual([33]);
    expect(b.sections.holds.records[0]!.proof).toMatchObject({ tree_size: 70 });
    expect(b.sections.holds.active).toMatchObject([
      { id: 'hold_0123456789', user: 'user-7', released_at: null },
    ]);
    expect(b.sections.config).toMatchObject({ checkpoints: { anchors: true } });

    const r = await cli(['verify', '--evidence', file]);
    expect(r.out).toContain('ok   manifest: 8 section digests match the manifest');
    expect(r.out).toContain(`ok   signature: by ${s.key.verifierKey.split('+').slice(0, 2).join('+')}`);
    expect(r.out).toContain('ok   checkpoints: 7 signed checkpoint(s) in 1 chain(s), 6 consistency proof(s)');
    expect(r.out).toContain('ok   anchors: 7 anchored checkpoint(s) agree with the bundled ones');
    expect(r.out).toContain(
      'ok   events: 16 event(s) (15 access, 0 prune, 1 hold): hashes recomputed, 15 proven in signed checkpoints, 1 in the tail after the newest checkpoint',
    );
    expect(r.out).toContain('ok   store verify at export: OK — 1 chain(s), 75 events and 14 checkpoints');
    // Without --keys the OK says what it rests on: the bundle's own keys.
    expect(r.out).toMatch(
      /verify --evidence: OK — \d+ checks passed, against the keys the bundle carries \(bundle anchors\): give --keys FILE/,
    );
    expect(r.code).toBe(0);

    const j = await cli(['verify', '--evidence', file, '--json']);
    const report = JSON.parse(j.out) as { ok: boolean; problems: unknown[]; keys_from: string };
    expect(report).toMatchObject({ ok: true, problems: [], keys_from: 'bundle anchors' });
  });

  it('with --keys: the auditor’s own copy of the verifier key passes; any other key fails, naming the signer', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const mine = join(file + '.keys');
    writeFileSync(mine, s.key.verifierKey + '\n');
    const held = await cli(['verify', '--evidence', file, '--keys', mine]);
    expect(held.code).toBe(0);
    expect(held.out).toMatch(
      /verify --evidence: OK — \d+ checks passed, against the keys you gave \(--keys\)$/m,
    );
    writeFileSync(mine, generateSigningKey('tollgate-gw-1').verifierKey + '\n');
    const r = await cli(['verify', '--evidence', file, '--keys', mine]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /FAIL signature: signed by key tollgate-gw-1\+[0-9a-f]{8}, which is not a trusted key/,
    );
    expect(r.out).toMatch(
      /FAIL chain gw-1, checkpoints\[0\] \(tree size 10\): signed by key tollgate-gw-1\+[0-9a-f]{8}, which no trusted key is or announced/,
    );
  });
});

describe('tampering with the bundle is detected, saying what and where', () => {
  it('an edited event: its section digest and its recomputed hash, naming the event', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    const target = b.sections.access_log[2]!.event;
    target.request_source = 'somebody-else';
    write(file, b);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `FAIL access_log[2]: chain gw-1, seq 15, event ${target.id}: the recomputed hash differs from the event's hash: the event was edited`,
    );
    expect(r.out).toMatch(
      /FAIL sections\.access_log: the section hashes to [0-9a-f]{16}… but the manifest lists/,
    );
    expect(r.out).toContain('verify --evidence: FAILED');
  });

  it('an edited event whose hash was recomputed too: its inclusion proof no longer reaches the signed root', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    const { eventHash } = await import('../../src/integrity/canonical-json.js');
    const target = b.sections.access_log[1]!.event;
    target.user_id = 'user-innocent';
    target.hash = eventHash(target);
    write(file, b);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `FAIL access_log[1]: chain gw-1, seq 10, event ${target.id}: the inclusion proof does not lead to the signed root at tree size 70`,
    );
  });

  it('a removed checkpoint: the consistency proofs and the anchors name its tree size', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    b.sections.chains[0]!.checkpoints.splice(2, 1); // tree size 30
    write(file, b);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'FAIL chain gw-1, consistency 20 → 30: no checkpoint at tree size 30 in the bundle: a checkpoint was removed',
    );
    expect(r.out).toContain(
      "FAIL anchors.checkpoints[2] (chain gw-1, tree size 30): no checkpoint of this tree size among the chain's bundled checkpoints: a checkpoint was removed",
    );
    expect(r.out).toMatch(/FAIL sections\.chains: the section hashes to/);
  });

  it('a swapped key: the checkpoints and the bundle signature are no longer by a trusted key', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    const other = generateSigningKey('tollgate-gw-1');
    b.sections.keys.pinned = [other.verifierKey];
    b.sections.anchors.keys = [{ verifier_key: other.verifierKey, at_ms: 0 }];
    write(file, b);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    const id = s.key.verifierKey.split('+').slice(0, 2).join('+');
    expect(r.out).toContain(
      `FAIL chain gw-1, checkpoints[0] (tree size 10): signed by key ${id}, which no trusted key is or announced: the signing key was swapped`,
    );
    expect(r.out).toContain(`FAIL signature: signed by key ${id}, which is not a trusted key`);
    expect(r.out).toMatch(/FAIL sections\.keys: the section hashes to/);
    expect(r.out).toMatch(/FAIL sections\.anchors: the section hashes to/);
  });

  it('a changed manifest digest: the section no longer matches it, and the signature no longer covers the manifest', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    b.manifest.digests.config = '0'.repeat(64);
    write(file, b);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /FAIL sections\.config: the section hashes to [0-9a-f]{16}… but the manifest lists 0000000000000000…/,
    );
    expect(r.out).toMatch(/FAIL signature: the signature covers another manifest/);
  });

  it('a tail event after the newest checkpoint that was edited, with its hash recomputed, is not in the tail links', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    const { eventHash } = await import('../../src/integrity/canonical-json.js');
    const last = b.sections.access_log[14]!;
    expect(last.proof).toBeNull();
    last.event.request_source = 'nobody';
    last.event.hash = eventHash(last.event);
    write(file, b);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `FAIL access_log[14]: chain gw-1, seq 75, event ${last.event.id}: no proof, and the chain's tail after its newest checkpoint does not hold this event`,
    );
  });

  it('a file that is not a bundle: exit 1 with what is wrong', async () => {
    const s = await site();
    const file = join(s.root, 'not-a-bundle.json');
    writeFileSync(file, '{"format":"something-else"}');
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'not an evidence bundle (format "something-else", expected tollgate-evidence/v1)',
    );
    writeFileSync(file, '{not json');
    const t = await cli(['verify', '--evidence', file]);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/FAIL .*not-a-bundle\.json: not JSON/);
  });
});

describe('signing and secrets', () => {
  it('an unsigned bundle (--unsigned) fails unless --allow-unsigned', async () => {
    const s = await site();
    const file = await exportThenDeleteStore(s, ['--unsigned']);
    const r = await cli(['verify', '--evidence', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL signature: the bundle is not signed (exported with --unsigned)');
    const a = await cli(['verify', '--evidence', file, '--allow-unsigned']);
    expect(a.code).toBe(0);
    expect(a.out).toContain('warning: the bundle is not signed');
  });

  it('the configuration is bundled without its secrets', async () => {
    const s = await site();
    const outFile = join(s.root, 'e.json');
    const env = {
      TOLLGATE_ADMIN_TOKEN: 'admintok-5f1e2d3c4b5a69788796a5b4',
      TOLLGATE_REDIS_URL: 'redis://:redispass-9a8b7c@cache.internal:6379/0',
    };
    const r = await cli(['evidence', '--db', s.db, '--out', outFile, '--json'], env);
    expect(r.code).toBe(0);
    const text = readFileSync(outFile, 'utf8');
    expect(text).not.toContain('admintok-5f1e2d3c4b5a69788796a5b4');
    expect(text).not.toContain('redispass-9a8b7c');
    const b = JSON.parse(text) as EvidenceBundle;
    expect(b.sections.config).toMatchObject({
      admin_token: '[removed]',
      redis_url: 'redis://[removed]@cache.internal:6379/0',
    });
    expect(JSON.parse(r.out)).toMatchObject({
      access_events: 15,
      verify_ok: true,
      signer: s.key.verifierKey,
    });
  });
});

describe('key rotation', () => {
  it('a bundle signed by a rotated key verifies from the first pinned key, following the announcement', async () => {
    const s = await site();
    const rotated = await cli(['signing-key', 'rotate', '--db', s.db]);
    expect(rotated.code).toBe(0);
    const file = await exportThenDeleteStore(s);
    const b = read(file);
    expect(b.sections.keys.announced).toHaveLength(1);
    expect(b.sections.keys.signer).toBe(b.sections.keys.announced[0]);
    const mine = join(file + '.keys');
    writeFileSync(mine, s.key.verifierKey + '\n');
    const r = await cli(['verify', '--evidence', file, '--keys', mine]);
    expect(r.out).toContain('ok   keys: 1 trusted (flag), 1 more announced by rotation');
    expect(r.code).toBe(0);
    // The announcement removed: the new key is trusted by nobody, so neither is the bundle.
    b.sections.chains[0]!.checkpoints = b.sections.chains[0]!.checkpoints.filter(
      (c) => !c.note.includes('\nkey '),
    );
    b.sections.anchors.checkpoints = b.sections.anchors.checkpoints.filter((c) => !c.note.includes('\nkey '));
    write(file, b);
    const t = await cli(['verify', '--evidence', file, '--keys', mine]);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(
      /FAIL signature: signed by key tollgate-gw-1\+[0-9a-f]{8}, which is not a trusted key/,
    );
  });
});
