import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import type { EventStore } from '../store/event-store.js';
import type { GapRange } from '../integrity/gap-record.js';
import type { DiskSpool } from './disk-spool.js';
import { GapLedger, type GapRecorder, type LostRange, type WriterGap } from './gap-ledger.js';
import type { GapJournal } from './gap-journal.js';

export type FailurePolicy = 'fail-open' | 'fail-closed';

/** What the writer needs of a store: appends, and the probe of a store that was down. */
export type WriterStore = Pick<EventStore, 'append' | 'probeWrite'>;

export interface EventWriterOptions {
  store: WriterStore;
  clock: Clock;
  policy: FailurePolicy;
  /** Most events held in memory; past it the policy applies. */
  maxQueue: number;
  /** Most events per store transaction. */
  batchSize: number;
  /**
   * How long the first queued event may wait for others to share its transaction, ms. Grouping
   * saves a store round trip (and its syscalls) per event at low load; 0 flushes on the next tick.
   */
  flushDelayMs?: number;
  /**
   * Flush as soon as this many events wait (default: `batchSize`), without waiting `flushDelayMs`
   * out: with a longer delay, a busy writer still writes small, frequent transactions while a
   * quiet one groups more events per transaction.
   */
  flushEvents?: number;
  /** Where fail-open puts events the store cannot take; without it they are counted as dropped. */
  spool?: DiskSpool;
  /** How often to retry an unavailable store, ms. */
  retryIntervalMs?: number;
  /** Told about store failures and recoveries (operational log); never throws into the writer. */
  onStoreError?: (err: unknown) => void;
  /** Told about every batch once it is durably stored, in write order (checkpoints follow this). */
  onWritten?: (events: readonly AuditEvent[]) => void;
  /**
   * Told once per gap (events neither stored nor spooled), when it closes: when a lost event does
   * not continue it, when the store takes writes again, or at shutdown. For the operational log.
   */
  onGap?: (gap: WriterGap) => void;
  /**
   * Told about lost seqs as soon as they are lost, from construction on, so a listener set here
   * also hears the gaps carried over from an earlier run (`carryGaps`) in order with the replay.
   */
  onLost?: (range: LostRange) => void;
  /**
   * Where gaps whose record is not stored yet are kept across a stop (gap-journal.ts); rewritten
   * when a gap closes and when its record is stored. Without it they live in memory only.
   */
  journal?: GapJournal;
  /** Told when the gap journal cannot be written (full: about 100 gaps, or an I/O error). */
  onJournalError?: (err: unknown) => void;
  /**
   * Told how long each store append held the event loop, ms: the append up to its first wait (the
   * whole transaction for SQLite on the loop, the hand-off for the append thread, the query's
   * dispatch for PostgreSQL). Requests that arrive meanwhile wait that long
   * (`tollgate_writer_loop_held_seconds{phase="write"}`; the pipeline tells the `build`). Must not throw.
   */
  onLoopHeld?: (phase: 'write', ms: number) => void;
}

/**
 * A step of the audit trail that holds the event loop: `build` (exchanges made into events, the
 * pipeline) and `write` (the store append, the writer).
 */
export type LoopPhase = 'build' | 'write';

export type { GapRecorder, LostRange, WriterGap } from './gap-ledger.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface WriterStats {
  enqueued: number;
  written: number;
  spooled: number;
  replayed: number;
  dropped: number;
  queueDepth: number;
  storeErrors: number;
  storeAvailable: boolean;
  /** Closed gaps whose chained gap record is not stored yet (written once the store is back). */
  gapsUnrecorded?: number;
}

interface Pending {
  event: AuditEvent;
  resolve?: () => void;
  reject?: (err: unknown) => void;
}

/**
 * Batches events to the store off the request path (DESIGN.md "writer"). The queue is bounded and
 * counts what it could not take; nothing is dropped silently: every event is stored, spooled, or
 * counted in a gap, and each closed gap is chained as a gap record once the store takes writes
 * again (with `recordGapsWith`).
 */
