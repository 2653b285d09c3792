/**
 * Walks a chain segment by segment for verify.ts: segments are checked in parallel (a worker
 * pool with connections of its own to the store, or inline through the store), and handed to `onSegment` in seq order after
 * their first link is checked against the hash before them. Stops at the first segment that is
 * not regular (verify-segment.ts) or that `onSegment` refuses: the caller then verifies the chain
 * with the full walk, which names the damage.
 */
import type { EventStore } from '../store/event-store.js';
import type { CompactRange } from './merkle.js';
import { defaultVerifyWorkers, workerSegmentChecker, type SegmentChecker } from './verify-pool.js';
import type { SegmentResult } from './verify-segment.js';

/** Seqs per segment: 16,384 leaves are 512 KB, one store read per worker task. */
export const SEGMENT_SIZE = 16_384;

export interface SegmentWalk {
  checker: SegmentChecker;
  chainId: string;
  /** First and last seq to check, inclusive. */
  from: number;
  to: number;
  /** Hash the event with seq `from` must link to; null: any (resuming from a frontier). */
  prev: string | null;
  segmentSize?: number;
  /** Links only (SegmentTask.links). */
  links?: boolean;
  /** Takes each regular, linked segment in order; false stops the walk. */
  onSegment: (r: SegmentResult) => boolean;
}

/** True when every seq from..to was checked, regular and linked, and accepted by `onSegment`. */
export async function walkSegments(w: SegmentWalk): Promise<boolean> {
  const size = w.segmentSize ?? SEGMENT_SIZE;
  const inFlight: Promise<SegmentResult>[] = [];
  let nextFirst = w.from;
  let prev = w.prev;
  const launch = (): void => {
    while (inFlight.length < w.checker.parallelism && nextFirst <= w.to) {
      const last = Math.min(w.to, nextFirst + size - 1);
      const p = w.checker.check({ chainId: w.chainId, first: nextFirst, last, links: w.links });
      // Rejections are read in order below; never unhandled meanwhile.
      p.catch(() => undefined);
      inFlight.push(p);
      nextFirst = last + 1;
    }
  };
  try {
    launch();
    while (inFlight.length > 0) {
      const r = await inFlight.shift()!;
      if (!r.regular || (prev !== null && r.firstPrev !== prev) || r.lastHash === null) return false;
      if (!w.onSegment(r)) return false;
      prev = r.lastHash;
      launch();
    }
    return true;
  } finally {
    // Results still in flight after a stop are dropped (the pool closes with the verify run).
    await Promise.allSettled(inFlight);
  }
}

/**
 * CheckpointWriter.resume's fast path on a large chain workers can reach (a SQLite file, a
 * PostgreSQL URL): the links of the events
 * after `range` read and their leaves hashed in worker threads, folded into a copy of `range` here.
 * Null when there is nothing to gain (another store, fewer than `minEvents` events) or when any
 * segment is not regular (a hole, a break, a malformed hash): the caller then reads sequentially,
 * which accepts accounted holes and names a break, as before.
 */
export async function foldLinksInWorkers(
  store: EventStore,
  chainId: string,
  range: CompactRange,
  options: { workers?: number; minEvents?: number } = {},
): Promise<{ range: CompactRange; lastHash: string } | null> {
  const source = store.readerSource?.() ?? null;
  const workers = options.workers ?? defaultVerifyWorkers(source);
  if (source === null || workers <= 0) return null;
  const head = (await store.chainHeads()).find((h) => h.chain_id === chainId)?.seq ?? null;
  if (head === null || head - range.size < (options.minEvents ?? 50_000)) return null;
  const checker = workerSegmentChecker(source, workers);
  const folded = range.clone();
  let lastHash: string | null = null;
  try {
    const ok = await walkSegments({
      checker,
      chainId,
      from: range.size + 1,
      to: head,
      prev: null,
      links: true,
      onSegment: (r) => {
        for (let i = 0; i < r.last - r.first + 1; i++)
          folded.append(Buffer.from(r.leaves.buffer, r.leaves.byteOffset + i * 32, 32));
        lastHash = r.lastHash;
        return true;
      },
    });
    return ok && lastHash !== null ? { range: folded, lastHash } : null;
  } catch {
    // A worker could not start or failed: the sequential read does the work.
    return null;
  } finally {
    await checker.close();
  }
}
