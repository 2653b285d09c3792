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

/** One worker thread's reads and checks of segments (sqlite-segment-reader.ts, postgres-segment-reader.ts). */
export interface SegmentReader {
  check(task: SegmentTask): SegmentResult | Promise<SegmentResult>;
  close(): Promise<void>;
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
const SEQ = AUDIT_EVENT_FIELDS.indexOf('seq');

/**
 * How a segment's rows are read: where the links are, the canonical bytes of an ordinary row, and
 * the row's columns (AUDIT_EVENT_FIELDS order) for the slow way (an admin event, a row the fast
 * bytes do not cover or do not confirm).
 */
export interface SegmentRows {
  /** The row's seq as the store decodes it (SQLite: as stored; PostgreSQL: bigint text as a number). */
  seq(row: readonly unknown[]): unknown;
  chainId(row: readonly unknown[]): unknown;
  hash(row: readonly unknown[]): unknown;
  prevHash(row: readonly unknown[]): unknown;
  isAdmin(row: readonly unknown[]): boolean;
  /** The canonical JSON of an ordinary row, or null: the slow way decides. */
  fast(row: readonly unknown[]): string | null;
  /** The row's columns in AUDIT_EVENT_FIELDS order (called after the segment's rows are read). */
  columns(row: readonly unknown[], chainId: string, seq: number): readonly unknown[] | null;
  canonical: CanonicalColumns;
  /** The event the store decodes from the columns (for the reference serializer and gap records). */
  decode(values: readonly unknown[]): AuditEvent;
}

/** The reader of rows in AUDIT_EVENT_FIELDS column order (EventStore.readChainColumns). */
export function segmentRows(codec: ChainColumns['codec'], decode: ChainColumns['decode']): SegmentRows {
  const canonical = new CanonicalColumns(codec);
  return {
    // As the store decodes seq: SQLite as stored, PostgreSQL's bigint text with Number().
    seq:
      codec === 'sqlite'
        ? (v) => v[SEQ]
        : (v) => (v[SEQ] === null || v[SEQ] === undefined ? null : Number(v[SEQ])),
    chainId: (v) => v[CHAIN_ID],
    hash: (v) => v[HASH],
    prevHash: (v) => v[PREV_HASH],
    isAdmin: (v) => v[HTTP_METHOD] === ADMIN_METHOD,
    fast: (v) => canonical.fast(v),
    columns: (v) => v,
    canonical,
    decode,
  };
}

/**
 * Checks the rows of one segment, given in seq order (`rows` may hold fewer or other rows): the
 * links of every row first, the canonical bytes of an ordinary row from `reader.fast`; an admin
 * event (a gap record?) and a row whose fast bytes are missing or do not match its hash are
 * checked afterwards from its columns, with the reference serializer where needed.
 */
export function checkSegment(
  task: SegmentTask,
  rows: Iterable<readonly unknown[]>,
  reader: SegmentRows,
): SegmentResult {
  const n = task.last - task.first + 1;
  const leaves = new Uint8Array(n * 32);
  const leafInput = Buffer.alloc(33);
  /** Seq and stored hash of the rows to check from their columns, in seq order. */
  const slow: { row: readonly unknown[]; seq: number; hash: string }[] = [];
  let expected = task.first;
  let prev: string | null = null;
  let firstPrev: string | null = null;
  for (const row of rows) {
    const hash = reader.hash(row);
    const prevHash = reader.prevHash(row);
    if (
      reader.seq(row) !== expected ||
      reader.chainId(row) !== task.chainId ||
      typeof hash !== 'string' ||
      !HEX_HASH.test(hash) ||
      typeof prevHash !== 'string' ||
      (prev === null ? !HEX_HASH.test(prevHash) : prevHash !== prev)
    )
      return irregular(task);
    const json = reader.isAdmin(row) ? null : reader.fast(row);
    if (json === null || oneShotHash('sha256', json, 'hex') !== hash) slow.push({ row, seq: expected, hash });
    if (prev === null) firstPrev = prevHash;
    // Leaf hash SHA-256(0x00 || 32 bytes of the event hash); leafInput[0] stays 0x00.
    leafInput.write(hash, 1, 32, 'hex');
    leaves.set(oneShotHash('sha256', leafInput, 'buffer'), (expected - task.first) * 32);
    prev = hash;
    expected++;
  }
  if (expected !== task.last + 1) return irregular(task);
  const records: GapRecord[] = [];
  for (const { row, seq, hash } of slow) {
    const values = reader.columns(row, task.chainId, seq);
    if (values === null || values[HASH] !== hash) return irregular(task);
    const admin = values[HTTP_METHOD] === ADMIN_METHOD ? reader.decode(values) : null;
    const json = reader.canonical.fast(values) ?? canonicalEventJson(admin ?? reader.decode(values));
    if (oneShotHash('sha256', json, 'hex') !== hash) return irregular(task);
    const record = admin ? parseGapRecord(admin) : null;
    if (record) records.push(record);
  }
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
