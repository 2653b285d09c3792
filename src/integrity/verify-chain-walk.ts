/**
 * One pass of `verify` over one chain (verifyOneChain): the fast path first when the chain is long
 * enough (segments confirmed in worker threads, verify-fast.ts), else or after any irregularity the
 * sequential walk, which recomputes every event hash, checks seq continuity and prev links, folds
 * the leaves into the RFC 6962 tree and compares the root at every checkpoint's size, and names
 * the first damage and every later one (later-damage.ts). A `--from` checkpoint, a prune boundary
 * or an incremental start (verify-since.ts) sets where the walk begins.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { EventStore } from '../store/event-store.js';
import { eventHash } from './canonical-json.js';
import type { Checkpoint } from './checkpoint.js';
import { LOST_LEAF, isGapRecord, parseGapRecord, type ChainHole, type GapRecord } from './gap-record.js';
import { GENESIS_PREV_HASH } from './hash-chain.js';
import { LaterDamageScan } from './later-damage.js';
import { CompactRange, EventLeafHasher } from './merkle.js';
import { staleness, type ChainCheckpoints, type ValidCheckpoint } from './verify-checkpoints.js';
import { classify, inChainOrder, type Diagnosis, type FailureContext } from './verify-damage.js';
import { SEGMENT_SIZE, walkSegments } from './verify-fast.js';
import type { SegmentCheckers } from './verify-pool.js';
import type { ContentPruneTally, PrunedStart } from './verify-pruned.js';
import type { ChainVerifyReport, Damage, VerifyOptions } from './verify-report.js';
import { trustedPrefix } from './verify-from.js';
import type { SinceChain } from './verify-since.js';

/** How a chain may be read besides the sequential walk: the worker pool, its head seq, the incremental start. */
export interface ChainSource {
  segments: SegmentCheckers;
  headSeq: number | null;
  /** Incremental: the verified checkpoint to start after. */
  since: SinceChain | null;
}

/** One pass over a chain: its report before gap matching, and the holes and gap records seen. */
export interface ChainPass {
  report: ChainVerifyReport;
  failure: FailureContext | null;
  holes: ChainHole[];
  suspectHoles: ChainHole[];
  records: GapRecord[];
  lateRecords: GapRecord[];
}

/** One chain to verify: where to read it, what it is checked against, and where the walk begins. */
export interface ChainWalk {
  events: EventStore;
  chainId: string;
  cps: ChainCheckpoints;
  options: VerifyOptions;
  /** The chain's stored event count, for progress (null: unknown). */
  total: number | null;
  /** A `--from` checkpoint: the prefix up to it is read only for its links and leaves. */
  trusted: Checkpoint | null;
  /** The prune boundary: the walk begins after it, from its signed frontier. */
  start: PrunedStart | null;
  /** Signed content-prune records of the chain (events whose content was pruned). */
  contentRecords: ContentPruneTally;
  source: ChainSource;
}