export class EventWriter {
  private queue: Pending[] = [];
  private immediatePending = false;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private storeAvailable = true;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Lost events, their gaps and the gap records still to store (gap-ledger.ts). */
  private readonly ledger: GapLedger;
  /** Producers that queue their waiting work when a flush or a drain starts (the pipeline's deferred exchanges). */
  private readonly fillHooks: Array<() => void> = [];
  /** A fill hook is running: the events it queues are written by the flush that called it. */
  private filling = false;
  private readonly counters = {
    enqueued: 0,
    written: 0,
    spooled: 0,
    replayed: 0,
    dropped: 0,
    storeErrors: 0,
  };

  constructor(private readonly options: EventWriterOptions) {
    this.ledger = new GapLedger({
      clock: options.clock,
      journal: options.journal,
      onGap: options.onGap,
      onLost: options.onLost,
      onError: options.onStoreError,
      onJournalError: options.onJournalError,
    });
  }

  /** Every gap so far, the open one included (it grows until it closes). */
  get gaps(): readonly WriterGap[] {
    return this.ledger.gaps;
  }

  /**
   * Gaps an earlier run could not record (its journal) and the crash gap found at start: they
   * are told as lost now, and chained as gap records once a recorder is set and the store takes
   * writes (create-gateway.ts). Call before any new event is queued.
   */
  carryGaps(gaps: readonly GapRange[]): void {
    this.ledger.carry(gaps);
    if (this.storeAvailable) this.recordClosedGaps();
  }

  /** True when a new event can be committed now (fail-closed checks this before calling upstream). */
  canAccept(): boolean {
    if (this.closed) return false;
    if (this.options.policy === 'fail-closed')
      return this.storeAvailable && this.queue.length < this.options.maxQueue;
    return true;
  }

  /** Queues an event (fail-open path). Never throws. */
  enqueue(event: AuditEvent): void {
    this.counters.enqueued++;
    // While the store is down, new events go straight to the spool, behind the ones already there,
    // so replay keeps their order.
    if (this.queue.length >= this.options.maxQueue || !this.storeAvailable) {
      this.overflow([event], 'queue_full');
      return;
    }
    this.queue.push({ event });
    // Queued by a fill hook: the flush running it writes it (no timer of its own).
    if (!this.filling) this.schedule();
  }

