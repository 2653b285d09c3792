/**
 * `tollgate verify --evidence FILE`: checks an evidence bundle offline, with no store. In order:
 * the manifest digests, the trusted keys (the auditor's `--keys`, else the keys the bundle's
 * anchors pinned) and the rotations they announced, the bundle's signature, each chain's
 * checkpoint signatures and the consistency proofs between them, the anchors against the
 * checkpoints, each bundled event's hash, its inclusion proof (or its place in the tail after the
 * newest checkpoint) and its links to its neighbours, and the verify result at export. Every
 * problem is reported with where it is in the bundle; the report never stops at the first one.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { eventHash } from './canonical-json.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  EVIDENCE_FORMAT,
  EVIDENCE_SECTIONS,
  digestOf,
  openEvidenceSignature,
  type EvidenceBundle,
  type EvidenceEvent,
} from './evidence-bundle.js';
import { followRotations } from './key-rotation.js';
import { EventLeafHasher, verifyConsistency, verifyInclusion } from './merkle.js';
import { checkPrunes, checkTail, checkpointFailure, prunedLastHashes } from './evidence-chain-checks.js';
import { parseNote, parseVerifierKey, type NoteVerifier } from './signed-note.js';

/** One thing checked, for people (`ok` false when a problem was found in it). */
export interface EvidenceCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** A failure: what is wrong and where in the bundle. */
export interface EvidenceProblem {
  where: string;
  what: string;
}

export interface EvidenceReport {
  ok: boolean;
  file: string;
  created_at: string | null;
  store_id: string | null;
  window: { since: string; until: string } | null;
  /** Where the trusted keys came from. */
  keys_from: 'flag' | 'bundle anchors' | 'bundle keyring' | 'none';
  signer: string | null;
  checks: EvidenceCheck[];
  problems: EvidenceProblem[];
  warnings: string[];
}

export interface EvidenceCheckOptions {
  /** Keys the auditor holds (`--keys`): trusted instead of the bundle's pinned keys. */
  keys?: NoteVerifier[] | null;
  /** Accept a bundle without a signature (`--allow-unsigned`): a warning instead of a failure. */
  allowUnsigned?: boolean;
}

type EventSection = 'prunes' | 'holds.records' | 'access_log';

