/**
 * Verifying a chain that retention pruned (docs/integrity.md "Retention: prune records"):
 *
 * - the chain's signed prune records must tile it from seq 1 up to the boundary N (the largest
 *   `last_seq`); a stretch no record names is a deletion;
 * - the events kept inside the pruned ranges (held, administrative) are each re-hashed, and per
 *   record their number and the Merkle root of their hashes must be the record's (a kept event
 *   deleted, added or changed is named with the record);
 * - the chain walk goes on from N + 1 with the frontier of the signed checkpoint at N (its root
 *   must be the record's `tree_root`), and event N + 1 must link to the record's `last_hash`;
 *   checkpoints and anchors at or below N are checked for their signature only;
 * - an event whose content was replaced by its digest is accepted only inside a signed content
 *   prune record's range, and the Merkle root of the hashes of those events as now stored must be
 *   the record's.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { EventStore } from '../store/event-store.js';
import { eventHash } from './canonical-json.js';
import type { CompactRange } from './merkle.js';
import { HashListRoot, isPrunedContent, type ContentPruneRecord, type PruneRecord } from './prune-record.js';
import { signedFrontierAt } from './prune-state.js';
import type { NoteVerifier } from './signed-note.js';
import type { ChainVerifyReport, Damage } from './verify-report.js';
import { damagePosition } from './verify-damage.js';
import type { PruneState } from './prune-state.js';

/** A pruned range as the verify report lists it. */
export interface PrunedRange {
  first_seq: number;
  last_seq: number;
  /** Events the record says were deleted. */
  deleted: number;
  /** Events kept in the range (held, administrative), checked against the record. */
  kept: number;
  policy: string;
  cutoff: string;
  at: string;
  record_chain_id: string;
  record_seq: number;
  record_event_id: string;
}

export interface PrunedStart {
  /** The boundary N: the walk starts at N + 1. */
  size: number;
  range: CompactRange;
  prevHash: string;
}

export interface PrunedChainCheck {
  start: PrunedStart | null;
  damages: Damage[];
  ranges: PrunedRange[];
  /** Kept events re-hashed. */
  kept_checked: number;
}

const where = (r: { record_chain_id: string; record_seq: number }): string =>
  `the prune record at ${r.record_chain_id} seq ${r.record_seq}`;

/** Checks the pruned part of one chain and finds where the walk starts. */
export async function checkPrunedChain(
  events: EventStore,
  checkpoints: CheckpointStore,
  chainId: string,
  records: readonly PruneRecord[],
  keys: readonly NoteVerifier[],
  prefix: string,
  pageSize: number,
): Promise<PrunedChainCheck> {
  const out: PrunedChainCheck = { start: null, damages: [], ranges: [], kept_checked: 0 };
  if (records.length === 0) return out;
  const damage = (
    kind: Damage['kind'],
    seq: number | null,
    detail: string,
    extra: Partial<Damage> = {},
  ): void => {
    out.damages.push({
      kind,
      chain_id: chainId,
      seq,
      event_id: null,
      checkpoint_size: null,
      detail,
      ...extra,
    });
  };
  // Records must tile 1..N (a record repeated with another range overlapping is a forgery's sign).
  let pos = 0;
  for (const r of records) {
    if (r.first_seq > pos + 1)
      damage(
        'deleted',
        pos + 1,
        `events ${pos + 1}..${r.first_seq - 1} are missing: no prune record names them (the next, ${where(r)}, starts at ${r.first_seq})`,
      );
    else if (r.first_seq <= pos)
      damage(
        'modified',
        r.first_seq,
        `${where(r)} names events ${r.first_seq}..${r.last_seq}, already pruned up to ${pos}`,
      );
    pos = Math.max(pos, r.last_seq);
    out.ranges.push({
      first_seq: r.first_seq,
      last_seq: r.last_seq,
      deleted: r.count,
      kept: r.kept,
      policy: r.policy,
      cutoff: r.cutoff,
      at: r.at,
      record_chain_id: r.record_chain_id,
      record_seq: r.record_seq,
      record_event_id: r.record_event_id,
    });
  }
  const boundary = pos;
  const last = records.reduce((a, b) => (b.last_seq > a.last_seq ? b : a));

  // The kept events inside the pruned ranges, against each record's count and root.
  const tallies = records.map(() => ({ root: new HashListRoot(), n: 0 }));
  let k = 0;
  for await (const e of events.iterateChain(chainId, 1, pageSize)) {
    const seq = e.seq ?? 0;
    if (seq > boundary) break;
    while (k < records.length && records[k]!.last_seq < seq) k++;
    const r = records[k];
    if (!r || r.first_seq > seq) {
      damage('inserted', seq, `event ${seq} is stored inside a pruned stretch that no prune record names`, {
        event_id: e.id,
      });
      continue;
    }
    out.kept_checked++;
    if (e.hash === null || eventHash(e) !== e.hash)
      damage(
        'modified',
        seq,
        `event ${seq}, kept by ${where(r)}: recomputed hash differs from the stored hash`,
        {
          event_id: e.id,
        },
      );
    tallies[k]!.root.add(e.hash ?? '0'.repeat(64));
    tallies[k]!.n++;
  }
  records.forEach((r, i) => {
    const t = tallies[i]!;
    const range = `events ${r.first_seq}..${r.last_seq}`;
    if (t.n < r.kept)
      damage(
        'deleted',
        r.first_seq,
        `${range} were pruned keeping ${r.kept} (held or administrative), but ${t.n} are stored: ${r.kept - t.n} kept event(s) deleted (${where(r)})`,
      );
    else if (t.n > r.kept)
      damage(
        'inserted',
        r.first_seq,
        `${range} were pruned keeping ${r.kept}, but ${t.n} are stored: ${t.n - r.kept} event(s) added, or deleted without a prune (${where(r)})`,
      );
    else if (t.root.root() !== r.kept_root)
      damage(
        'modified',
        r.first_seq,
        `${range}: the events kept are not the ones ${where(r)} kept (Merkle root differs)`,
      );
  });

  const range = await signedFrontierAt(checkpoints, chainId, boundary, keys, prefix);
  if (range === null) {
    damage(
      'checkpoint_missing',
      null,
      `events 1..${boundary} were pruned (${where(last)}), but the store has no signed checkpoint at tree size ${boundary} with its frontier to go on from`,
      { checkpoint_size: boundary },
    );
    return out;
  }
  if (range.root().toString('hex') !== last.tree_root) {
    damage(
      'modified',
      boundary,
      `${where(last)} names tree root ${last.tree_root.slice(0, 12)}… at ${boundary}, but the signed checkpoint there has another`,
      { checkpoint_size: boundary },
    );
    return out;
  }
  out.start = { size: boundary, range, prevHash: last.last_hash };
  return out;
}

