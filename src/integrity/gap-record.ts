/**
 * Chained gap records: when the writer can neither store nor spool some events, their seqs stay
 * used, so the chain has a hole. The writer then records an administrative event in the same
 * chain that names the hole (docs/integrity.md "Accounted gaps"):
 *
 *   endpoint       `admin:audit.gap`, http_method `ADMIN` (left out of cost rollups)
 *   request_source `writer`
 *   error_code     the reason as a catalog code (TG_ERR_SPOOL_FULL, TG_ERR_AUDIT_UNAVAILABLE, TG_ERR_STORE_WRITE)
 *   error_message  `events not stored: chain=<chain_id> seq=<first>..<last> count=<n>
 *                   reason=<reason> since=<ISO time> last_hash=<hex hash of event <last>>` (one line)
 *
 * The record is hashed and linked like every event, so it cannot be added, edited or removed
 * without breaking the chain. `tollgate verify` accepts a hole only when records of the chain,
 * placed after it, name exactly its range, and the event after the hole links to the recorded
 * last hash. In the Merkle tree a lost event keeps its position: its leaf is LOST_LEAF, so
 * tree sizes stay equal to seqs and checkpoints go on past the hole.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import { EventLeafHasher, type Hash } from './merkle.js';

/** Endpoint of a gap record (an administrative action of the writer). */
export const GAP_RECORD_ACTION = 'admin:audit.gap';
/** `request_source` of a gap record. */
export const GAP_RECORD_ACTOR = 'writer';

/**
 * Why events are missing. `crash`: the process died (SIGKILL, power loss) holding events it had
 * chained but not yet stored or spooled; the range is the seqs it had reserved (hash-chain.ts
 * `SeqReserver`) past the last one stored, so `count` is an upper bound ("up to"), and
 * `last_hash` is the hash the chain resumes from (that of the event before the range), since the
 * hash of a lost event is not known after the crash.
 */
export type GapReason = 'queue_full' | 'spool_full' | 'spool_corrupt' | 'crash';

/** The missing range a gap record names. */
export interface GapRange {
  chain_id: string;
  first_seq: number;
  last_seq: number;
  count: number;
  reason: GapReason;
  /**
   * When the first event of the range was lost (ISO-8601). For `crash`: a lower bound on when the
   * lost events were answered (the end of the last event stored before the range).
   */
  at: string;
  /**
   * The next stored event's `prev_hash`: `hash` of the event at `last_seq`, or for `crash` the
   * hash of the event before the range (the chain resumes from it).
   */
  last_hash: string;
}

/** A gap record as found in the store. */
export interface GapRecord extends GapRange {
  /** Seq and id of the record itself. */
  record_seq: number;
  record_event_id: string;
}

/** Error code a gap record carries for its reason. */
export const GAP_REASON_CODE: Record<GapReason, string> = {
  spool_full: 'TG_ERR_SPOOL_FULL',
  queue_full: 'TG_ERR_AUDIT_UNAVAILABLE',
  spool_corrupt: 'TG_ERR_STORE_WRITE',
  crash: 'TG_ERR_AUDIT_UNAVAILABLE',
};

/** The record's `error_message`. */
export function formatGapMessage(g: GapRange): string {
  return `events not stored: chain=${encodeURIComponent(g.chain_id)} seq=${g.first_seq}..${g.last_seq} count=${g.count} reason=${g.reason} since=${g.at} last_hash=${g.last_hash}`;
}

const MESSAGE =
  /^events not stored: chain=(\S+) seq=([1-9][0-9]*)\.\.([1-9][0-9]*) count=([1-9][0-9]*) reason=(queue_full|spool_full|spool_corrupt|crash) since=(\S+) last_hash=([0-9a-f]{64})$/;

/** True when the event claims to be a gap record (whether or not it is a well-formed one). */
export function isGapRecord(e: AuditEvent): boolean {
  return e.endpoint === GAP_RECORD_ACTION && e.http_method === ADMIN_METHOD;
}

/**
 * The range a gap record names, or null when the event is not a well-formed gap record of its
 * own chain (a range that does not end before the record, a count that does not match the range).
 */
