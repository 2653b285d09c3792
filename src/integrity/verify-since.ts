/**
 * The start of an incremental verify (`verify --since-checkpoint`): the chain walk begins after a
 * checkpoint an earlier run verified (verified-checkpoints.ts) instead of at seq 1, from a state
 * that is tied to that checkpoint's signature, so nothing in the store can move it:
 *
 * 1. the note is one of the chain's valid checkpoints (signed by a trusted key, this log's origin);
 * 2. the frontier stored with it (its compact range) folds to the signed root;
 * 3. the events of the frontier's last subtree (the lowest set bit of the size: 1 event for an odd
 *    size, 8 for most multiples of 1,000) are read and their leaves fold to that subtree's root, so
 *    the hash of the checkpoint's last event, which the next event must link to, is the signed one.
 *
 * Events up to the checkpoint are not read again: a change to them is out of scope of the run and
 * its report says so. When any step fails, the whole chain is verified instead, and the report
 * says why.
 */
import { chainLinks, type EventStore } from '../store/event-store.js';
import type { Checkpoint } from './checkpoint.js';
import { CompactRange, EventLeafHasher } from './merkle.js';
import type { ChainCheckpoints, ValidCheckpoint } from './verify-checkpoints.js';

const HEX_HASH = /^[0-9a-f]{64}$/;

export type SinceStart = { ok: true; range: CompactRange; prev: string } | { ok: false; why: string };

/** The tree and last hash at `checkpoint`, from its stored frontier and its last subtree's events. */
export async function startAfterCheckpoint(
  events: EventStore,
  chainId: string,
  checkpoint: Checkpoint,
  frontier: readonly string[] | null,
): Promise<SinceStart> {
  const size = checkpoint.treeSize;
  if (size === 0) return { ok: false, why: 'the verified checkpoint is of an empty tree' };
  if (frontier === null || frontier.some((h) => !HEX_HASH.test(h)))
    return { ok: false, why: `the store has no frontier for the checkpoint at tree size ${size}` };
  let range: CompactRange;
  try {
    range = new CompactRange(
      size,
      frontier.map((h) => Buffer.from(h, 'hex')),
    );
  } catch {
    return { ok: false, why: `the stored frontier at tree size ${size} has the wrong shape` };
  }
  if (!range.root().equals(checkpoint.rootHash))
    return { ok: false, why: `the stored frontier at tree size ${size} does not fold to the signed root` };
  // The last frontier node is the root of the last 2^k leaves, 2^k the lowest set bit of the size.
  const width = size & -size;
  const first = size - width + 1;
  const leafHasher = new EventLeafHasher();
  const subtree = new CompactRange();
  let last: string | null = null;
  // Pages of at most width + 1 rows: usually a handful of events are read.
  const links =
    width < 4096 ? events.iterateChain(chainId, first, width + 1) : chainLinks(events, chainId, first);
  for await (const link of links) {
    if (link.seq === null) break;
    if (link.seq > size) break;
    if (link.seq !== first + subtree.size || link.hash === null || !HEX_HASH.test(link.hash))
      return { ok: false, why: `events ${first}..${size} (the checkpoint's last leaves) are not as signed` };
    subtree.append(leafHasher.hash(link.hash));
    last = link.hash;
  }
  const lastNode = range.frontier().at(-1);
  if (last === null || subtree.size !== width || !lastNode || !subtree.root().equals(lastNode))
    return { ok: false, why: `events ${first}..${size} (the checkpoint's last leaves) are not as signed` };
  return { ok: true, range, prev: last };
}

export interface SinceChain {
  ok: true;
  checkpoint: ValidCheckpoint;
  range: CompactRange;
  prev: string;
  at: { tree_size: number; time: string | null };
}

/** The start after a chain's verified checkpoint, or why there is none (the chain is then verified whole). */
export async function sinceStart(
  events: EventStore,
  chainId: string,
  cps: ChainCheckpoints,
  note: string | undefined,
): Promise<SinceChain | { ok: false; why: string }> {
  if (note === undefined) return { ok: false, why: 'no verified checkpoint recorded for this chain' };
  const checkpoint = cps.valid.find((v) => v.note === note && !v.fromWitness) ?? null;
  if (checkpoint === null)
    return {
      ok: false,
      why: 'the recorded checkpoint is not among the valid checkpoints in the store (removed, or its key is not trusted)',
    };
  const start = await startAfterCheckpoint(
    events,
    chainId,
    checkpoint.checkpoint,
    cps.frontiers.get(note) ?? null,
  );
  if (!start.ok) return start;
  const cp = checkpoint.checkpoint;
  return {
    ok: true,
    checkpoint,
    range: start.range,
    prev: start.prev,
    at: { tree_size: cp.treeSize, time: cp.timeMs === null ? null : new Date(cp.timeMs).toISOString() },
  };
}
