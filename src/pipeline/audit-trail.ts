import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import type { EventObserver, Pricer, Redactor } from '../core/stages.js';
import type { UsageEstimator } from '../capture/capture.js';
import type { TraceContext } from '../capture/trace-context.js';
import { writerGapEvent } from '../integrity/gap-event.js';
import { createChainer, type HashChainer } from '../integrity/hash-chain.js';
import type { EventStore } from '../store/event-store.js';
import { resumeChain } from '../writer/chain-resume.js';
import type { DiskSpool } from '../writer/disk-spool.js';
import {
  EventWriter,
  type FailurePolicy,
  type LoopPhase,
  type LostRange,
  type WriterGap,
  type WriterStore,
} from '../writer/event-writer.js';
import type { GapJournal } from '../writer/gap-journal.js';
import type { SeqReservation } from '../writer/seq-reservation.js';
import { AuditPipeline } from './pipeline.js';

export interface AuditTrailOptions {
  /** The chain this trail writes (the gateway's instance id, or the SDK process's id). */
  chainId: string;
  /** `source` of the trail's own events (its gap records). */
  source: AuditEvent['source'];
  store: EventStore;
  clock: Clock;
  /** What happens when the store cannot take events (DESIGN.md "Defaults that protect people"). */
  policy: FailurePolicy;
  /** False for a chain that is new by construction (an SDK process with a random id): nothing to resume. */
  continueStored?: boolean;
  writer: {
    maxQueue: number;
    batchSize: number;
    flushDelayMs?: number;
    /** Flush once this many events wait, before `flushDelayMs` is out (default: `batchSize`). */
    flushEvents?: number;
    retryIntervalMs?: number;
    /** fail-open: where events the store cannot take go; without it they are counted as dropped. */
    spool?: DiskSpool | undefined;
    /** Gaps not recorded yet, kept across a stop (beside the spool). */
    journal?: GapJournal | undefined;
    /** The chain's seq high-water mark: a crash's lost seqs are skipped and accounted. */
    reservation?: SeqReservation | undefined;
    /** Where the writer appends, when not `store` itself (SQLite: the append thread). */
    appendTo?: WriterStore | undefined;
  };
  stages: {
    redactor: Redactor;
    pricer?: Pricer | undefined;
    estimateUsage?: UsageEstimator | undefined;
    /** Detectors: they see each event before it is chained. */
    observers?: EventObserver[];
    /** Told about every event once queued (metrics, exporters, live views). */
    listeners?: Array<(event: AuditEvent, caller?: TraceContext | null) => void>;
  };
  /** Operational hooks: never given content or keys. */
  hooks?: {
    log?: (msg: string, fields?: Record<string, unknown>) => void;
    onStoreError?: (err: unknown) => void;
    onJournalError?: (err: unknown) => void;
    /** An exchange whose event could not be built (a stage threw). */
    onBuildError?: (err: unknown) => void;
    onGap?: (gap: WriterGap) => void;
    onWritten?: (events: readonly AuditEvent[]) => void;
    /** Lost seqs, from before the spool replay on (the checkpoint writer). */
    onLost?: (range: LostRange) => void;
    /** How long each build (the pipeline) and each store append (the writer) held the event loop (metrics). */
    onLoopHeld?: (phase: LoopPhase, ms: number) => void;
  };
}

/** One chain's audit trail: the pipeline both entry points feed, and the writer behind it. */
export interface AuditTrail {
  pipeline: AuditPipeline;
  writer: EventWriter;
  chainer: HashChainer;
  /**
   * Drains the writer, then settles the seq mark at the chain head (or leaves it ahead when a gap
   * could not be journaled, so the next start names it a crash gap). Does not close the store.
   */
  close(): Promise<void>;
}

/**
 * Assembles the audit trail of one chain, the same way for the gateway and the SDK: the writer,
 * the chain resumed after everything an earlier run may have handed out (spooled, journaled, or
 * reserved before a crash; docs/reliability.md "Crash"), the chainer, the pipeline, and gap
 * records chained into the same chain (docs/integrity.md "Accounted gaps").
 */
export async function createAuditTrail(o: AuditTrailOptions): Promise<AuditTrail> {
  const h = o.hooks ?? {};
  const w = o.writer;
  const writer = new EventWriter({
    store: w.appendTo ?? o.store,
    clock: o.clock,
    policy: o.policy,
    maxQueue: w.maxQueue,
    batchSize: w.batchSize,
    flushDelayMs: w.flushDelayMs ?? 0,
    ...(w.flushEvents !== undefined ? { flushEvents: w.flushEvents } : {}),
    ...(w.retryIntervalMs !== undefined ? { retryIntervalMs: w.retryIntervalMs } : {}),
    ...(w.spool ? { spool: w.spool } : {}),
    ...(w.journal ? { journal: w.journal } : {}),
    ...(h.onStoreError ? { onStoreError: h.onStoreError } : {}),
    ...(h.onJournalError ? { onJournalError: h.onJournalError } : {}),
    ...(h.onGap ? { onGap: h.onGap } : {}),
    ...(h.onWritten ? { onWritten: h.onWritten } : {}),
    ...(h.onLost ? { onLost: h.onLost } : {}),
    ...(h.onLoopHeld ? { onLoopHeld: h.onLoopHeld } : {}),
  });
  const { head, carried } = await resumeChain({
    chainId: o.chainId,
    store: o.store,
    writer,
    spool: w.spool,
    journal: w.journal,
    reservation: w.reservation,
    ...(o.continueStored === false ? { continueStored: false } : {}),
    log: h.log,
  });
  const chainer = createChainer({
    chainId: o.chainId,
    head,
    ...(w.reservation ? { reserver: w.reservation } : {}),
  });
  const s = o.stages;
  const held = h.onLoopHeld;
  const pipeline = new AuditPipeline({
    redactor: s.redactor,
    ...(s.pricer ? { pricer: s.pricer } : {}),
    chainer,
    observers: s.observers ?? [],
    listeners: s.listeners ?? [],
    writer,
    ...(s.estimateUsage ? { estimateUsage: s.estimateUsage } : {}),
    ...(h.onBuildError ? { onError: h.onBuildError } : {}),
    ...(held ? { onBuilt: (ms: number) => held('build', ms) } : {}),
  });
  writer.recordGapsWith((gap) => pipeline.recordEvent(writerGapEvent(gap, o.clock, o.source)));
  writer.carryGaps(carried);
  return {
    pipeline,
    writer,
    chainer,
    async close() {
      await writer.close();
      // Everything chained is stored, spooled or journaled: the mark comes back to the head.
      if (writer.gapsPersisted()) w.reservation?.settle(chainer.head().seq);
      else w.reservation?.close();
    },
  };
}
