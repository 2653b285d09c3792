/**
 * `verify --from <checkpoint note>`: the chain's events up to a trusted checkpoint are checked
 * against its signed root from their stored hashes only (not re-hashed), and the walk goes on
 * after it (docs/integrity.md "Verifying", options).
 */
import type { EventStore } from '../store/event-store.js';
import type { Checkpoint } from './checkpoint.js';
import { LOST_LEAF, parseGapRecord, type ChainHole, type GapRecord } from './gap-record.js';
import { GENESIS_PREV_HASH } from './hash-chain.js';
import { CompactRange, type EventLeafHasher } from './merkle.js';

/**
 * `--from`: the chain up to the trusted checkpoint, checked against its root from the stored
 * hashes alone; null when the prefix does not fold to that root (it changed since).
 */
export async function trustedPrefix(
  events: EventStore,
  chainId: string,
  trusted: Checkpoint,
  acceptHole: (firstSeq: number) => boolean,
  pageSize: number,
  leafHasher: EventLeafHasher,
): Promise<{ range: CompactRange; lastHash: string; holes: ChainHole[]; records: GapRecord[] } | null> {
  const prefix = new CompactRange();
  let lastHash: string | null = GENESIS_PREV_HASH;
  const holes: ChainHole[] = [];
  const records: GapRecord[] = [];
  for await (const e of events.iterateChain(chainId, 1, pageSize)) {
    if (prefix.size === trusted.treeSize) break;
    if (
      typeof e.seq !== 'number' ||
      e.seq < prefix.size + 1 ||
      typeof e.hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.hash)
    )
      return null;
    if (e.seq > prefix.size + 1) {
      // Lost positions inside the trusted prefix: the signed root says whether they were.
      if (e.seq - 1 > trusted.treeSize || !acceptHole(prefix.size + 1)) return null;
      holes.push({ first_seq: prefix.size + 1, last_seq: e.seq - 1, next_prev_hash: e.prev_hash });
      prefix.appendRepeated(LOST_LEAF, e.seq - 1 - prefix.size);
      lastHash = e.prev_hash;
      if (prefix.size === trusted.treeSize) break;
    }
    const record = parseGapRecord(e);
    if (record) records.push(record);
    prefix.append(leafHasher.hash(e.hash));
    lastHash = e.hash;
  }
  if (lastHash === null || prefix.size !== trusted.treeSize || !prefix.root().equals(trusted.rootHash))
    return null;
  return { range: prefix, lastHash, holes, records };
}
