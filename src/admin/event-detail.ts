/**
 * One event with its place in the chain: its own hash recomputed, its link to the previous
 * event checked, and on request an inclusion proof against the newest signed checkpoint.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { isTollgateError } from '../core/errors.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { GENESIS_PREV_HASH, hasValidHash } from '../integrity/hash-chain.js';
import { buildInclusionProof, type InclusionProofDocument } from '../integrity/inclusion-proof.js';
import type { NoteVerifier } from '../integrity/signed-note.js';
import type { EventStore } from '../store/event-store.js';

export interface ChainPositionCheck {
  chain_id: string | null;
  seq: number | null;
  prev_hash: string | null;
  hash: string | null;
  /** Events in the chain now (the head's seq). */
  chain_length: number | null;
  /** The stored hash equals the hash recomputed from the event's fields. */
  hash_ok: boolean;
  /** `prev_hash` is the previous event's stored hash (genesis for seq 1). */
  link_ok: boolean;
  /** Both: the event is as it was written and sits where it was written. */
  verified: boolean;
}

export interface EventDetail {
  event: AuditEvent;
  chain: ChainPositionCheck;
  /** Present when asked for: the proof, or the code saying why there is none yet. */
  proof?: { document: InclusionProofDocument | null; unavailable: string | null };
}

/** The event with its chain check, or null when no event has this id. */
export async function eventDetail(
  deps: {
    store: EventStore;
    checkpoints: CheckpointStore;
    verifiers: () => NoteVerifier[];
  },
  id: string,
  options: { proof?: boolean } = {},
): Promise<EventDetail | null> {
  const event = await deps.store.get(id);
  if (!event) return null;
  const hashOk = hasValidHash(event);
  let linkOk = false;
  let chainLength: number | null = null;
  if (event.chain_id !== null && event.seq !== null) {
    if (event.seq === 1) linkOk = event.prev_hash === GENESIS_PREV_HASH;
    else {
      for await (const prev of deps.store.iterateChain(event.chain_id, event.seq - 1, 1)) {
        linkOk = prev.seq === event.seq - 1 && prev.hash === event.prev_hash;
        break;
      }
    }
    const heads = await deps.store.chainHeads();
    chainLength = heads.find((h) => h.chain_id === event.chain_id)?.seq ?? null;
  }
  const detail: EventDetail = {
    event,
    chain: {
      chain_id: event.chain_id,
      seq: event.seq,
      prev_hash: event.prev_hash,
      hash: event.hash,
      chain_length: chainLength,
      hash_ok: hashOk,
      link_ok: linkOk,
      verified: hashOk && linkOk,
    },
  };
  if (options.proof) {
    try {
      detail.proof = {
        document: await buildInclusionProof(deps.store, deps.checkpoints, deps.verifiers(), id),
        unavailable: null,
      };
    } catch (err) {
      if (!isTollgateError(err)) throw err;
      detail.proof = { document: null, unavailable: err.code };
    }
  }
  return detail;
}
