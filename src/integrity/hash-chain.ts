/**
 * The hash chain: each event of a chain carries `chain_id`, `seq` (1, 2, 3, … without gaps),
 * `prev_hash` (the previous event's `hash`; GENESIS_PREV_HASH for seq 1) and `hash`
 * (hex SHA-256 of the event's canonical JSON without `hash`, see canonical-json.ts).
 * One chain per gateway instance or SDK process, so there is a single writer per chain.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { Chainer } from '../core/stages.js';
import { eventHash, wellFormedEventHash } from './canonical-json.js';

/** `prev_hash` of the first event of every chain: 64 zeros (32 zero bytes in hex). */
export const GENESIS_PREV_HASH = '0'.repeat(64);

const HEX_HASH = /^[0-9a-f]{64}$/;

/** Position of the last event of a chain. */
export interface ChainPosition {
  seq: number;
  hash: string;
}

/**
 * Durable high-water mark of the seqs a chain has handed out (docs/reliability.md "Crash"). The
 * chainer calls `ensure(seq)` before giving out `seq`; the reserver makes sure a mark of at least
 * `seq` is durable first (one small write per block of seqs). After a crash, the seqs between the
 * last stored event and the mark are the ones that may have been handed out and lost: the next
 * start skips them and chains a `crash` gap record that names them, instead of reusing them.
 */
export interface SeqReserver {
  ensure(seq: number): void;
}

export interface ChainerOptions {
  chainId: string;
  /**
   * The position to continue from (`EventStore.chains()`); absent for a new chain. After a crash
   * its `seq` is the reserved mark while `hash` is the last stored event's (create-gateway.ts).
   */
  head?: ChainPosition | null;
  /** Persists the seq high-water mark before seqs are handed out (gateway; absent in the SDK and CLI). */
  reserver?: SeqReserver;
}

/** A Chainer that also tells where the chain stands. */
export interface HashChainer extends Chainer {
  readonly chainId: string;
  /** The last linked event's position; seq 0 and the genesis hash before the first event. */
  head(): ChainPosition;
}

/**
 * Creates the chain stage for one chain. `link` must be called in write order, once per event,
 * after every other field of the event is final: any later change breaks the event's hash.
 */
export function createChainer(options: ChainerOptions): HashChainer {
  const { chainId } = options;
  if (chainId.length === 0)
    throw new TollgateError('TG_ERR_INTEGRITY_CHAIN_STATE', { reason: 'empty chain id' });
  let seq = 0;
  let prev = GENESIS_PREV_HASH;
  if (options.head) {
    const { seq: s, hash } = options.head;
    if (
      !Number.isSafeInteger(s) ||
      s < 0 ||
      !HEX_HASH.test(hash) ||
      (s === 0 && hash !== GENESIS_PREV_HASH)
    ) {
      throw new TollgateError('TG_ERR_INTEGRITY_CHAIN_STATE', { chain_id: chainId, seq: s });
    }
    seq = s;
    prev = hash;
  }
  return {
    chainId,
    link(event: AuditEvent): void {
      options.reserver?.ensure(seq + 1);
      event.chain_id = chainId;
      event.seq = seq + 1;
      event.prev_hash = prev;
      event.hash = null;
      // The event leaves here as the store will hold it (lone surrogates as U+FFFD), so sinks,
      // exports and the stored row all carry the value that was hashed.
      const h = wellFormedEventHash(event);
      event.hash = h;
      seq += 1;
      prev = h;
    },
    head: () => ({ seq, hash: prev }),
  };
}

/** True when the stored `hash` of the event matches its recomputed hash. */
export function hasValidHash(event: AuditEvent): boolean {
  return event.hash !== null && eventHash(event) === event.hash;
}
