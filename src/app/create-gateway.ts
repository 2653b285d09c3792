import type { Clock } from '../core/clock.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { UsageEstimator } from '../capture/capture.js';
import { AuditPipeline } from '../pipeline/pipeline.js';
import type { EventObserver, Pricer, Redactor } from '../pipeline/stages.js';
import { Gateway, type GatewayConfig, type MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import type { EventStore } from '../store/event-store.js';
import { GENESIS_PREV_HASH, createChainer, type ChainPosition } from '../integrity/hash-chain.js';
import type { GapRange } from '../integrity/gap-record.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import type { UpstreamPolicy } from '../upstream/upstream-policy.js';
import type { DiskSpool } from '../writer/disk-spool.js';
import { EventWriter, type LostRange, type WriterGap } from '../writer/event-writer.js';
import type { GapJournal } from '../writer/gap-journal.js';
import type { SeqReservation } from '../writer/seq-reservation.js';
import { writerGapEvent } from './admin-event.js';

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
  });
  // What an earlier run spooled continues the stored chain: replay it before reading the head, or
  // new events would reuse its seqs and fork the chain. If the store still refuses it, continue
  // after the spool's last event (replay stores the spooled events first, in order).
  await writer.replaySpool();
  const heads = await o.store.chains();
  let head: ChainPosition | null = heads.find((h) => h.chain_id === o.config.instanceId) ?? null;
  const spooled = o.writer.spool?.read().events.filter((e) => e.chain_id === o.config.instanceId).at(-1);
  if (spooled?.seq != null && spooled.hash !== null && spooled.seq > (head?.seq ?? 0)) head = { seq: spooled.seq, hash: spooled.hash };
  const last = spooled?.seq != null && spooled.seq === head?.seq ? spooled : head ? await storedEvent(o.store, o.config.instanceId, head.seq) : null;
  try {
    // Allocated now, while the disk has room: it is rewritten in place when a gap closes.
    o.writer.journal?.allocate();
  } catch (err) {
    o.log?.('gap journal could not be created', { err: err instanceof Error ? err.name : 'unknown' });
  }
  // Gaps an earlier run lost and could not record yet, and what a crash lost (docs/reliability.md "Crash").
  const carried = (o.writer.journal?.load() ?? []).filter((g) => g.chain_id === o.config.instanceId);
  for (const g of carried) if (g.last_seq > (head?.seq ?? 0)) head = { seq: g.last_seq, hash: g.last_hash };
  const crash = crashGap(o.config.instanceId, head, last, o.writer.reservation);
  if (crash) {
    carried.push(crash);
    // The chain resumes after the reserved seqs (never reusing one a client may hold), from the last known hash.
    head = { seq: crash.last_seq, hash: crash.last_hash };
  }
  o.writer.reservation?.start(head?.seq ?? 0);
  const chainer = createChainer({ chainId: o.config.instanceId, head, ...(o.writer.reservation ? { reserver: o.writer.reservation } : {}) });
  const pipeline = new AuditPipeline({
    redactor: o.redactor,
    ...(o.pricer ? { pricer: o.pricer } : {}),
    chainer,
    observers: o.detectors ?? [],
    listeners: o.listeners ?? [],
    writer,
    ...(o.estimateUsage ? { estimateUsage: o.estimateUsage } : {}),
    onError: (err) => o.log?.('audit event could not be built', { err: err instanceof Error ? err.name : 'unknown' }),
  });
  // Closed gaps are chained as gap records once the store takes writes (docs/integrity.md "Accounted gaps").
  writer.recordGapsWith((gap) => pipeline.recordEvent(writerGapEvent(gap, o.clock)));
  if (carried.length > 0) {
    o.log?.('events an earlier run lost are chained as gap records', { gaps: carried.map((g) => ({ reason: g.reason, first_seq: g.first_seq, last_seq: g.last_seq, count: g.count })) });
    writer.carryGaps(carried);
  }
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
      o.writer.reservation?.settle(chainer.head().seq);
      await upstream.close();
    },
  };
}

/** The stored event at `seq` of the chain (the one a restart continues from), or null. */
async function storedEvent(store: EventStore, chainId: string, seq: number): Promise<AuditEvent | null> {
  if (seq <= 0) return null;
  for await (const e of store.iterateChain(chainId, seq, 1)) return e.seq === seq ? e : null;
  return null;
}

/**
 * The seqs a crashed run reserved past the last event stored, spooled or journaled: they may have
 * been handed out (their events answered) and lost. Null after a clean stop (the mark is the head).
 * `at` is a lower bound on when the lost events were answered: the end of the last stored event,
 * since events are chained in the order they are answered.
 */
function crashGap(chainId: string, head: ChainPosition | null, last: AuditEvent | null, reservation: SeqReservation | undefined): GapRange | null {
  const mark = reservation?.previous?.reserved ?? null;
  const from = head?.seq ?? 0;
  if (mark === null || mark <= from) return null;
  const endMs = last ? Date.parse(last.timestamp) + (last.latency_ms ?? 0) - 1 : 0;
  return {
    chain_id: chainId,
    first_seq: from + 1,
    last_seq: mark,
    count: mark - from,
    reason: 'crash',
    at: new Date(Number.isFinite(endMs) ? Math.max(0, endMs) : 0).toISOString(),
    last_hash: head?.hash ?? GENESIS_PREV_HASH,
  };
}
