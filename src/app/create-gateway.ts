import type { Clock } from '../core/clock.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { UsageEstimator } from '../capture/capture.js';
import { AuditPipeline } from '../pipeline/pipeline.js';
import type { EventObserver, Pricer, Redactor } from '../pipeline/stages.js';
import { Gateway, type GatewayConfig, type MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import type { EventStore } from '../store/event-store.js';
import { createChainer, type ChainPosition } from '../integrity/hash-chain.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import type { UpstreamPolicy } from '../upstream/upstream-policy.js';
import type { DiskSpool } from '../writer/disk-spool.js';
import { EventWriter, type WriterGap } from '../writer/event-writer.js';

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
  writer: { maxQueue: number; batchSize: number; flushDelayMs?: number; spool?: DiskSpool };
  routes?: MountedRoute[];
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  onGap?: (gap: WriterGap) => void;
  onWritten?: (events: readonly AuditEvent[]) => void;
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
  });
  // What an earlier run spooled continues the stored chain: replay it before reading the head, or
  // new events would reuse its seqs and fork the chain. If the store still refuses it, continue
  // after the spool's last event (replay stores the spooled events first, in order).
  await writer.replaySpool();
  const heads = await o.store.chains();
  let head: ChainPosition | null = heads.find((h) => h.chain_id === o.config.instanceId) ?? null;
  const spooled = o.writer.spool?.read().events.filter((e) => e.chain_id === o.config.instanceId).at(-1);
  if (spooled?.seq != null && spooled.hash !== null && spooled.seq > (head?.seq ?? 0)) head = { seq: spooled.seq, hash: spooled.hash };
  const chainer = createChainer({ chainId: o.config.instanceId, head });
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
      await upstream.close();
    },
  };
}
