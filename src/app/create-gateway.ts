import type { Clock } from '../core/clock.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { UsageEstimator } from '../capture/capture.js';
import type { AuditPipeline } from '../pipeline/pipeline.js';
import { createAuditTrail } from '../pipeline/audit-trail.js';
import type { EventObserver, Pricer, Redactor } from '../core/stages.js';
import { Gateway, type GatewayConfig, type MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import type { EventStore } from '../store/event-store.js';
import {
  createProviderRouter,
  singleProvider,
  type ProviderRouteConfig,
  type ProviderRouter,
} from '../providers/provider-router.js';
import { providerNameForUrl } from '../providers/registry.js';
import type { UpstreamPolicy } from '../upstream/upstream-policy.js';
import type { DiskSpool } from '../writer/disk-spool.js';
import type { EventWriter, LostRange, WriterGap } from '../writer/event-writer.js';
import type { GapJournal } from '../writer/gap-journal.js';
import type { SeqReservation } from '../writer/seq-reservation.js';

export interface CreateGatewayOptions {
  config: GatewayConfig;
  /** One OpenAI-compatible upstream (`--upstream URL` or a preset name); ignored when `providers` is set. */
  upstreamUrl: string;
  /** Several providers behind the gateway, routed by model or path (src/providers/provider-router.ts). */
  providers?: readonly ProviderRouteConfig[];
  /** Managed mode: provider name → the key Tollgate sends to it. */
  providerKeys?: ReadonlyMap<string, string>;
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
  /** The providers requests go to. */
  router: ProviderRouter;
  store: EventStore;
  /** Stops the server, drains the writer, closes the upstream pool (not the store: its owner does). */
  close(): Promise<void>;
}

/**
 * One gateway on an audit trail (tests, benches): the trail (pipeline.ts `createAuditTrail`, as
 * the SDK's), the upstream client and the server. `startTollgate` builds the same from config.
 */
export async function createGateway(o: CreateGatewayOptions): Promise<TollgateGateway> {
  const log = o.log;
  const errName = (err: unknown): string => (err instanceof Error ? err.name : 'unknown');
  const trail = await createAuditTrail({
    chainId: o.config.instanceId,
    source: 'gateway',
    store: o.store,
    clock: o.clock,
    policy: o.config.policy,
    writer: o.writer,
    stages: {
      redactor: o.redactor,
      pricer: o.pricer,
      estimateUsage: o.estimateUsage,
      observers: o.detectors ?? [],
      listeners: o.listeners ?? [],
    },
    hooks: {
      ...(log ? { log } : {}),
      onStoreError: (err) => log?.('store unavailable', { err: errName(err) }),
      onJournalError: (err) => log?.('gap journal could not be written', { err: errName(err) }),
      onBuildError: (err) => log?.('audit event could not be built', { err: errName(err) }),
      ...(o.onGap ? { onGap: o.onGap } : {}),
      ...(o.onWritten ? { onWritten: o.onWritten } : {}),
      ...(o.onLost ? { onLost: o.onLost } : {}),
    },
  });
  const router = createProviderRouter(
    o.providers?.length
      ? o.providers
      : [singleProvider(o.upstreamUrl, o.config.provider, providerNameForUrl)],
    { policy: o.upstreamPolicy, clock: o.clock, ...(o.providerKeys ? { keys: o.providerKeys } : {}) },
  );
  const gateway = new Gateway({
    config: o.config,
    pipeline: trail.pipeline,
    router,
    clock: o.clock,
    policy: o.policy,
    routes: o.routes ?? [],
    ...(log ? { log } : {}),
  });
  return {
    gateway,
    pipeline: trail.pipeline,
    writer: trail.writer,
    router,
    store: o.store,
    async close() {
      await gateway.close();
      await trail.close();
      await router.close();
    },
  };
}