/** Checks a parsed bundle file (`raw` as JSON.parse gave it). */
export function checkEvidenceBundle(
  raw: unknown,
  file: string,
  options: EvidenceCheckOptions = {},
): EvidenceReport {
  const r: EvidenceReport = {
    ok: false,
    file,
    created_at: null,
    store_id: null,
    window: null,
    keys_from: 'none',
    signer: null,
    checks: [],
    problems: [],
    warnings: [],
  };
  const shape = shapeProblem(raw);
  if (shape !== null) {
    r.problems.push({ where: file, what: shape });
    r.checks.push({ name: 'format', ok: false, detail: shape });
    return r;
  }
  const b = raw as EvidenceBundle;
  r.created_at = b.manifest.created_at;
  r.store_id = b.manifest.store_id;
  r.window = b.manifest.window;
  const s = b.sections;
  const problem = (where: string, what: string): void => void r.problems.push({ where, what });
  const section = (name: string, run: () => string): void => {
    const before = r.problems.length;
    let detail: string;
    try {
      detail = run();
    } catch (err) {
      // A field of the wrong type deep inside a section: report it where it was met.
      problem(`sections.${name}`, `malformed (${err instanceof Error ? err.message : 'unknown'})`);
      detail = 'malformed';
    }
    const failed = r.problems.slice(before);
    r.checks.push({
      name,
      ok: failed.length === 0,
      detail: failed.length === 0 ? detail : `${failed.length} problem(s); ${detail}`,
    });
  };

  // 1. Each section hashes to the digest the manifest lists.
  section('manifest', () => {
    for (const name of EVIDENCE_SECTIONS) {
      const listed = b.manifest.digests[name];
      const actual = digestOf(s[name]);
      if (listed !== actual)
        problem(
          `sections.${name}`,
          `the section hashes to ${actual.slice(0, 16)}… but the manifest lists ${String(listed).slice(0, 16)}…: the section or the manifest was changed after export`,
        );
    }
    return `${EVIDENCE_SECTIONS.length} section digests match the manifest`;
  });

  // 2. The keys to trust, and the keys they announced in rotations.
  const notes = [
    ...s.chains.flatMap((c) => c.checkpoints.map((x) => x.note)),
    ...s.anchors.checkpoints.map((a) => a.note),
  ];
  let keys: NoteVerifier[] = [];
  section('keys', () => {
    let roots: NoteVerifier[];
    if (options.keys) {
      roots = options.keys;
      r.keys_from = 'flag';
    } else if (s.keys.pinned.length > 0) {
      roots = parseKeys(s.keys.pinned, 'sections.keys.pinned', problem);
      r.keys_from = 'bundle anchors';
      r.warnings.push(
        "trusting the keys pinned in the bundle's anchors: give --keys FILE with a verifier key you hold to check the bundle against it",
      );
      const anchored = [...new Set(s.anchors.keys.map((k) => k.verifier_key))];
      if (anchored.join('\n') !== s.keys.pinned.join('\n'))
        problem('sections.keys.pinned', "the pinned keys are not the keys the bundle's anchor file pinned");
    } else {
      roots = parseKeys(s.keys.keyring, 'sections.keys.keyring', problem);
      r.keys_from = roots.length > 0 ? 'bundle keyring' : 'none';
      r.warnings.push(
        'no pinned keys: trusting the data-folder keyring the bundle lists, which the store owner could rewrite',
      );
    }
    keys = followRotations(roots, notes);
    if (keys.length === 0) problem('sections.keys', 'no key to trust: give --keys FILE');
    return `${roots.length} trusted (${r.keys_from}), ${keys.length - roots.length} more announced by rotation`;
  });

  // 3. The bundle's signature covers this manifest and is by a trusted key.
  section('signature', () => {
    if (b.signature === null) {
      if (options.allowUnsigned) {
        r.warnings.push(
          'the bundle is not signed: its digests catch damage, not a forger (--allow-unsigned)',
        );
        return 'not signed (allowed)';
      }
      problem(
        'signature',
        'the bundle is not signed (exported with --unsigned); pass --allow-unsigned to check it anyway',
      );
      return 'missing';
    }
    const opened = openEvidenceSignature(b.signature, b.manifest, keys);
    const signer = parseNote(b.signature)?.signatures[0];
    r.signer = signer ? `${signer.name}+${signer.keyId.toString(16).padStart(8, '0')}` : null;
    if (!opened.ok)
      problem(
        'signature',
        opened.reason === 'unknown_key'
          ? `signed by key ${r.signer ?? '?'}, which is not a trusted key: the bundle was re-signed, or the trusted keys were swapped`
          : `the signature is ${opened.reason === 'bad_signature' ? 'not valid' : 'malformed'}: the manifest or the signature was changed`,
      );
    else if (!opened.matches)
      problem(
        'signature',
        `the signature covers another manifest (digest in the note: ${noteDigest(b.signature)}), not this one (${digestOf(b.manifest)})`,
      );
    return `by ${r.signer ?? 'nobody'} over manifest digest ${digestOf(b.manifest).slice(0, 16)}…`;
  });

  // 4. Checkpoints: signatures, origins, one root per size, consistency between sizes.
  const opened = new Map<string, Map<number, Checkpoint>>();
  section('checkpoints', () => {
    const lastHashes = prunedLastHashes(s.prunes, keys);
    let n = 0;
    let proofs = 0;
    for (const c of s.chains) {
      const at = `chain ${c.chain_id}`;
      const bySize = new Map<number, Checkpoint>();
      opened.set(c.chain_id, bySize);
      c.checkpoints.forEach((x, i) => {
        n++;
        const where = `${at}, checkpoints[${i}] (tree size ${x.tree_size})`;
        const o = openCheckpoint(x.note, keys);
        if (!o.ok) return problem(where, checkpointFailure(o.reason, x.note));
        if (!o.checkpoint.origin.endsWith(`/${c.chain_id}`))
          return problem(where, `origin ${o.checkpoint.origin} is not this chain's`);
        if (o.checkpoint.treeSize !== x.tree_size)
          return problem(where, `the note says tree size ${o.checkpoint.treeSize}`);
        const same = bySize.get(x.tree_size);
        if (same && !same.rootHash.equals(o.checkpoint.rootHash))
          return problem(where, 'two signed checkpoints of this size have different roots: a forked history');
        bySize.set(x.tree_size, o.checkpoint);
      });
      const through = c.pruned?.through ?? 0;
      const sizes = [...new Set(c.checkpoints.map((x) => x.tree_size))]
        .sort((a, b) => a - b)
        .filter((z) => z <= c.head.seq && z >= through);
      for (let i = 1; i < sizes.length; i++) {
        const [m, k] = [sizes[i - 1]!, sizes[i]!];
        const where = `${at}, consistency ${m} → ${k}`;
        const proof = c.consistency.find((p) => p.from_size === m && p.to_size === k);
        const a = bySize.get(m);
        const z = bySize.get(k);
        if (!proof)
          problem(where, 'no consistency proof between these checkpoints (one was removed or added)');
        else if (a && z) {
          proofs++;
          if (!verifyConsistency(m, k, proof.proof.map(b64), a.rootHash, z.rootHash))
            problem(
              where,
              'the consistency proof fails: the later checkpoint does not extend the earlier one',
            );
        }
      }
      for (const p of c.consistency)
        if (!sizes.includes(p.from_size) || !sizes.includes(p.to_size))
          problem(
            `${at}, consistency ${p.from_size} → ${p.to_size}`,
            `no checkpoint at tree size ${sizes.includes(p.from_size) ? p.to_size : p.from_size} in the bundle: a checkpoint was removed`,
          );
      const top = Math.max(0, ...c.checkpoints.map((x) => x.tree_size));
      if (top > c.head.seq)
        problem(
          `${at}, head`,
          `the chain ends at seq ${c.head.seq} but a signed checkpoint covers ${top} events: truncated`,
        );
      if (c.checkpoints.length === 0)
        r.warnings.push(
          `chain ${c.chain_id} has no checkpoint: its events are vouched for by the bundle's signature alone`,
        );
      checkTail(c, bySize, problem, lastHashes.get(c.chain_id) ?? new Map());
    }
    return `${n} signed checkpoint(s) in ${s.chains.length} chain(s), ${proofs} consistency proof(s)`;
  });

  // 5. Anchors: every anchored checkpoint is signed, in the bundle, with the same root.
  section('anchors', () => {
    let beforePrune = 0;
    if (s.anchors.file === null)
      r.warnings.push('the store had no anchor file at export: nothing outside the store vouched for it');
    s.anchors.checkpoints.forEach((a, i) => {
      const where = `anchors.checkpoints[${i}] (chain ${a.chain_id}, tree size ${a.tree_size})`;
      const o = openCheckpoint(a.note, keys);
      if (!o.ok) return problem(where, checkpointFailure(o.reason, a.note));
      const chain = s.chains.find((c) => c.chain_id === a.chain_id);
      if (!chain) return problem(where, 'the bundle has no such chain');
      if (a.tree_size > chain.head.seq)
        return problem(
          where,
          `the chain ends at seq ${chain.head.seq} but this anchored checkpoint covers ${a.tree_size} events: truncated`,
        );
      if (a.tree_size < (chain.pruned?.through ?? 0)) return void beforePrune++;
      const mine = opened.get(a.chain_id)?.get(a.tree_size);
      if (!mine)
        return problem(
          where,
          "no checkpoint of this tree size among the chain's bundled checkpoints: a checkpoint was removed",
        );
      if (!mine.rootHash.equals(o.checkpoint.rootHash))
        problem(where, 'the anchored root differs from the bundled checkpoint of the same size');
    });
    const agree = s.anchors.checkpoints.length - beforePrune;
    return `${agree} anchored checkpoint(s) agree with the bundled ones${beforePrune > 0 ? `, ${beforePrune} older than a prune` : ''}${s.anchors.file ? ` (from ${s.anchors.file})` : ''}`;
  });

  // 6. Events: hashes, inclusion proofs or tail places, links between neighbours.
  section('events', () => {
    const lists: [EventSection, EvidenceEvent[]][] = [
      ['prunes', s.prunes],
      ['holds.records', s.holds.records],
      ['access_log', s.access_log],
    ];
    let proven = 0;
    let tail = 0;
    let keptCount = 0;
    const bySeq = new Map<string, Map<number, AuditEvent>>();
    for (const [name, list] of lists)
      list.forEach((item, i) => {
        const e = item.event;
        const where = `${name}[${i}]: chain ${e.chain_id}, seq ${e.seq}, event ${e.id}`;
        const chain = s.chains.find((c) => c.chain_id === e.chain_id);
        if (!chain || e.seq === null) return problem(where, 'the bundle has no chain for this event');
        const seen = bySeq.get(chain.chain_id) ?? new Map<number, AuditEvent>();
        bySeq.set(chain.chain_id, seen);
        seen.set(e.seq, e);
        if (e.hash === null || eventHash(e) !== e.hash)
          return problem(where, "the recomputed hash differs from the event's hash: the event was edited");
        if (e.seq <= (chain.pruned?.through ?? 0)) {
          const k = chain.pruned!.kept.find((x) => x.seq === e.seq);
          if (!k || k.hash !== e.hash)
            return problem(
              where,
              `it is in the pruned range (up to seq ${chain.pruned!.through}) but not among the events the prune kept`,
            );
          keptCount++;
        } else if (item.proof) {
          const cp = opened.get(chain.chain_id)?.get(item.proof.tree_size);
          if (!cp)
            return problem(
              where,
              `its proof names the checkpoint at tree size ${item.proof.tree_size}, which the bundle lacks or which failed`,
            );
          const leaf = new EventLeafHasher().hash(e.hash);
          if (!verifyInclusion(e.seq - 1, item.proof.tree_size, leaf, item.proof.path.map(b64), cp.rootHash))
            return problem(
              where,
              `the inclusion proof does not lead to the signed root at tree size ${item.proof.tree_size}: the event is not the one the checkpoint covers`,
            );
          proven++;
        } else {
          const link = chain.tail?.links.find((l) => l.seq === e.seq);
          if (!link || link.hash !== e.hash)
            return problem(
              where,
              "no proof, and the chain's tail after its newest checkpoint does not hold this event",
            );
          tail++;
        }
      });
    // Neighbours in the bundle must link: event seq k+1's prev_hash is event k's hash.
    for (const [chainId, seen] of bySeq)
      for (const [seq, e] of seen) {
        const before = seen.get(seq - 1);
        if (before && e.prev_hash !== before.hash)
          problem(
            `chain ${chainId}, seq ${seq}, event ${e.id}`,
            `its prev_hash does not name event ${seq - 1}'s hash`,
          );
      }
    const total = lists.reduce((n, [, l]) => n + l.length, 0);
    return `${total} event(s) (${s.access_log.length} access, ${s.prunes.length} prune, ${s.holds.records.length} hold): hashes recomputed, ${proven} proven in signed checkpoints, ${tail} in the tail after the newest checkpoint${keptCount > 0 ? `, ${keptCount} kept through a prune` : ''}`;
  });

  // 7. Prunes: each chain's pruned range is what its signed prune records say, kept events included.
  section('prunes', () => {
    let n = 0;
    for (const c of s.chains) n += checkPrunes(c, s.prunes, keys, opened.get(c.chain_id), problem);
    return `${n} signed prune record(s) account for every pruned range`;
  });

  // 8. What verify said about the store when the bundle was made.
  section('store verify at export', () => {
    const v = s.verify;
    if (!v.ok) {
      const d = v.first_damage;
      problem(
        'sections.verify',
        `the store failed verify at export${d ? `: ${d.kind.toUpperCase()} in chain ${d.chain_id}${d.seq !== null ? ` at seq ${d.seq}` : ''}: ${d.detail}` : ''}`,
      );
    }
    return `${v.ok ? 'OK' : 'FAILED'} — ${v.chains.length} chain(s), ${v.events_checked} events and ${v.checkpoints_checked} checkpoints`;
  });

  r.checks.push({
    name: 'records',
    ok: true,
    detail: `${s.prunes.length} prune record(s), ${s.holds.records.length} hold record(s), ${s.holds.active.length} hold(s) in force; config with ${Object.keys(s.config).length} top-level setting(s), secrets removed`,
  });
  r.ok = r.problems.length === 0;
  return r;
}

