import { TollgateError } from '../core/errors.js';
import type { SeqReserver } from '../integrity/hash-chain.js';
import { SlotFile, type AsyncSlotWrite } from './slot-file.js';

/** What the file held when it was opened: the previous run's mark. */
export interface ReservedMark {
  /** Highest seq the previous run may have handed out (settled to its head on a clean stop). */
  reserved: number;
}

export interface SeqReservationOptions {
  path: string;
  chainId: string;
  /** Seqs reserved per durable write (default 1024). */
  block?: number;
  /** Told when the mark cannot be written (the run goes on; a crash may then go unaccounted). */
  onError?: (err: unknown) => void;
  /** How a mark is written ahead (default: libuv's thread pool); tests inject one to choose when it lands. */
  asyncWrite?: AsyncSlotWrite;
}

/**
 * The chain's seq high-water mark in a small file beside the spool (`chain-<instance>-<store>.mark`, app/chain-state-files.ts).
 * Before the chainer hands out a seq past the mark, the mark moves a block ahead with one
 * fdatasync'd overwrite in place (slot-file.ts: it still works on a full disk). That write is
 * made ahead of need, off the event loop: once half of the block is handed out, the next mark
 * (`seq + block`) is written on libuv's thread pool, and becomes the mark only when it is on disk.
 * Only when the seqs run out before it lands (more than half a block linked during one
 * fdatasync, or the write failed) does `ensure` write synchronously, as it always did: the rule
 * "no seq is handed out that a durable mark does not cover" holds either way. Synchronous writes
 * made while a write ahead is in flight go to the other slot of the file (slot-file.ts), so the
 * write ahead, whenever it lands, never replaces a newer mark (or the settled one). The mark always
 * stays ahead of the last seq given out, so a crash always leaves a range to account for; a
 * clean stop settles it to the chain head (`settle`), so a clean restart skips nothing. Once
 * settled or closed it hands out no more seqs: `ensure` throws, so an event linked after the stop
 * (an SDK stream that ends after `Auditor.close()`) is not chained instead of moving the mark.
 */
export class SeqReservation implements SeqReserver {
  private readonly file: SlotFile;
  private reservedTo = 0;
  private readonly block: number;
  private failed = false;
  private stopped = false;
  /** A mark being written on the thread pool (its target), or null. */
  private ahead: number | null = null;
  /** The durable mark when a write ahead last failed: no new one until a synchronous write moved it. */
  private aheadFailedAt = -1;
  /** Synchronous mark writes so far (the ones that waited on the event loop); for tests and benches. */
  syncWrites = 0;
  /** The previous run's mark, read at construction; null for a new file or another chain's. */
  readonly previous: ReservedMark | null;

  constructor(private readonly o: SeqReservationOptions) {
    this.block = Math.max(1, o.block ?? 1024);
    this.file = new SlotFile(o.path, 256, o.asyncWrite);
    this.previous = parseMark(this.file.read(), o.chainId);
  }

  /** True while a mark is being written ahead (off the event loop). */
  get writingAhead(): boolean {
    return this.ahead !== null;
  }

  /** Seq up to which the mark is durable. */
  get reserved(): number {
    return this.reservedTo;
  }

  /** Starts a run at `seq` (the position the chain continues from): the next seq is `seq + 1`. */
  start(seq: number): void {
    this.reservedTo = seq;
    try {
      this.file.allocate();
    } catch (err) {
      this.fail(err);
    }
  }

  ensure(seq: number): void {
    // After a stop the settled mark is final: writing past it would be a false crash gap next start.
    if (this.stopped) throw new TollgateError('TG_ERR_AUDIT_UNAVAILABLE', { chain_id: this.o.chainId, seq });
    // Strictly ahead: after handing out `seq`, the durable mark is above it.
    if (seq >= this.reservedTo) {
      this.syncWrites++;
      this.write(seq + this.block);
    } else if (
      this.ahead === null &&
      this.reservedTo - seq <= this.block / 2 &&
      this.aheadFailedAt !== this.reservedTo
    ) {
      this.writeAhead(seq + this.block);
    }
  }

  /** Writes the next mark off the event loop; it counts as the mark once it is on disk. */
  private writeAhead(target: number): void {
    this.ahead = target;
    this.file.writeAsync(this.body(target), (err) => {
      this.ahead = null;
      if (err) {
        this.aheadFailedAt = this.reservedTo;
        this.fail(err);
        return;
      }
      this.failed = false;
      // A synchronous write made meanwhile may already stand higher (it has the newer generation).
      if (!this.stopped && target > this.reservedTo) this.reservedTo = target;
    });
  }

  private body(reserved: number): string {
    return `chain=${encodeURIComponent(this.o.chainId)} reserved=${reserved}`;
  }

  /** Clean stop: everything handed out is stored, spooled or in a persisted gap; the mark is the head. */
  settle(head: number): void {
    if (this.stopped) return;
    this.write(head);
    this.close();
  }

  /**
   * Stop without settling: the mark stays ahead of the head, so the next start skips the reserved
   * seqs and chains a crash gap. For a stop where not every lost seq is persisted (the gap journal
   * could not be written), so the loss is still accounted.
   */
  close(): void {
    this.stopped = true;
    this.file.close();
  }

  private write(reserved: number): void {
    // Advance in memory even if the write fails, so a broken disk costs one attempt per block.
    this.reservedTo = reserved;
    try {
      this.file.write(this.body(reserved));
      this.failed = false;
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (!this.failed) this.o.onError?.(err);
    this.failed = true;
  }
}

function parseMark(body: string | null, chainId: string): ReservedMark | null {
  const m = body === null ? null : /^chain=(\S+) reserved=(\d+)$/.exec(body);
  if (!m) return null;
  try {
    if (decodeURIComponent(m[1]!) !== chainId) return null;
  } catch {
    return null;
  }
  const reserved = Number(m[2]);
  return Number.isSafeInteger(reserved) ? { reserved } : null;
}
