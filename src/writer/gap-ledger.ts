/**
 * The writer's account of lost events (DESIGN.md "writer": nothing is dropped silently). Events
 * neither stored nor spooled are gathered into gaps (consecutive seqs of one chain, one reason);
 * listeners hear each lost seq range at once; a closed gap with a known range waits for its gap
 * record, kept in the gap journal across a stop, until the record itself is stored.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import type { GapRange, GapReason } from '../integrity/gap-record.js';
import type { GapJournal } from './gap-journal.js';

/**
 * Consecutive events of one chain that were neither stored nor spooled, for one reason. While
 * nothing can be written, each lost event that continues the open gap's seq range extends it.
 */
export interface WriterGap {
  chain_id: string | null;
  first_seq: number | null;
  last_seq: number | null;
  count: number;
  reason: GapReason;
  /** When the first event of the gap was lost. */
  at: string;
  /** `hash` of the event at `last_seq` (the next stored event's `prev_hash`); null when unknown. */
  last_hash: string | null;
}

/** Chains the gap record of a closed gap (docs/integrity.md "Accounted gaps") and queues it here. */
export type GapRecorder = (gap: GapRange) => AuditEvent;

/** Seqs of one chain that were lost, told as they are lost (before any later seq is written). */
export interface LostRange {
  chain_id: string;
  first_seq: number;
  last_seq: number;
}

export interface GapLedgerOptions {
  clock: Clock;
  journal?: GapJournal | undefined;
  onGap?: ((gap: WriterGap) => void) | undefined;
  onLost?: ((range: LostRange) => void) | undefined;
  /** Told about a listener or recorder that threw (never thrown into the writer). */
  onError?: ((err: unknown) => void) | undefined;
  onJournalError?: ((err: unknown) => void) | undefined;
}

export class GapLedger {
  /** Every gap so far, the open one included (it grows until it closes). */
  readonly gaps: WriterGap[] = [];
  private openGap: WriterGap | null = null;
  /** Closed gaps with a known range whose record is not chained yet. */
  private unrecorded: WriterGap[] = [];
  /** Gap records chained and queued or spooled, by event id, until the store has them. */
  private readonly recordsInFlight = new Map<string, WriterGap>();
  private recorder: GapRecorder | null = null;
  /** Ids lost while a gap record is being queued (to notice that the record itself was lost). */
  private lostWhileRecording: Set<string> | null = null;
  private readonly lostListeners: Array<(range: LostRange) => void> = [];
  /** False after the gap journal last failed to take the gaps not recorded yet. */
  private journalCurrent = true;

  constructor(private readonly o: GapLedgerOptions) {
    if (o.onLost) this.lostListeners.push(o.onLost);
  }

  /** Gaps of an earlier run (its journal, the crash gap): told as lost now, recorded later. */
  carry(gaps: readonly GapRange[]): void {
    for (const g of gaps) {
      this.unrecorded.push({ ...g });
      this.tellLost({ chain_id: g.chain_id, first_seq: g.first_seq, last_seq: g.last_seq });
    }
    if (gaps.length > 0) this.persist();
  }

  setRecorder(recorder: GapRecorder): void {
    this.recorder = recorder;
  }

  onLost(listener: (range: LostRange) => void): void {
    this.lostListeners.push(listener);
  }

  /** Gaps whose record is not stored yet (closed, or recorded and in flight). */
  get pendingRecords(): number {
    return this.unrecorded.length + this.recordsInFlight.size;
  }

  /** A gap is open, or a closed one waits for its record. */
  get hasWork(): boolean {
    return this.openGap !== null || this.unrecorded.length > 0;
  }

  /** Closed gaps wait for their record. */
  get hasUnrecorded(): boolean {
    return this.unrecorded.length > 0;
  }

  /** See EventWriter.gapsPersisted. */
  persisted(): boolean {
    if (this.pendingRecords === 0) return true;
    return this.o.journal !== undefined && this.journalCurrent;
  }

