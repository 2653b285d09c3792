import type { Clock } from '../core/clock.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { UsageEstimator } from '../capture/capture.js';
import { AuditPipeline } from '../pipeline/pipeline.js';
import type { EventObserver, Pricer, Redactor } from '../core/stages.js';
import { Gateway, type GatewayConfig, type MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import type { EventStore } from '../store/event-store.js';
import { createChainer } from '../integrity/hash-chain.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import type { UpstreamPolicy } from '../upstream/upstream-policy.js';
import type { DiskSpool } from '../writer/disk-spool.js';
import { EventWriter, type LostRange, type WriterGap } from '../writer/event-writer.js';
import type { GapJournal } from '../writer/gap-journal.js';
import { resumeChain } from '../writer/chain-resume.js';
import type { SeqReservation } from '../writer/seq-reservation.js';
import { writerGapEvent } from '../integrity/gap-event.js';

export interface CreateGatewayOptions {
  config: GatewayConfig;
  upstreamUrl: string;
  upstreamPolicy: UpstreamPolicy;
  store: EventStore;
  redactor: Redactor;
  pricer?: Pricer;
  estimateUsage?: UsageEstimator;
  detectors?: EventObserver[];
  listeners?: Array<(event: AuditEvent) => void>;
  policy: RequestPolicy;
  clock: Clock;
  writer: {
    maxQueue: number;
    batchSize: number;
    flushDelayMs?: number;
    spool?: DiskSpool;
    /** Gaps not recorded yet, kept across a stop (beside the spool). */
    journal?: GapJournal;
    /** The chain's seq high-water mark (beside the spool): a crash's lost seqs are skipped and accounted. */
    reservation?: SeqReservation;
  };
  routes?: MountedRoute[];
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  onGap?: (gap: WriterGap) => void;
  onWritten?: (events: readonly AuditEvent[]) => void;
  /** Told about lost seqs (the checkpoint writer), from before the spool replay on. */
  onLost?: (range: LostRange) => void;
}

export interface TollgateGateway {
  gateway: Gateway;
  pipeline: AuditPipeline;
  writer: EventWriter;
  upstream: UpstreamClient;
  store: EventStore;
  /** Stops the server, drains the writer, closes the upstream pool (not the store: its owner does). */
  close(): Promise<void>;
}

/**
 * Wires one gateway in one place (STYLE.md rule 2): the chain continues from the store's head
 * for this instance, the writer batches to the store, and the pipeline feeds both.
 */
export async function createGateway(o: CreateGatewayOptions): Promise<TollgateGateway> {
  const writer = new EventWriter({
    store: o.store,
    clock: o.clock,
    policy: o.config.policy,
    maxQueue: o.writer.maxQueue,
    batchSize: o.writer.batchSize,
    flushDelayMs: o.writer.flushDelayMs ?? 0,
    ...(o.writer.spool ? { spool: o.writer.spool } : {}),
    onStoreError: (err) => o.log?.('store unavailable', { err: err instanceof Error ? err.name : 'unknown' }),
    ...(o.onGap ? { onGap: o.onGap } : {}),
    ...(o.onWritten ? { onWritten: o.onWritten } : {}),
    ...(o.onLost ? { onLost: o.onLost } : {}),
    ...(o.writer.journal ? { journal: o.writer.journal } : {}),
    onJournalError: (err) =>
      o.log?.('gap journal could not be written', { err: err instanceof Error ? err.name : 'unknown' }),
  });
  // The chain continues after everything an earlier run may have handed out (spooled, journaled,
  // or reserved before a crash), never reusing a seq (docs/reliability.md "Crash").
  const { head, carried } = await resumeChain({
    chainId: o.config.instanceId,
    store: o.store,
    writer,
    spool: o.writer.spool,
    journal: o.writer.journal,
    reservation: o.writer.reservation,
    log: o.log,
  });
  const chainer = createChainer({
    chainId: o.config.instanceId,
    head,
    ...(o.writer.reservation ? { reserver: o.writer.reservation } : {}),
  });
  const pipeline = new AuditPipeline({
    redactor: o.redactor,
    ...(o.pricer ? { pricer: o.pricer } : {}),
    chainer,
    observers: o.detectors ?? [],
    listeners: o.listeners ?? [],
    writer,
    ...(o.estimateUsage ? { estimateUsage: o.estimateUsage } : {}),
    onError: (err) =>
      o.log?.('audit event could not be built', { err: err instanceof Error ? err.name : 'unknown' }),
  });
  // Closed gaps are chained as gap records once the store takes writes (docs/integrity.md "Accounted gaps").
  writer.recordGapsWith((gap) => pipeline.recordEvent(writerGapEvent(gap, o.clock)));
  writer.carryGaps(carried);
  const upstream = new UpstreamClient(o.upstreamUrl, o.upstreamPolicy, o.clock);
  const gateway = new Gateway({
    config: o.config,
    pipeline,
    upstream,
    clock: o.clock,
    policy: o.policy,
    routes: o.routes ?? [],
    ...(o.log ? { log: o.log } : {}),
  });
  return {
    gateway,
    pipeline,
    writer,
    upstream,
    store: o.store,
    async close() {
      await gateway.close();
      await writer.close();
      // Everything handed out is stored, spooled or journaled: the mark comes back to the head.
      // If a gap could not be journaled, the mark stays ahead: the next start names it a crash gap.
      if (writer.gapsPersisted()) o.writer.reservation?.settle(chainer.head().seq);
      else o.writer.reservation?.close();
      await upstream.close();
    },
  };
}