  /** Queues an event and resolves once it is durably in the store (fail-closed path). */
  commit(event: AuditEvent): Promise<void> {
    this.counters.enqueued++;
    if (this.queue.length >= this.options.maxQueue || !this.storeAvailable) {
      // fail-closed callers checked canAccept(); a race here still must not lose the event.
      this.overflow([event], 'queue_full');
      return Promise.reject(new Error('store unavailable'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule(true);
    });
  }

  /**
   * True when every gap whose record is not stored yet would survive a stop: there is none, or
   * the journal's last write of them succeeded. When false, a clean stop must not settle the seq
   * mark (create-gateway.ts), so the next start still accounts the seqs as a crash gap.
   */
  gapsPersisted(): boolean {
    return this.ledger.persisted();
  }

  stats(): WriterStats {
    return {
      ...this.counters,
      queueDepth: this.queue.length,
      storeAvailable: this.storeAvailable,
      gapsUnrecorded: this.ledger.pendingRecords,
    };
  }

  /**
   * Chains a gap record for every closed gap once the store takes writes again. The recorder
   * builds the record, links it into the chain and queues it here (the pipeline's `recordEvent`);
   * a record that is itself lost is recorded again at the next recovery.
   */
  recordGapsWith(recorder: GapRecorder): void {
    this.ledger.setRecorder(recorder);
    if (this.storeAvailable) this.recordClosedGaps();
  }

  /** Told about lost seqs as soon as they are lost (the checkpoint writer fills their leaves). */
  onLost(listener: (range: LostRange) => void): void {
    this.ledger.onLost(listener);
  }

  /**
   * Work that must reach the queue before a flush or a drain writes it: `hook` queues it (the
   * pipeline's deferred exchanges, built when the writer flushes). A producer tells the writer
   * about waiting work with `wake`.
   */
  beforeFlush(hook: () => void): void {
    this.fillHooks.push(hook);
  }

  /**
   * Told that `waiting` items wait to be queued by a `beforeFlush` hook: schedules a flush as
   * `enqueue` would (after `flushDelayMs`, or at once when the queue and the waiting items fill a
   * batch). Returns false when no flush is coming (the store is down, or the writer is closed): the
   * producer then queues the items itself, and the writer's policy takes them.
   */
  wake(waiting: number): boolean {
    if (!this.storeAvailable || this.closed) return false;
    if (!this.filling) this.schedule(false, waiting);
    return true;
  }

  private fill(): void {
    if (this.fillHooks.length === 0) return;
    this.filling = true;
    try {
      for (const hook of this.fillHooks) hook();
    } finally {
      this.filling = false;
    }
  }

  /** Writes everything queued (graceful shutdown). */
  async drain(): Promise<void> {
    this.fill();
    while (this.queue.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.flush();
      if (!this.storeAvailable && this.queue.length > 0) {
        // The store is down at shutdown: put what is left in the spool (or account it).
        const rest = this.queue.splice(0);
        this.overflow(
          rest.map((p) => p.event),
          'queue_full',
        );
        for (const p of rest) p.reject?.(new Error('store unavailable'));
      }
    }
  }

  async close(): Promise<void> {
    await this.drain();
    // A gap still open at shutdown is logged; its record can only be written by a store that works.
    this.ledger.close();
    if (this.storeAvailable && this.ledger.hasUnrecorded) {
      this.recordClosedGaps();
      await this.drain();
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.options.spool?.close();
    this.options.journal?.close();
  }

  private written(events: readonly AuditEvent[]): void {
    this.ledger.stored(events);
    try {
      this.options.onWritten?.(events);
    } catch (err) {
      this.options.onStoreError?.(err);
    }
  }

  private schedule(urgent = false, waiting = 0): void {
    if (!this.storeAvailable) return;
    const delay = this.options.flushDelayMs ?? 0;
    const enough = Math.min(this.options.batchSize, this.options.flushEvents ?? this.options.batchSize);
    // A full batch, or a caller waiting on commit(), does not wait for company.
    if (urgent || delay <= 0 || this.queue.length + waiting >= enough) {
      if (this.immediatePending) return;
      this.immediatePending = true;
      setImmediate(this.flushNow);
      return;
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(this.flushLater, delay).unref();
  }

  private readonly flushNow = (): void => {
    this.immediatePending = false;
    void this.flush();
  };

  private readonly flushLater = (): void => {
    this.timer = null;
    void this.flush();
  };

  private async flush(): Promise<void> {
    // The next event waits `flushDelayMs` from its own arrival, not from this flush's first one.
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // What waits to be built joins this flush (also when the store is down: the policy takes it).
    const queued = this.queue.length;
    this.fill();
    if (this.flushing) return this.flushing;
    // After building a batch, requests that arrived meanwhile go first: the build and the
    // transaction are two shorter pauses of the event loop rather than one long one (c=1 p99).
    const built = this.queue.length > queued;
    this.flushing = (built ? nextTurn().then(() => this.flushLoop()) : this.flushLoop()).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && this.storeAvailable) {
      const batch = this.queue.slice(0, this.options.batchSize);
      try {
        await this.append(batch.map((p) => p.event));
        this.queue.splice(0, batch.length);
        this.counters.written += batch.length;
        this.written(batch.map((p) => p.event));
        for (const p of batch) p.resolve?.();
        // Events were lost while the store worked (a full queue without a spool): record them now.
        if (this.ledger.hasWork) {
          this.ledger.close();
          this.recordClosedGaps();
        }
      } catch (err) {
        this.counters.storeErrors++;
        this.markUnavailable(err);
        if (this.options.policy === 'fail-open') {
          const moved = this.queue.splice(0);
          this.overflow(
            moved.map((p) => p.event),
            'spool_full',
          );
          for (const p of moved) p.resolve?.();
        } else {
          const failed = this.queue.splice(0, batch.length);
          this.overflow(
            failed.map((p) => p.event),
            'spool_full',
          );
          for (const p of failed) p.reject?.(err);
        }
      }
    }
  }

  /** The store's append, timed up to its first wait when someone listens (onLoopHeld). */
  private append(events: AuditEvent[]): Promise<void> {
    const told = this.options.onLoopHeld;
    if (!told) return this.options.store.append(events);
    const started = performance.now();
    try {
      return this.options.store.append(events);
    } finally {
      told('write', performance.now() - started);
    }
  }

  /** Events the queue or store could not take: spool them, and account whatever does not fit. */
  private overflow(events: AuditEvent[], reason: WriterGap['reason']): void {
    if (events.length === 0) return;
    let spooled = 0;
    if (this.options.spool) {
      try {
        spooled = this.options.spool.append(events);
      } catch (err) {
        this.options.onStoreError?.(err);
      }
    }
    this.counters.spooled += spooled;
    const lost = events.slice(spooled);
    if (lost.length > 0) {
      this.counters.dropped += lost.length;
      this.ledger.lost(lost, this.options.spool ? 'spool_full' : reason);
    }
    if (spooled > 0) this.scheduleRetry();
  }

  /** Chains and queues the record of every closed gap (the store takes writes again). */
  private recordClosedGaps(): void {
    if (!this.closed) this.ledger.recordClosed();
  }

  private markUnavailable(err: unknown): void {
    if (this.storeAvailable) this.options.onStoreError?.(err);
    this.storeAvailable = false;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.replaySpool();
    }, this.options.retryIntervalMs ?? 1000);
    this.retryTimer.unref();
  }

