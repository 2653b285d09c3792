/**
 * The per-chain checks of `verify --evidence` (evidence-check.ts): the pruned range against the
 * signed prune records, the tail after the newest checkpoint, and the reason a checkpoint failed.
 */
import type { Checkpoint } from './checkpoint.js';
import type { EvidenceChain, EvidenceEvent } from './evidence-bundle.js';
import { EventLeafHasher, verifyInclusion } from './merkle.js';
import { GENESIS_PREV_HASH } from './hash-chain.js';
import { HashListRoot, isPruneRecord, parsePruneRecord } from './prune-record.js';
import { parseNote, type NoteVerifier } from './signed-note.js';

type Report = (where: string, what: string) => void;

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

/** A chain's pruned range against its prune records; returns how many records were checked. */
export function checkPrunes(
  c: EvidenceChain,
  prunes: readonly EvidenceEvent[],
  keys: readonly NoteVerifier[],
  bySize: Map<number, Checkpoint> | undefined,
  problem: Report,
): number {
  const at = `chain ${c.chain_id}, pruned`;
  let through = 0;
  let n = 0;
  prunes.forEach((p, i) => {
    if (!isPruneRecord(p.event)) return;
    const where = `prunes[${i}]: chain ${p.event.chain_id}, seq ${p.event.seq}`;
    const parsed = parsePruneRecord(p.event, keys);
    // Reported once, with the chain that holds the record; the chain it prunes then fails its claim.
    if (!parsed.ok) {
      if (p.event.chain_id === c.chain_id) problem(where, `not a valid signed prune record (${parsed.why})`);
      return;
    }
    const rec = parsed.record;
    if (rec.chain_id !== c.chain_id) return;
    n++;
    through = Math.max(through, rec.last_seq);
    const kept = new HashListRoot();
    for (const k of c.pruned?.kept ?? [])
      if (k.seq >= rec.first_seq && k.seq <= rec.last_seq) kept.add(k.hash);
    if (kept.root() !== rec.kept_root)
      problem(
        where,
        `the events kept in seqs ${rec.first_seq}..${rec.last_seq} are not the ones the record's kept_root names`,
      );
    const cp = bySize?.get(rec.last_seq);
    if (cp && cp.rootHash.toString('hex') !== rec.tree_root)
      problem(where, `its tree_root is not the root of the signed checkpoint at tree size ${rec.last_seq}`);
  });
  const claimed = c.pruned?.through ?? 0;
  if (claimed !== through)
    problem(
      at,
      claimed === 0
        ? `signed prune records end at seq ${through}, but the chain lists no pruned range`
        : `the chain says it was pruned up to seq ${claimed}, but its signed prune records end at ${through}: a deletion passed off as a prune`,
    );
  return n;
}

/** The links after the newest checkpoint: tied to its last leaf, linked one by one, ending at the head. */
export function checkTail(
  c: EvidenceChain,
  bySize: Map<number, Checkpoint>,
  problem: Report,
  /** Per seq, the `last_hash` a valid signed prune record of this chain gives for it. */
  prunedLastHash: ReadonlyMap<number, string>,
): void {
  const at = `chain ${c.chain_id}, tail`;
  if (c.tail === null) return;
  const t = c.tail;
  const newest = Math.max(0, ...[...bySize.keys()].filter((z) => z <= c.head.seq));
  if (t.checkpoint_size !== newest)
    problem(at, `starts at tree size ${t.checkpoint_size}, not at the newest checkpoint (${newest})`);
  let last: { seq: number; hash: string };
  if (t.checkpoint_size === 0) {
    // A chain no checkpoint covers (a CLI's own chain of admin events): linked from its genesis.
    last = { seq: 0, hash: GENESIS_PREV_HASH };
  } else {
    const cp = bySize.get(t.checkpoint_size);
    const lc = t.last_checkpointed;
    if (!cp || !lc)
      return problem(at, `the checkpoint at tree size ${t.checkpoint_size} or its last event is missing`);
    last = lc;
    // At the prune boundary the leaf's neighbours are gone: the signed record names its hash.
    const vouched =
      lc.seq === t.checkpoint_size &&
      (prunedLastHash.get(lc.seq) === lc.hash ||
        verifyInclusion(
          lc.seq - 1,
          t.checkpoint_size,
          new EventLeafHasher().hash(lc.hash),
          lc.path.map(b64),
          cp.rootHash,
        ));
    if (!vouched)
      problem(
        at,
        `event ${lc.seq}'s hash is not the last leaf of the checkpoint at tree size ${t.checkpoint_size}`,
      );
  }
  let prev = { seq: last.seq, hash: last.hash };
  for (const l of t.links) {
    if (l.seq !== prev.seq + 1 || l.prev_hash !== prev.hash) {
      problem(`${at}, seq ${l.seq}`, `does not link to seq ${prev.seq}`);
      return;
    }
    prev = l;
  }
  if (prev.seq !== c.head.seq || prev.hash !== c.head.hash)
    problem(at, `ends at seq ${prev.seq}, not at the chain's head (seq ${c.head.seq})`);
}

/** Why a checkpoint note did not open, naming its signer. */
export function checkpointFailure(reason: string, note: string): string {
  const sig = parseNote(note)?.signatures[0];
  const by = sig ? `${sig.name}+${sig.keyId.toString(16).padStart(8, '0')}` : 'nobody';
  if (reason === 'unknown_key')
    return `signed by key ${by}, which no trusted key is or announced: the signing key was swapped`;
  if (reason === 'bad_signature') return `the signature by ${by} does not verify: the checkpoint was changed`;
  return `not a valid checkpoint note (${reason})`;
}

/** Per pruned chain, seq → last_hash of its valid signed prune records. */
export function prunedLastHashes(
  prunes: readonly EvidenceEvent[],
  keys: readonly NoteVerifier[],
): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  for (const p of prunes) {
    if (!isPruneRecord(p.event)) continue;
    const parsed = parsePruneRecord(p.event, keys);
    if (!parsed.ok) continue;
    const m = out.get(parsed.record.chain_id) ?? new Map<number, string>();
    m.set(parsed.record.last_seq, parsed.record.last_hash);
    out.set(parsed.record.chain_id, m);
  }
  return out;
}
