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
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import { AUDIT_EVENT_FIELDS, type AuditEvent } from '../core/audit-event.js';
import type { ChainColumns } from '../store/event-store.js';
import { CanonicalColumns } from './canonical-columns.js';
import { canonicalEventJson } from './canonical-json.js';
import { parseGapRecord, type GapRecord } from './gap-record.js';

const HEX_HASH = /^[0-9a-f]{64}$/;

/** A seq range of one chain to check. */
export interface SegmentTask {
  chainId: string;
  /** First and last seq, inclusive. */
  first: number;
  last: number;
  /**
   * Links only (CheckpointWriter.resume): seqs, hash format and prev links are checked and the
   * leaves computed from the stored hashes; events are not re-hashed (see checkLinks).
   */
  links?: boolean;
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

const CHAIN_ID = AUDIT_EVENT_FIELDS.indexOf('chain_id');
const HASH = AUDIT_EVENT_FIELDS.indexOf('hash');
const PREV_HASH = AUDIT_EVENT_FIELDS.indexOf('prev_hash');
const HTTP_METHOD = AUDIT_EVENT_FIELDS.indexOf('http_method');

/** How a store's rows (columns in AUDIT_EVENT_FIELDS order) are read: canonical bytes and, rarely, the event. */
export interface SegmentRows {
  canonical: CanonicalColumns;
  /** The event the store decodes from the row (for the reference serializer and gap records). */
  decode(values: readonly unknown[]): AuditEvent;
  /** The row's seq as the store decodes it (SQLite: as stored; PostgreSQL: bigint text as a number). */
  seq(values: readonly unknown[]): unknown;
}

const SEQ = AUDIT_EVENT_FIELDS.indexOf('seq');

/** The reader of a store's column rows (EventStore.readChainColumns). */
export function segmentRows(codec: ChainColumns['codec'], decode: ChainColumns['decode']): SegmentRows {
  return {
    canonical: new CanonicalColumns(codec),
    decode,
    // As the store decodes seq: SQLite as stored, PostgreSQL's bigint text with Number().
    seq:
      codec === 'sqlite'
        ? (v) => v[SEQ]
        : (v) => (v[SEQ] === null || v[SEQ] === undefined ? null : Number(v[SEQ])),
  };
}

/**
 * Checks the rows of one segment, given in seq order as column arrays (`rows` may hold fewer or
 * other rows): no event object is made for an ordinary row (canonical-columns.ts).
 */
export function checkSegment(
  task: SegmentTask,
  rows: Iterable<readonly unknown[]>,
  reader: SegmentRows,
): SegmentResult {
  const n = task.last - task.first + 1;
  const leaves = new Uint8Array(n * 32);
  const leafInput = Buffer.alloc(33);
  const records: GapRecord[] = [];
  let expected = task.first;
  let prev: string | null = null;
  let firstPrev: string | null = null;
  for (const row of rows) {
    const hash = row[HASH];
    const prevHash = row[PREV_HASH];
    if (
      reader.seq(row) !== expected ||
      row[CHAIN_ID] !== task.chainId ||
      typeof hash !== 'string' ||
      !HEX_HASH.test(hash) ||
      typeof prevHash !== 'string' ||
      (prev === null ? !HEX_HASH.test(prevHash) : prevHash !== prev)
    )
      return irregular(task);
    const admin = row[HTTP_METHOD] === ADMIN_METHOD ? reader.decode(row) : null;
    const json = reader.canonical.fast(row) ?? canonicalEventJson(admin ?? reader.decode(row));
    if (oneShotHash('sha256', json, 'hex') !== hash) return irregular(task);
    if (prev === null) firstPrev = prevHash;
    const record = admin ? parseGapRecord(admin) : null;
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

/**
 * The links-only check of a segment for resuming checkpoints (checkpoint-writer.ts): rows of
 * `[seq, hash, prev_hash]` must be every seq of the range once, in order, each hash well-formed
 * and each prev_hash the previous hash; the leaves come from the stored hashes. Regular only when
 * the sequential resume would take the same rows without a hole or a break.
 */
export function checkLinks(task: SegmentTask, rows: Iterable<readonly unknown[]>): SegmentResult {
  const n = task.last - task.first + 1;
  const leaves = new Uint8Array(n * 32);
  const leafInput = Buffer.alloc(33);
  let expected = task.first;
  let prev: string | null = null;
  let firstPrev: string | null = null;
  for (const [seq, hash, prevHash] of rows) {
    if (
      seq !== expected ||
      typeof hash !== 'string' ||
      !HEX_HASH.test(hash) ||
      typeof prevHash !== 'string' ||
      (prev === null ? !HEX_HASH.test(prevHash) : prevHash !== prev)
    )
      return irregular(task);
    if (prev === null) firstPrev = prevHash;
    leafInput.write(hash, 1, 32, 'hex');
    leaves.set(oneShotHash('sha256', leafInput, 'buffer'), (expected - task.first) * 32);
    prev = hash;
    expected++;
  }
  if (expected !== task.last + 1) return irregular(task);
  return {
    first: task.first,
    last: task.last,
    regular: true,
    firstPrev,
    lastHash: prev,
    leaves,
    records: [],
  };
}