function parseKeys(
  list: readonly string[],
  where: string,
  problem: (where: string, what: string) => void,
): NoteVerifier[] {
  const out: NoteVerifier[] = [];
  list.forEach((k, i) => {
    try {
      out.push(parseVerifierKey(k));
    } catch {
      problem(`${where}[${i}]`, 'not a verifier key');
    }
  });
  return out;
}

function noteDigest(note: string): string {
  return parseNote(note)?.text.split('\n')[2] ?? '?';
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

/** Null when `raw` has the shape of a bundle; otherwise what is wrong with it. */
function shapeProblem(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object') return 'not an evidence bundle (not a JSON object)';
  const b = raw as Partial<EvidenceBundle>;
  if (b.format !== EVIDENCE_FORMAT)
    return `not an evidence bundle (format ${JSON.stringify(b.format ?? null)}, expected ${EVIDENCE_FORMAT})`;
  if (!b.manifest || typeof b.manifest !== 'object' || !b.manifest.digests) return 'the manifest is missing';
  if (!b.sections || typeof b.sections !== 'object') return 'the sections are missing';
  for (const name of EVIDENCE_SECTIONS) if (!(name in b.sections)) return `section ${name} is missing`;
  const s = b.sections;
  if (!Array.isArray(s.chains) || !Array.isArray(s.prunes) || !Array.isArray(s.access_log))
    return 'a section has the wrong type';
  if (!s.holds || !Array.isArray(s.holds.records) || !Array.isArray(s.holds.active))
    return 'section holds has the wrong type';
  if (!s.anchors || !Array.isArray(s.anchors.checkpoints) || !Array.isArray(s.anchors.keys))
    return 'section anchors has the wrong type';
  if (!s.keys || !Array.isArray(s.keys.pinned) || !Array.isArray(s.keys.keyring))
    return 'section keys has the wrong type';
  if (!s.verify || typeof s.verify !== 'object') return 'section verify has the wrong type';
  if (b.signature !== null && typeof b.signature !== 'string') return 'the signature has the wrong type';
  return null;
}
