/**
 * `tollgate verify --event ID`: a self-contained inclusion proof that a third party can check
 * with the checkpoint signer's public key alone (steps in docs/integrity.md).
 */
import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { EventStore } from '../store/event-store.js';
import { eventHash } from './canonical-json.js';
import { DEFAULT_ORIGIN_PREFIX, checkpointOrigin, openCheckpoint, type Checkpoint } from './checkpoint.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { LOST_LEAF } from './gap-record.js';
import { EventLeafHasher, inclusionProof, rootFromInclusionProof, type Hash } from './merkle.js';
import type { NoteVerifier } from './signed-note.js';

export const INCLUSION_PROOF_FORMAT = 'tollgate-inclusion-proof/v1';

/** JSON document proving that one event is in a chain whose root was signed in a checkpoint. */
export interface InclusionProofDocument {
  format: typeof INCLUSION_PROOF_FORMAT;
  chain_id: string;
  event_id: string;
  /** The event as stored (content redacted or encrypted); its canonical JSON hashes to `event_hash`. */
  event: AuditEvent;
  /** Hex SHA-256 of the event's canonical JSON; the Merkle leaf data. */
  event_hash: string;
  /** seq - 1. */
  leaf_index: number;
  tree_size: number;
  /** Base64 RFC 6962 root of the first `tree_size` events. */
  root_hash: string;
  /** Base64 sibling hashes, leaf to root (RFC 9162 §2.1.3). */
  proof: string[];
  /** The signed checkpoint note that commits to `tree_size` and `root_hash`. */
  checkpoint: string;
}

/**
 * Builds the proof for `eventId` against the newest checkpoint that covers it and verifies with
 * `keys`. Reads the chain's stored hashes up to that checkpoint (O(n)); the proof it returns has
 * been checked against the signed root before it is handed out.
 */
export async function buildInclusionProof(
  events: EventStore,
  checkpoints: CheckpointStore,
  keys: readonly NoteVerifier[],
  eventId: string,
  options: { originPrefix?: string } = {},
): Promise<InclusionProofDocument> {
  const event = await events.get(eventId);
  if (!event || event.chain_id === null || event.seq === null || event.hash === null) {
    throw new TollgateError('TG_ERR_INTEGRITY_EVENT_NOT_FOUND', { event_id: eventId });
  }
  const chainId = event.chain_id;
  const seq = event.seq;
  const origin = checkpointOrigin(chainId, options.originPrefix ?? DEFAULT_ORIGIN_PREFIX);
  let best: { checkpoint: Checkpoint; note: string } | null = null;
  for (const s of await checkpoints.list(chainId)) {
    const opened = openCheckpoint(s.note, keys);
    if (!opened.ok || opened.checkpoint.origin !== origin || opened.checkpoint.treeSize < seq) continue;
    if (best === null || opened.checkpoint.treeSize > best.checkpoint.treeSize)
      best = { checkpoint: opened.checkpoint, note: s.note };
  }
  if (!best) throw new TollgateError('TG_ERR_INTEGRITY_NO_CHECKPOINT', { event_id: eventId, seq });
  const size = best.checkpoint.treeSize;
  const leaves: Hash[] = [];
  const hasher = new EventLeafHasher();
  for await (const e of events.iterateChain(chainId, 1)) {
    if (leaves.length === size) break;
    if (e.seq === null || e.seq < leaves.length + 1 || e.hash === null) break;
    // Positions of events the writer could not store are LOST_LEAF (gap-record.ts); the signed
    // root below decides whether the checkpoint was made over them.
    while (leaves.length + 1 < e.seq && leaves.length < size) leaves.push(LOST_LEAF);
    if (leaves.length === size) break;
    leaves.push(hasher.hash(e.hash));
  }
  if (leaves.length !== size)
    throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', { chain_id: chainId, seq: leaves.length + 1 });
  const proof = inclusionProof(leaves, seq - 1, size);
  const root = rootFromInclusionProof(seq - 1, size, leaves[seq - 1]!, proof);
  if (root === null || !root.equals(best.checkpoint.rootHash) || eventHash(event) !== event.hash) {
    throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', { chain_id: chainId, seq });
  }
  return {
    format: INCLUSION_PROOF_FORMAT,
    chain_id: chainId,
    event_id: eventId,
    event,
    event_hash: event.hash,
    leaf_index: seq - 1,
    tree_size: size,
    root_hash: best.checkpoint.rootHash.toString('base64'),
    proof: proof.map((h) => h.toString('base64')),
    checkpoint: best.note,
  };
}

/** Result of checking an inclusion proof document. */
export type InclusionProofCheck = { ok: true } | { ok: false; reason: string };

/** What a third party does with the document (see docs/integrity.md for the same steps by hand). */
export function checkInclusionProof(
  doc: InclusionProofDocument,
  keys: readonly NoteVerifier[],
  options: { originPrefix?: string } = {},
): InclusionProofCheck {
  if (doc.format !== INCLUSION_PROOF_FORMAT) return { ok: false, reason: 'unknown format' };
  // 1. The event hashes to event_hash, and it is the event the document talks about.
  if (
    doc.event.id !== doc.event_id ||
    doc.event.chain_id !== doc.chain_id ||
    doc.event.seq !== doc.leaf_index + 1
  ) {
    return { ok: false, reason: 'event does not match the proof position' };
  }
  if (doc.event.hash !== doc.event_hash || eventHash(doc.event) !== doc.event_hash)
    return { ok: false, reason: 'event hash mismatch' };
  // 2. The checkpoint is signed by a known key, for this chain, with this size and root.
  const opened = openCheckpoint(doc.checkpoint, keys);
  if (!opened.ok) return { ok: false, reason: `checkpoint ${opened.reason}` };
  const cp = opened.checkpoint;
  if (cp.origin !== checkpointOrigin(doc.chain_id, options.originPrefix ?? DEFAULT_ORIGIN_PREFIX))
    return { ok: false, reason: 'checkpoint origin mismatch' };
  if (cp.treeSize !== doc.tree_size || cp.rootHash.toString('base64') !== doc.root_hash)
    return { ok: false, reason: 'checkpoint does not match the proof' };
  // 3. The audit path from the leaf reaches the signed root (RFC 9162 §2.1.3.2).
  if (!/^[0-9a-f]{64}$/.test(doc.event_hash)) return { ok: false, reason: 'event hash format' };
  const leaf = new EventLeafHasher().hash(doc.event_hash);
  const root = rootFromInclusionProof(
    doc.leaf_index,
    doc.tree_size,
    leaf,
    doc.proof.map((p) => Buffer.from(p, 'base64')),
  );
  if (root === null || !root.equals(cp.rootHash))
    return { ok: false, reason: 'audit path does not lead to the signed root' };
  return { ok: true };
}
