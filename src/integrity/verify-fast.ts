/**
 * Walks a chain segment by segment for verify.ts: segments are checked in parallel (a worker
 * pool over SQLite, or inline through the store), and handed to `onSegment` in seq order after
 * their first link is checked against the hash before them. Stops at the first segment that is
 * not regular (verify-segment.ts) or that `onSegment` refuses: the caller then verifies the chain
 * with the full walk, which names the damage.
 */
import type { SegmentChecker } from './verify-pool.js';
import type { SegmentResult } from './verify-segment.js';

/** Seqs per segment: 16,384 leaves are 512 KB, one SQLite read per worker task. */
export const SEGMENT_SIZE = 16_384;

export interface SegmentWalk {
  checker: SegmentChecker;
  chainId: string;
  /** First and last seq to check, inclusive. */
  from: number;
  to: number;
  /** Hash the event with seq `from` must link to. */
  prev: string;
  segmentSize?: number;
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
      const p = w.checker.check({ chainId: w.chainId, first: nextFirst, last });
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
      if (!r.regular || r.firstPrev !== prev || r.lastHash === null) return false;
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
