/**
 * Naming and ordering the damage `verify` finds: what the first failing row of a chain is
 * (modified, deleted, inserted, reordered; classify), an event moved to another chain
 * (reclassifyMovedEvents), and damages in chain order without repeats.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { eventHash } from './canonical-json.js';
import type { ChainVerifyReport, Damage, DamageKind } from './verify-report.js';

/** Internal: the row at which a chain first failed, for the cross-chain pass. */
export interface FailureContext {
  expectedSeq: number;
  prevHash: string;
  row: AuditEvent | null;
}

/** Damages in chain order, without repeats of `first` or of each other (same kind, place and event). */
export function inChainOrder(list: readonly Damage[], first: Damage): Damage[] {
  const seen = new Set<string>([damageKey(first)]);
  const named = new Set<string>(first.event_id !== null ? [first.event_id] : []);
  const out: Damage[] = [];
  for (const d of [...list].sort((a, b) => damagePosition(a) - damagePosition(b))) {
    const key = damageKey(d);
    // The first damage may name an event found further on (a moved event): not twice.
    if (seen.has(key) || (d.event_id !== null && named.has(d.event_id) && d.kind === 'modified')) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function damageKey(d: Damage): string {
  return `${d.kind}:${d.seq}:${d.event_id}:${d.checkpoint_size}`;
}

/** Position of a damage in chain order (event damage just before its seq, checkpoint damage at its size). */
export function damagePosition(d: Damage): number {
  if (d.seq !== null && d.kind !== 'checkpoint_forged' && d.kind !== 'checkpoint_missing') return d.seq - 0.5;
  return d.checkpoint_size ?? Number.MAX_SAFE_INTEGER;
}

/** What the verifier saw from the first failing row to the end of the chain. */
export interface Diagnosis {
  /** The first row that failed. */
  row: AuditEvent;
  /** The first row from there on that links to the last good hash (the event that belongs here). */
  candidate: AuditEvent | null;
  /** Whether a later row links to the failing row's hash. */
  rowHasSuccessor: boolean;
  /** Id and prev_hash of the last event accepted before the failure. */
  lastId: string | null;
  lastPrev: string | null;
}

/** Names the damage at the first failing row (expected seq `e`, last good hash `ph`). */
export function classify(chainId: string, d: Diagnosis, e: number): Damage {
  const { row: r, candidate: c } = d;
  const at = (kind: DamageKind, detail: string): Damage => ({
    kind,
    chain_id: chainId,
    seq: e,
    event_id: r.id ?? null,
    checkpoint_size: null,
    detail,
  });
  const rSeq = typeof r.seq === 'number' ? r.seq : null;
  if (
    rSeq === e - 1 &&
    c === null &&
    d.rowHasSuccessor &&
    r.prev_hash === d.lastPrev &&
    r.hash !== null &&
    eventHash(r) === r.hash
  ) {
    // Two valid events claim seq e-1 with the same predecessor; the chain continues from this
    // one, so the one accepted before it was the extra.
    return {
      kind: 'inserted',
      chain_id: chainId,
      seq: e - 1,
      event_id: d.lastId,
      checkpoint_size: null,
      detail: `an extra event with seq ${e - 1} stands before event ${e - 1}`,
    };
  }
  if (c === r) {
    // The row links to the last good event, so it is the right event, changed.
    return at(
      'modified',
      rSeq === e
        ? `event ${e}: recomputed hash differs from the stored hash`
        : `event ${e}: its seq was changed to ${rSeq}`,
    );
  }
  // An extra row with a valid hash was inserted; one whose hash no longer matches was changed.
  const selfValid = r.hash !== null && eventHash(r) === r.hash;
  if (rSeq === null || rSeq < e) {
    return selfValid
      ? at('inserted', `an extra event with seq ${rSeq} follows event ${e - 1}`)
      : at('modified', `an event changed to seq ${rSeq} shows up after event ${e - 1}`);
  }
  if (c !== null) {
    if (c.seq === e) {
      return selfValid
        ? at('inserted', `an extra event with seq ${rSeq} stands before event ${e}`)
        : at('modified', `an event changed to seq ${rSeq} stands before event ${e}`);
    }
    // The changed event is c, found further on; name it rather than the row in its place.
    const changed = (detail: string): Damage => ({ ...at('modified', detail), event_id: c.id ?? null });
    if (c.hash !== null && eventHash({ ...c, seq: e }) === c.hash) {
      return rSeq === e
        ? at('reordered', `event ${e} was moved to seq ${c.seq} and another event put in its place`)
        : changed(`event ${e}: its seq was changed to ${c.seq}`);
    }
    return changed(`event ${e} was changed and moved to seq ${c.seq}`);
  }
  if (rSeq > e) return at('deleted', `event ${e}${rSeq > e + 1 ? `..${rSeq - 1}` : ''} is missing`);
  return at('modified', `event ${e}: its link or content was changed`);
}

/**
 * An event whose chain_id was changed leaves its own chain (which then looks like a deletion) and
 * starts a bogus chain of its own. Recognise the pair and report a modification instead.
 */
export function reclassifyMovedEvents(
  reports: ChainVerifyReport[],
  failures: Map<string, FailureContext>,
): void {
  for (const rep of reports) {
    if (rep.damage?.kind !== 'deleted' && rep.damage?.kind !== 'truncated') continue;
    const f = failures.get(rep.chain_id);
    if (!f) continue;
    for (const other of reports) {
      const g = failures.get(other.chain_id);
      const row = g?.row;
      if (
        other === rep ||
        !row ||
        row.prev_hash !== f.prevHash ||
        row.seq !== f.expectedSeq ||
        row.hash === null
      )
        continue;
      if (eventHash({ ...row, chain_id: rep.chain_id }) !== row.hash) continue;
      rep.damage = {
        kind: 'modified',
        chain_id: rep.chain_id,
        seq: f.expectedSeq,
        event_id: row.id,
        checkpoint_size: null,
        detail: `event ${f.expectedSeq}: its chain_id was changed (it now appears in another chain)`,
      };
      other.damage = {
        ...rep.damage,
        chain_id: other.chain_id,
        detail: `contains event ${row.id} moved from chain ${rep.chain_id}`,
      };
      rep.damages[0] = rep.damage;
      other.damages[0] = other.damage;
    }
  }
}