export function parseGapRecord(e: AuditEvent): GapRecord | null {
  if (!isGapRecord(e) || e.chain_id === null || e.seq === null || e.error_message === null) return null;
  const m = MESSAGE.exec(e.error_message);
  if (!m) return null;
  let chain: string;
  try {
    chain = decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
  const first = Number(m[2]);
  const last = Number(m[3]);
  const count = Number(m[4]);
  if (
    chain !== e.chain_id ||
    !Number.isSafeInteger(last) ||
    first > last ||
    count !== last - first + 1 ||
    last >= e.seq
  )
    return null;
  return {
    chain_id: chain,
    first_seq: first,
    last_seq: last,
    count,
    reason: m[5] as GapReason,
    at: m[6]!,
    last_hash: m[7]!,
    record_seq: e.seq,
    record_event_id: e.id,
  };
}

/** Leaf data of a lost event: 32 zero bytes, which no event hashes to. */
export const LOST_LEAF_DATA = '0'.repeat(64);

/** RFC 6962 leaf hash of a lost event's position: SHA-256(0x00 || 32 zero bytes). */
export const LOST_LEAF: Hash = new EventLeafHasher().hash(LOST_LEAF_DATA);

/** A run of seqs missing from a stored chain. */
export interface ChainHole {
  first_seq: number;
  last_seq: number;
  /** `prev_hash` of the stored event right after the hole. */
  next_prev_hash: string | null;
}

export interface HoleMatch {
  hole: ChainHole;
  /** The records that name the hole, in seq order (one, unless a record itself was lost). */
  records: GapRecord[];
}

export interface UnaccountedHole {
  hole: ChainHole;
  /** Records name the hole from its start up to this seq only (null: none names its start). */
  covered_to: number | null;
  /** Why the hole is not accounted, for the verify report (seqs and ids only). */
  why: string;
}

export interface HoleMatching {
  accounted: HoleMatch[];
  unaccounted: UnaccountedHole[];
  /** Records that name events which are not missing (or that no hole explains). */
  orphans: GapRecord[];
}

/**
 * Matches the holes of one chain with its gap records. A hole is accounted when records tile it
 * exactly (first_seq of the hole, each record starting where the previous one ended, the last
 * ending with the hole) and the last record's `last_hash` is the next stored event's `prev_hash`.
 * Identical records (a record replayed twice) count once.
 */
export function matchHoles(holes: readonly ChainHole[], records: readonly GapRecord[]): HoleMatching {
  const byFirst = new Map<number, GapRecord[]>();
  const seen = new Set<string>();
  const unique: GapRecord[] = [];
  for (const r of [...records].sort((a, b) => a.record_seq - b.record_seq)) {
    const key = `${r.first_seq}:${r.last_seq}:${r.last_hash}:${r.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(r);
    const list = byFirst.get(r.first_seq) ?? [];
    list.push(r);
    byFirst.set(r.first_seq, list);
  }
  const used = new Set<GapRecord>();
  const accounted: HoleMatch[] = [];
  const unaccounted: UnaccountedHole[] = [];
  for (const hole of holes) {
    const tiles: GapRecord[] = [];
    let pos = hole.first_seq;
    let why: string | null = null;
    while (pos <= hole.last_seq) {
      const next: GapRecord | undefined = (byFirst.get(pos) ?? []).find((r) => r.last_seq <= hole.last_seq);
      if (!next) {
        const longer = byFirst.get(pos)?.[0];
        const inside = unique.filter((r) => r.first_seq > pos && r.first_seq <= hole.last_seq);
        for (const r of [...inside, ...(longer ? [longer] : [])]) used.add(r);
        why = longer
          ? `the gap record at seq ${longer.record_seq} names events ${longer.first_seq}..${longer.last_seq}, but event ${hole.last_seq + 1} is stored`
          : inside.length > 0
            ? `the gap record at seq ${inside[0]!.record_seq} names events ${inside[0]!.first_seq}..${inside[0]!.last_seq} only`
            : tiles.length > 0
              ? `gap records account for events ${hole.first_seq}..${pos - 1} only`
              : 'no gap record names these events';
        break;
      }
      tiles.push(next);
      pos = next.last_seq + 1;
    }
    for (const t of tiles) used.add(t);
    if (why === null) {
      const last = tiles[tiles.length - 1]!;
      if (last.last_hash !== hole.next_prev_hash) {
        why = `the gap record at seq ${last.record_seq} names them, but event ${hole.last_seq + 1} does not link to the last hash it recorded`;
      }
    }
    if (why === null) accounted.push({ hole, records: tiles });
    // Records that name the whole hole but do not link to the next event account for none of it.
    else
      unaccounted.push({
        hole,
        covered_to: tiles.length > 0 && pos <= hole.last_seq ? tiles[tiles.length - 1]!.last_seq : null,
        why,
      });
  }
  return { accounted, unaccounted, orphans: unique.filter((r) => !used.has(r)) };
}
