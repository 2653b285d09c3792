/**
 * The fast path of `verify`: one segment of a chain (a seq range) checked on its own, so that
 * segments can be hashed in parallel (verify-pool.ts, one SQLite connection per worker thread)
 * and only their leaf hashes and boundary links go back to the chain walk (verify-fast.ts).
 *
 * A segment is `regular` when every seq of its range is there exactly once, in order, each event's
 * recomputed hash equals its stored hash, and each event's prev_hash is the previous event's hash.
 * Anything else (a hole, a changed event, a broken link, a malformed hash) makes it irregular, and
 * the chain is then verified by the full walk of verify.ts, which names every damage: the fast path
 * only ever confirms an intact chain, so its report is the one the full walk would give.
 */
import { hash as oneShotHash } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.js';
import { eventHash } from './canonical-json.js';
import { parseGapRecord, type GapRecord } from './gap-record.js';

const HEX_HASH = /^[0-9a-f]{64}$/;

/** A seq range of one chain to check. */
export interface SegmentTask {
  chainId: string;
  /** First and last seq, inclusive. */
  first: number;
  last: number;
}

export interface SegmentResult {
  first: number;
  last: number;
  /** See the module comment; when false, nothing else in the result is meaningful. */
  regular: boolean;
  /** prev_hash of the event with seq `first` (it must be the hash of the event before the segment). */
  firstPrev: string | null;
  /** Hash of the event with seq `last`. */
  lastHash: string | null;
  /** RFC 6962 leaf hashes, 32 bytes per seq, in seq order (transferable). */
  leaves: Uint8Array;
  /** Gap records in the segment (their ranges end before them: holes elsewhere in the chain). */
  records: GapRecord[];
}

/** Why a segment was not regular (for the bench and debugging; never content). */
export function irregular(task: SegmentTask): SegmentResult {
  return {
    first: task.first,
    last: task.last,
    regular: false,
    firstPrev: null,
    lastHash: null,
    leaves: new Uint8Array(0),
    records: [],
  };
}

/** Checks the events of one segment, given in seq order (`rows` may hold fewer or other rows). */
export function checkSegment(task: SegmentTask, rows: Iterable<AuditEvent>): SegmentResult {
  const n = task.last - task.first + 1;
  const leaves = new Uint8Array(n * 32);
  const leafInput = Buffer.alloc(33);
  const records: GapRecord[] = [];
  let expected = task.first;
  let prev: string | null = null;
  let firstPrev: string | null = null;
  for (const e of rows) {
    const { hash } = e;
    if (
      e.seq !== expected ||
      e.chain_id !== task.chainId ||
      typeof hash !== 'string' ||
      !HEX_HASH.test(hash) ||
      typeof e.prev_hash !== 'string' ||
      (prev === null ? !HEX_HASH.test(e.prev_hash) : e.prev_hash !== prev) ||
      eventHash(e) !== hash
    )
      return irregular(task);
    if (prev === null) firstPrev = e.prev_hash;
    const record = parseGapRecord(e);
    if (record) records.push(record);
    // Leaf hash SHA-256(0x00 || 32 bytes of the event hash); leafInput[0] stays 0x00.
    leafInput.write(hash, 1, 32, 'hex');
    leaves.set(oneShotHash('sha256', leafInput, 'buffer'), (expected - task.first) * 32);
    prev = hash;
    expected++;
  }
  if (expected !== task.last + 1) return irregular(task);
  return { first: task.first, last: task.last, regular: true, firstPrev, lastHash: prev, leaves, records };
}