/** Accepts content-pruned events inside signed content prune records and checks each record's root. */
export class ContentPruneTally {
  private readonly tallies: { root: HashListRoot; n: number }[];

  constructor(
    private readonly chainId: string,
    private readonly records: readonly ContentPruneRecord[],
  ) {
    this.tallies = records.map(() => ({ root: new HashListRoot(), n: 0 }));
  }

  /** The same records with nothing counted (one per pass over the chain). */
  fresh(): ContentPruneTally {
    return new ContentPruneTally(this.chainId, this.records);
  }

  private recordOf(e: AuditEvent): number {
    if (!isPrunedContent(e.prompt) && !isPrunedContent(e.response)) return -1;
    const seq = e.seq ?? 0;
    return this.records.findIndex((r) => r.first_seq <= seq && seq <= r.last_seq);
  }

  /** True when the event's content was pruned under a signed record (its stored hash is the original's). */
  covers(e: AuditEvent): boolean {
    return this.recordOf(e) >= 0;
  }

  /** Counts an accepted content-pruned event (call once per event, in seq order). */
  add(e: AuditEvent): void {
    const i = this.recordOf(e);
    if (i < 0) return;
    this.tallies[i]!.root.add(eventHash(e));
    this.tallies[i]!.n++;
  }

  /**
   * Records whose events are not all there as pruned, or were changed after the prune. Records the
   * walk did not wholly pass (it started after their first seq: events pruned since, or it stopped
   * before their last) are not checked for count and root.
   */
  damages(startSeq: number, reachedSeq: number): Damage[] {
    const out: Damage[] = [];
    this.records.forEach((r, i) => {
      if (r.last_seq > reachedSeq || r.first_seq < startSeq) return;
      const t = this.tallies[i]!;
      if (t.n === r.count && t.root.root() === r.pruned_root) return;
      out.push({
        kind: 'modified',
        chain_id: this.chainId,
        seq: r.first_seq,
        event_id: null,
        checkpoint_size: null,
        detail:
          t.n !== r.count
            ? `events ${r.first_seq}..${r.last_seq}: the content prune record at ${r.record_chain_id} seq ${r.record_seq} pruned the content of ${r.count}, ${t.n} are stored so`
            : `events ${r.first_seq}..${r.last_seq}: an event whose content was pruned was changed afterwards (the content prune record at ${r.record_chain_id} seq ${r.record_seq})`,
      });
    });
    return out;
  }
}

/** Adds what checking the pruned part found (verify-pruned.ts) to a chain's report. */
export function mergePruned(
  report: ChainVerifyReport,
  damages: readonly Damage[],
  ranges: PrunedRange[],
  state: PruneState,
): void {
  report.pruned = ranges;
  const all = [...damages, ...report.damages].sort((a, b) => damagePosition(a) - damagePosition(b));
  const first = all[0];
  if (first?.kind === 'deleted' && state.rejected.length > 0) {
    // A deletion someone may have tried to pass off as a prune: say which records were refused.
    const refused = state.rejected
      .slice(0, 3)
      .map((r) => `${r.chain_id ?? '?'} seq ${r.seq ?? '?'}: ${r.why}`)
      .join('; ');
    all[0] = { ...first, detail: `${first.detail} (prune record(s) not accepted: ${refused})` };
  } else if (first?.kind === 'deleted' && ranges.length > 0 && !first.detail.includes('prune record')) {
    all[0] = {
      ...first,
      detail: `${first.detail} (the prune records of this chain cover events 1..${ranges[ranges.length - 1]!.last_seq} only)`,
    };
  }
  if (all.length === 0) return;
  report.damage = all[0]!;
  report.damages = all;
  report.ok = false;
  report.root_hash = null;
}