  /** Replays spooled events in order once the store answers again; idempotent on event id. */
  async replaySpool(): Promise<void> {
    const spool = this.options.spool;
    try {
      if (spool && spool.size() > 0) {
        // An asynchronous store (PostgreSQL) lets new events reach the spool while a replay
        // awaits; clearing then would lose them. Replay again until the spool stopped growing:
        // the size check and clear() run with no await between them. The spool only grows at its
        // end, so each pass appends just what the last one had not seen.
        let events: AuditEvent[] = [];
        let corrupt = 0;
        let replayedBytes = -1;
        let done = 0;
        while (spool.size() !== replayedBytes) {
          replayedBytes = spool.size();
          ({ events, corrupt } = spool.read());
          for (let i = done; i < events.length; i += this.options.batchSize) {
            const slice = events.slice(i, i + this.options.batchSize);
            await this.append(slice);
            this.written(slice);
          }
          done = events.length;
        }
        this.counters.replayed += events.length;
        if (corrupt > 0) {
          this.counters.dropped += corrupt;
          // Torn or damaged lines: their seqs are unknown, so this gap is logged but cannot be chained.
          this.ledger.lostUnknown(corrupt, 'spool_corrupt');
        }
        spool.clear();
      } else if (this.options.store.probeWrite) {
        // A real write in its own transaction: an empty one succeeds on a read-only or full disk.
        await this.options.store.probeWrite();
      } else {
        await this.options.store.append([]);
      }
      this.storeAvailable = true;
      // The store takes writes again: the open gap ends here, and closed gaps get their records.
      this.ledger.close();
      this.recordClosedGaps();
      this.schedule();
    } catch (err) {
      this.counters.storeErrors++;
      this.storeAvailable = false;
      this.scheduleRetry();
      void err;
    }
  }
}
