/**
 * Damage after the first: once `verify` has found where a chain first fails, it keeps reading
 * and names every later damaged event, so one early break (or one deliberately broken event)
 * cannot hide a tampering further on.
 *
 * The first failure is diagnosed precisely by verify.ts (it knows the last good hash). From there
 * on, each row is checked against its own stored hash and against the row before it: its stored
 * hash must match its content, its `prev_hash` must be the stored hash of the row before it, and
 * its seq must follow. The row after a changed row is not blamed for the broken link (the change
 * is already named), and a hole that a gap record (seen anywhere after the first failure)
 * accounts for is not damage.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { eventHash } from './canonical-json.js';
import { matchHoles, type ChainHole, type GapRecord } from './gap-record.js';
import type { Damage } from './verify-report.js';

/** Scans the rows of chain `chainId` after the first failure, in seq order. */
export class LaterDamageScan {
  private readonly found: Damage[] = [];
  private readonly holes: { hole: ChainHole; eventId: string }[] = [];
  private prevHash: string | null;
  private prevSeq: number | null;
  /** Whether the previous row was itself named as changed (so a broken link after it is expected). */
  private prevBad: boolean;

  /**
   * `from` is the last row the caller looked at; `named` says whether it was the failing row the
   * caller diagnosed (a broken link right after it is part of that damage).
   */
  constructor(
    private readonly chainId: string,
    from: AuditEvent,
    named: boolean,
  ) {
    this.prevHash = from.hash;
    this.prevSeq = typeof from.seq === 'number' ? from.seq : null;
    this.prevBad = named;
  }

  /** Checks the next row; `selfValid` is whether its stored hash matches its content. */
  next(e: AuditEvent, selfValid: boolean = e.hash !== null && eventHash(e) === e.hash): void {
    const seq = typeof e.seq === 'number' ? e.seq : null;
    const expected = this.prevSeq === null ? null : this.prevSeq + 1;
    let bad = false;
    if (!selfValid) {
      bad = true;
      this.add(e, seq, `event ${seq ?? '?'}: recomputed hash differs from the stored hash`);
    } else if (e.prev_hash !== this.prevHash || seq !== expected) {
      if (seq !== null && expected !== null && seq > expected && typeof e.prev_hash === 'string') {
        // A hole: damage unless a gap record accounts for it (decided in `damages`).
        this.holes.push({
          hole: { first_seq: expected, last_seq: seq - 1, next_prev_hash: e.prev_hash },
          eventId: e.id,
        });
      } else if (seq !== null && expected !== null && seq < expected) {
        bad = true;
        this.add(e, seq, `an extra event with seq ${seq} follows event ${this.prevSeq}`, 'inserted');
      } else if (!this.prevBad) {
        bad = true;
        this.add(e, seq, `event ${seq ?? '?'}: its link to the event before it was changed`);
      }
    }
    this.prevHash = e.hash;
    this.prevSeq = seq ?? expected;
    this.prevBad = bad;
  }

  /**
   * Every later damage in chain order, holes included unless `records` (gap records found in
   * the chain) account for them.
   */
  damages(records: readonly GapRecord[]): Damage[] {
    const matching = matchHoles(
      this.holes.map((h) => h.hole),
      records,
    );
    const unaccounted = new Set(matching.unaccounted.map((u) => u.hole));
    const out = [...this.found];
    for (const { hole, eventId } of this.holes) {
      if (!unaccounted.has(hole)) continue;
      const range =
        hole.first_seq === hole.last_seq
          ? `event ${hole.first_seq} is`
          : `events ${hole.first_seq}..${hole.last_seq} are`;
      out.push({
        kind: 'deleted',
        chain_id: this.chainId,
        seq: hole.first_seq,
        event_id: eventId,
        checkpoint_size: null,
        detail: `${range} missing`,
      });
    }
    return out.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  }

  private add(e: AuditEvent, seq: number | null, detail: string, kind: Damage['kind'] = 'modified'): void {
    this.found.push({
      kind,
      chain_id: this.chainId,
      seq: seq ?? (this.prevSeq === null ? null : this.prevSeq + 1),
      event_id: e.id ?? null,
      checkpoint_size: null,
      detail,
    });
  }
}