/** One pass over `walk`'s chain, accepting the holes `acceptHole` takes (gap matching, verify-gaps.ts). */
export async function verifyOneChain(
  walk: ChainWalk,
  acceptHole: (firstSeq: number) => boolean,
): Promise<ChainPass> {
  const { events, chainId, cps, options, trusted, start, contentRecords, source } = walk;
  let total = walk.total;
  // A fresh tally per pass: each pass walks the chain again.
  const content = contentRecords.fresh();
  /** The stored hash is the event's own, or its content was pruned under a signed record. */
  const selfValid = (e: AuditEvent): boolean =>
    e.hash !== null && (eventHash(e) === e.hash || content.covers(e));
  const leafHasher = new EventLeafHasher();
  const holes: ChainHole[] = [];
  /** Gap records of the verified part of the chain. */
  const records: GapRecord[] = [];
  /** Gap records after the first damage (intact themselves): only to name the damage better. */
  const lateRecords: GapRecord[] = [];
  /** Holes not accepted because a signed checkpoint covers them (only to name the damage better). */
  const suspectHoles: ChainHole[] = [];
  let range = new CompactRange();
  let expected = 1;
  let prev = GENESIS_PREV_HASH;
  let checked = 0;
  let eventDamage: Damage | null = null;
  let failure: FailureContext | null = null;
  const progressEvery = options.progressEvery ?? 100_000;
  const pageSize = options.pageSize ?? 5000;

  // Checkpoints are compared when the tree reaches their size.
  const valid = cps.valid;
  let next = 0;
  let lastMatched: ValidCheckpoint | null = null;
  /** The newest matched checkpoint of a smaller size than `lastMatched`. */
  let matchedBefore: ValidCheckpoint | null = null;
  let rootDamage: Damage | null = null;
  const compareAt = (size: number): void => {
    if (rootDamage) return;
    while (next < valid.length && valid[next]!.checkpoint.treeSize <= size) {
      const cp = valid[next]!;
      if (cp.checkpoint.treeSize === size) {
        if (range.root().equals(cp.checkpoint.rootHash)) {
          if (lastMatched && lastMatched.checkpoint.treeSize < size) matchedBefore = lastMatched;
          lastMatched = cp;
        } else {
          // The last root that matched below this size (another checkpoint of this same size may
          // have matched: a store re-signed after a rewrite, against an anchored one).
          const below =
            lastMatched && lastMatched.checkpoint.treeSize < size ? lastMatched : (matchedBefore ?? null);
          const after = below ? below.checkpoint.treeSize : (trusted?.treeSize ?? start?.size ?? 0);
          rootDamage = {
            kind: 'modified',
            chain_id: chainId,
            seq: after + 1,
            event_id: null,
            checkpoint_size: size,
            detail: `events ${after + 1}..${size} were rewritten consistently, but the tree root differs from the signed ${cp.fromWitness ? 'witness ' : ''}checkpoint at tree size ${size}`,
          };
          return;
        }
      }
      next++;
    }
  };
  compareAt(0);
  if (start) {
    // Pruned up to start.size: go on from the signed frontier there (verify-pruned.ts checked it).
    range = start.range.clone();
    expected = start.size + 1;
    prev = start.prevHash;
    while (next < valid.length && valid[next]!.checkpoint.treeSize <= start.size) {
      const cp = valid[next]!;
      if (cp.checkpoint.treeSize === start.size && range.root().equals(cp.checkpoint.rootHash))
        lastMatched = cp;
      next++;
    }
  }
  /** Lost positions up to `upTo`, stopping at each checkpoint size on the way to compare its root. */
  const passLost = (upTo: number): void => {
    while (range.size < upTo && !rootDamage) {
      const cpSize = next < valid.length ? valid[next]!.checkpoint.treeSize : upTo;
      range.appendRepeated(LOST_LEAF, Math.min(upTo, cpSize) - range.size);
      if (next < valid.length && valid[next]!.checkpoint.treeSize === range.size) compareAt(range.size);
    }
  };

  if (trusted) {
    const p = await trustedPrefix(events, chainId, trusted, acceptHole, pageSize, leafHasher);
    if (p) {
      range = p.range;
      expected = trusted.treeSize + 1;
      prev = p.lastHash;
      holes.push(...p.holes);
      records.push(...p.records);
      while (next < valid.length && valid[next]!.checkpoint.treeSize <= trusted.treeSize) next++;
    }
    // Otherwise the prefix changed since the trusted checkpoint: verify everything to find where.
  }

  let walkFrom = start ? start.size + 1 : 1;
  if (source.since && !trusted && source.since.checkpoint.checkpoint.treeSize >= (start?.size ?? 0)) {
    // Incremental: the tree and the last hash at the verified checkpoint, tied to its signature.
    const since = source.since;
    range = since.range.clone();
    expected = since.checkpoint.checkpoint.treeSize + 1;
    prev = since.prev;
    lastMatched = since.checkpoint;
    while (next < valid.length && valid[next]!.checkpoint.treeSize <= range.size) next++;
    walkFrom = expected;
    if (total !== null && source.headSeq !== null) total = Math.max(0, source.headSeq - range.size);
  }

  const checker =
    options.sequentialOnly !== true && source.headSeq !== null && source.headSeq >= expected
      ? source.segments.for(source.headSeq - expected + 1)
      : null;
  if (checker && source.headSeq !== null) {
    // The fast path: confirm the chain intact segment by segment, hashed in worker threads. At the
    // first irregular segment or root mismatch, start over from here with the sequential walk
    // (which then reads again what the workers confirmed: damage costs a second pass).
    const saved = { range: range.clone(), next, lastMatched, matchedBefore, records: records.length };
    let nextProgress = progressEvery;
    let lastHash = prev;
    let walked = 0;
    let ok: boolean;
    try {
      ok = await walkSegments({
        checker,
        chainId,
        from: expected,
        to: source.headSeq,
        prev,
        segmentSize: options.segmentSize ?? SEGMENT_SIZE,
        onSegment: (r) => {
          const n = r.last - r.first + 1;
          for (let i = 0; i < n; i++) {
            range.append(Buffer.from(r.leaves.buffer, r.leaves.byteOffset + i * 32, 32));
            if (next < valid.length && valid[next]!.checkpoint.treeSize === range.size) compareAt(range.size);
            if (rootDamage) return false;
          }
          records.push(...r.records);
          walked += n;
          lastHash = r.lastHash!;
          while (options.onProgress && nextProgress <= walked) {
            options.onProgress({ chain_id: chainId, events: nextProgress, total });
            nextProgress += progressEvery;
          }
          return true;
        },
      });
    } catch {
      // A worker failed (or could not start): the sequential walk reads the chain instead.
      source.segments.failed(checker);
      ok = false;
    }
    if (ok) {
      if (source.segments.inPool(checker)) source.segments.inWorkers += walked;
      checked = walked;
      expected = source.headSeq + 1;
      prev = lastHash;
    } else {
      range = saved.range;
      next = saved.next;
      lastMatched = saved.lastMatched;
      matchedBefore = saved.matchedBefore;
      rootDamage = null;
      records.length = saved.records;
    }
  }

  let diagnosing: Diagnosis | null = null;
  /** After the first damage: every later row is still checked (later-damage.ts). */
  let later: LaterDamageScan | null = null;
  let lastId: string | null = null;
  let lastPrev: string | null = null;
  for await (const e of events.iterateChain(chainId, expected, pageSize)) {
    if (later) {
      const valid = selfValid(e);
      later.next(e, valid);
      if (valid && isGapRecord(e)) {
        const late = parseGapRecord(e);
        if (late) lateRecords.push(late);
      }
      if (diagnosing) {
        if (diagnosing.candidate === null && e.prev_hash === prev) diagnosing.candidate = e;
        if (
          !diagnosing.rowHasSuccessor &&
          diagnosing.row.hash !== null &&
          e.prev_hash === diagnosing.row.hash
        )
          diagnosing.rowHasSuccessor = true;
      }
      continue;
    }
    checked++;
    // A hole followed by an intact event: accepted for now, kept only if a gap record accounts for it.
    let hole =
      typeof e.seq === 'number' &&
      e.seq > expected &&
      e.hash !== null &&
      typeof e.prev_hash === 'string' &&
      acceptHole(expected) &&
      selfValid(e);
    if (hole) {
      const found: ChainHole = { first_seq: expected, last_seq: e.seq! - 1, next_prev_hash: e.prev_hash };
      const saved: {
        range: CompactRange;
        next: number;
        lastMatched: ValidCheckpoint | null;
        matchedBefore: ValidCheckpoint | null;
      } = {
        range: range.clone(),
        next,
        lastMatched,
        matchedBefore,
      };
      passLost(found.last_seq);
      if (rootDamage) {
        // A signed checkpoint was made over a real event in this range: no writer gap, a deletion.
        range = saved.range;
        next = saved.next;
        lastMatched = saved.lastMatched;
        matchedBefore = saved.matchedBefore;
        rootDamage = null;
        suspectHoles.push(found);
        hole = false;
      } else {
        holes.push(found);
        expected = e.seq!;
        prev = e.prev_hash!;
      }
    }
    if (e.seq === expected && e.prev_hash === prev && e.hash !== null && (hole || selfValid(e))) {
      if (eventHash(e) !== e.hash) content.add(e);
      const record = parseGapRecord(e);
      if (record) records.push(record);
      range.append(leafHasher.hash(e.hash));
      lastId = e.id;
      lastPrev = e.prev_hash;
      prev = e.hash;
      expected++;
      if (next < valid.length && valid[next]!.checkpoint.treeSize === range.size) compareAt(range.size);
      if (rootDamage) {
        // Events up to here were rewritten consistently; keep checking the rows after them.
        later = new LaterDamageScan(chainId, e, false);
        continue;
      }
      if (options.onProgress && checked % progressEvery === 0)
        options.onProgress({ chain_id: chainId, events: checked, total });
      continue;
    }
    diagnosing = {
      row: e,
      candidate: e.prev_hash === prev ? e : null,
      rowHasSuccessor: false,
      lastId,
      lastPrev,
    };
    later = new LaterDamageScan(chainId, e, true);
    const late = e.hash !== null && isGapRecord(e) && eventHash(e) === e.hash ? parseGapRecord(e) : null;
    if (late) lateRecords.push(late);
  }
  if (diagnosing) {
    eventDamage = classify(chainId, diagnosing, expected);
    failure = { expectedSeq: expected, prevHash: prev, row: diagnosing.row };
  } else if (!rootDamage) {
    const longest = valid.length > 0 ? valid[valid.length - 1]! : null;
    if (longest && longest.checkpoint.treeSize > range.size) {
      eventDamage = {
        kind: 'truncated',
        chain_id: chainId,
        seq: range.size + 1,
        event_id: null,
        checkpoint_size: longest.checkpoint.treeSize,
        detail: `the chain ends at seq ${range.size} but a signed ${longest.fromWitness ? 'witness ' : ''}checkpoint covers ${longest.checkpoint.treeSize} events`,
      };
      failure = { expectedSeq: expected, prevHash: prev, row: null };
    }
  }
  options.onProgress?.({ chain_id: chainId, events: checked, total });

  // The first damage in chain order: event damage at seq s comes before checkpoint damage at
  // tree size >= s; checkpoint damage at a smaller size comes first.
  const candidates: { pos: number; damage: Damage }[] = [];
  if (eventDamage) candidates.push({ pos: eventDamage.seq! - 0.5, damage: eventDamage });
  if (rootDamage) {
    const rd: Damage = rootDamage;
    candidates.push({ pos: rd.checkpoint_size!, damage: rd });
  }
  for (const p of cps.problems) candidates.push({ pos: p.size, damage: p.damage });
  for (const d of content.damages(walkFrom, expected - 1)) candidates.push({ pos: d.seq! - 0.5, damage: d });
  const stale = staleness(
    chainId,
    lastMatched ?? (valid.length > 0 ? valid[valid.length - 1]! : null),
    options,
    range.size,
  );
  if (stale) candidates.push({ pos: Number.MAX_SAFE_INTEGER, damage: stale });
  candidates.sort((a, b) => a.pos - b.pos);
  const damage = candidates[0]?.damage ?? null;
  const laterDamages = later ? later.damages([...records, ...lateRecords]) : [];
  const damages = damage
    ? [damage, ...inChainOrder([...candidates.slice(1).map((c) => c.damage), ...laterDamages], damage)]
    : [];

  const latest: ValidCheckpoint | null = lastMatched;
  const intactUpTo = damage === null;
  return {
    holes,
    suspectHoles,
    records,
    lateRecords,
    report: {
      chain_id: chainId,
      ok: intactUpTo,
      events_checked: checked - (diagnosing ? 1 : 0),
      tree_size: range.size,
      root_hash: intactUpTo ? range.root().toString('base64') : null,
      checkpoints_checked: cps.checked,
      latest_checkpoint: latest
        ? {
            tree_size: latest.checkpoint.treeSize,
            time: latest.checkpoint.timeMs === null ? null : new Date(latest.checkpoint.timeMs).toISOString(),
            note: latest.note,
          }
        : null,
      damage,
      damages,
      accounted_gaps: [],
      pruned: [],
    },
    failure: damage === eventDamage ? failure : null,
  };
}
