/**
 * One chain verified with its accounted gaps (docs/integrity.md "Accounted gaps"): the chain walk
 * (verify-chain-walk.ts) run once or twice, holes matched with the chain's gap records, and the
 * damage named better when a gap record is involved (a changed record, a record naming events
 * that are not missing).
 */
import { isGapRecord, matchHoles, type GapRecord, type HoleMatching } from './gap-record.js';
import { eventHash } from './canonical-json.js';
import { verifyOneChain, type ChainWalk } from './verify-chain-walk.js';
import { damagePosition, inChainOrder, type FailureContext } from './verify-damage.js';
import type { ChainVerifyReport, Damage } from './verify-report.js';

/**
 * Verifies one chain, accepting holes that gap records account for. The first pass accepts every
 * hole whose next event is intact (the records come after the holes they name); if some hole is
 * not accounted, a second pass accepts only the accounted ones, so the first other hole is
 * diagnosed exactly as without gap records.
 */
export async function verifyChainWithGaps(
  walk: ChainWalk,
): Promise<{ report: ChainVerifyReport; failure: FailureContext | null }> {
  const { chainId, options } = walk;
  let pass = await verifyOneChain(walk, () => true);
  let matching = matchHoles(pass.holes, [...pass.records, ...pass.lateRecords]);
  const firstPass = matchHoles([...pass.holes, ...pass.suspectHoles], [...pass.records, ...pass.lateRecords]);
  if (matching.unaccounted.length > 0) {
    const accepted = new Set(matching.accounted.map((a) => a.hole.first_seq));
    pass = await verifyOneChain(walk, (first) => accepted.has(first));
    matching = matchHoles(pass.holes, [...pass.records, ...pass.lateRecords]);
  }
  const { report } = pass;
  let { failure } = pass;
  // A hole diagnosed as a deletion: say what gap records there are for it, and where they stop.
  const d = report.damage;
  const later = report.damages.filter((x) => x !== d);
  const row = failure?.row ?? null;
  if (
    d?.kind === 'deleted' &&
    row !== null &&
    isGapRecord(row) &&
    typeof row.seq === 'number' &&
    row.seq > d.seq! &&
    (row.hash === null || eventHash(row) !== row.hash)
  ) {
    // The hole is followed by its gap record, changed: name the record rather than a deletion.
    report.damage = {
      kind: 'modified',
      chain_id: chainId,
      seq: row.seq,
      event_id: row.id ?? null,
      checkpoint_size: null,
      detail: `gap record ${row.seq} (after missing events ${d.seq}..${row.seq - 1}): recomputed hash differs from the stored hash`,
    };
  } else if (d?.kind === 'deleted') {
    const u = firstPass.unaccounted.find((x) => x.hole.first_seq === d.seq);
    if (u) {
      const seq = u.covered_to !== null ? u.covered_to + 1 : d.seq;
      const range = seq === u.hole.last_seq ? `event ${seq} is` : `events ${seq}..${u.hole.last_seq} are`;
      report.damage = { ...d, seq, detail: `${range} missing: ${u.why}` };
    }
  }
  const orphan = orphanDamage(chainId, matching, pass.records);
  if (orphan && (report.damage === null || damagePosition(orphan) < damagePosition(report.damage))) {
    if (report.damage) later.push(report.damage);
    report.damage = orphan;
    failure = null;
  } else if (orphan) later.push(orphan);
  report.damages = report.damage ? [report.damage, ...inChainOrder(later, report.damage)] : [];
  report.accounted_gaps = matching.accounted.flatMap((a) =>
    a.records.map((r) => ({ ...r, chain_id: chainId })),
  );
  report.ok = report.damage === null && !(options.strict === true && report.accounted_gaps.length > 0);
  if (report.damage !== null) report.root_hash = null;
  return { report, failure };
}

/** A verified gap record that names events which are not missing: the record (or the chain) was forged. */
function orphanDamage(
  chainId: string,
  matching: HoleMatching,
  trustedRecords: readonly GapRecord[],
): Damage | null {
  const trusted = new Set(trustedRecords.map((r) => r.record_event_id));
  const o = matching.orphans
    .filter((r) => trusted.has(r.record_event_id))
    .sort((a, b) => a.record_seq - b.record_seq)[0];
  if (!o) return null;
  return {
    kind: 'modified',
    chain_id: chainId,
    seq: o.record_seq,
    event_id: o.record_event_id,
    checkpoint_size: null,
    detail: `the gap record at seq ${o.record_seq} names events ${o.first_seq}..${o.last_seq} as not stored, but the chain does not miss them`,
  };
}