  /** Accounts lost events (in seq order): extends the open gap while they continue its range. */
  lost(events: readonly AuditEvent[], reason: WriterGap['reason']): void {
    let run: LostRange | null = null;
    for (const e of events) {
      this.lostWhileRecording?.add(e.id);
      const record = this.recordsInFlight.get(e.id);
      if (record) {
        // The gap record itself was lost: record that gap again at the next recovery.
        this.recordsInFlight.delete(e.id);
        this.unrecorded.push(record);
      }
      const g = this.openGap;
      const continues =
        g !== null &&
        g.chain_id === e.chain_id &&
        g.reason === reason &&
        (e.seq === null ? g.last_seq === null : g.last_seq !== null && e.seq === g.last_seq + 1);
      if (continues) {
        g.last_seq = e.seq;
        g.last_hash = e.hash;
        g.count += 1;
      } else {
        this.close();
        const opened: WriterGap = {
          chain_id: e.chain_id,
          first_seq: e.seq,
          last_seq: e.seq,
          count: 1,
          reason,
          at: new Date(this.o.clock.now()).toISOString(),
          last_hash: e.hash,
        };
        this.openGap = opened;
        this.gaps.push(opened);
      }
      if (e.chain_id !== null && e.seq !== null) {
        if (run && run.chain_id === e.chain_id && e.seq === run.last_seq + 1) run.last_seq = e.seq;
        else {
          if (run) this.tellLost(run);
          run = { chain_id: e.chain_id, first_seq: e.seq, last_seq: e.seq };
        }
      }
    }
    if (run) this.tellLost(run);
  }

  /** Lost events whose seqs are unknown (torn spool lines): a gap that is logged, never chained. */
  lostUnknown(count: number, reason: WriterGap['reason']): void {
    this.close();
    const gap: WriterGap = {
      chain_id: null,
      first_seq: null,
      last_seq: null,
      count,
      reason,
      at: new Date(this.o.clock.now()).toISOString(),
      last_hash: null,
    };
    this.gaps.push(gap);
    this.openGap = gap;
    this.close();
  }

  /** Closes the open gap: one log line for it, and its record is due. */
  close(): void {
    const g = this.openGap;
    if (!g) return;
    this.openGap = null;
    // Without a recorder (an SDK writer) the gap is only logged and counted.
    if (
      this.recorder &&
      g.chain_id !== null &&
      g.first_seq !== null &&
      g.last_seq !== null &&
      g.last_hash !== null
    ) {
      this.unrecorded.push(g);
      this.persist();
    }
    try {
      this.o.onGap?.(g);
    } catch {
      // the log never breaks the writer
    }
  }

  /** Chains and queues the record of every closed gap (the store takes writes again). */
  recordClosed(): void {
    if (!this.recorder) return;
    const due = this.unrecorded.splice(0);
    for (let i = 0; i < due.length; i++) {
      const g = due[i]!;
      this.lostWhileRecording = new Set();
      try {
        const event = this.recorder(rangeOf(g));
        if (this.lostWhileRecording.has(event.id)) this.unrecorded.push(g);
        else this.recordsInFlight.set(event.id, g);
      } catch (err) {
        // Not built or not chained: try again at the next recovery.
        this.unrecorded.push(...due.slice(i));
        this.o.onError?.(err);
        break;
      } finally {
        this.lostWhileRecording = null;
      }
    }
  }

  /** Events now in the store: a gap record among them no longer needs the journal. */
  stored(events: readonly AuditEvent[]): void {
    if (this.recordsInFlight.size === 0) return;
    let stored = false;
    for (const e of events) stored = this.recordsInFlight.delete(e.id) || stored;
    if (stored) this.persist();
  }

  private tellLost(range: LostRange): void {
    for (const l of this.lostListeners) {
      try {
        l(range);
      } catch (err) {
        this.o.onError?.(err);
      }
    }
  }

  /** Writes the gaps whose record is not stored yet to the journal (never throws). */
  private persist(): void {
    const journal = this.o.journal;
    if (!journal) return;
    const ranges: GapRange[] = [];
    for (const g of [...this.unrecorded, ...this.recordsInFlight.values()]) {
      if (g.chain_id === null || g.first_seq === null || g.last_seq === null || g.last_hash === null)
        continue;
      ranges.push(rangeOf(g));
    }
    try {
      journal.save(ranges);
      this.journalCurrent = true;
    } catch (err) {
      this.journalCurrent = false;
      try {
        this.o.onJournalError?.(err);
      } catch {
        // the log never breaks the writer
      }
    }
  }
}

/** The range a gap record or the journal names for a writer gap (its chain, seqs and last hash are set). */
function rangeOf(g: WriterGap): GapRange {
  return {
    chain_id: g.chain_id!,
    first_seq: g.first_seq!,
    last_seq: g.last_seq!,
    count: g.count,
    reason: g.reason,
    at: g.at,
    last_hash: g.last_hash!,
  };
}
