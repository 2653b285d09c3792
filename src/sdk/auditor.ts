import type { AuditEvent } from '../core/audit-event.js';
import { systemClock, type Clock } from '../core/clock.js';
import { TollgateError, type ErrorCode } from '../core/errors.js';
import type { UsageEstimator } from '../capture/capture.js';
import type { AuthFields, Exchange } from '../capture/exchange.js';
import { recordFailure } from '../capture/response-tap.js';
import type { AuditPipeline } from '../pipeline/pipeline.js';
import { createAuditTrail, type AuditTrail } from '../pipeline/audit-trail.js';
import type { EventObserver, Pricer, Redactor } from '../core/stages.js';
import { loadPriceCatalog } from '../pricing/catalog.js';
import { createPricer } from '../pricing/pricer.js';
import { estimateUsage } from '../pricing/token-estimate.js';
import { PassthroughPolicy } from '../proxy/passthrough-policy.js';
import { createRedactor } from '../redaction/redactor.js';
import type { EventStore } from '../store/event-store.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { upstreamPolicy, type UpstreamPolicy } from '../upstream/upstream-policy.js';
import { DiskSpool } from '../writer/disk-spool.js';
import type { EventWriter, FailurePolicy, WriterGap, WriterStats } from '../writer/event-writer.js';
import { GapJournal } from '../writer/gap-journal.js';
import { SeqReservation } from '../writer/seq-reservation.js';
import { AuditContext, type AttributionInput } from './audit-context.js';
import { sdkInstanceId } from './sdk-instance-id.js';
import { openSdkStore, type SdkStoreChoice } from './sdk-store.js';
import { trackCall, type TrackedCall, type TrackMeta } from './tracked-call.js';

export interface AuditorOptions {
  /** Where events go: an EventStore, or a choice the SDK opens (SQLite is loaded only when chosen). */
  store: EventStore | SdkStoreChoice;
  /** The redact stage; default: `createRedactor()` (content stored redacted, DESIGN.md defaults). */
  redactor?: Redactor;
  /** The price stage; default: the bundled price catalog. `null` leaves cost unset. */
  pricer?: Pricer | null;
  /** Token estimate when the provider reports none; default: the gateway's tokenizer. `null` disables. */
  estimateUsage?: UsageEstimator | null;
  /** Detectors, as in the gateway; they see each event before it is chained. */
  detectors?: EventObserver[];
  /** Told about every event once queued. */
  listeners?: Array<(event: AuditEvent) => void>;
  /** Timeouts and retries, the same typed object as the gateway's upstream client. */
  upstream?: Parameters<typeof upstreamPolicy>[0];
  /** What happens when the audit trail cannot be written; default `fail-open` (as the gateway). */
  failurePolicy?: FailurePolicy;
  /**
   * fail-open: spool file for events the store cannot take; without it they are counted as dropped.
   * Beside it, `<path>.gaps` keeps gaps whose record is not stored yet across a stop, and with a
   * fixed `instanceId`, `<path>.mark` the chain's seq mark, so a crash is accounted at the next
   * start (docs/reliability.md "Crash"). What an earlier process spooled is replayed at start.
   */
  spool?: { path: string; maxBytes: number };
  writer?: { maxQueue?: number; batchSize?: number; flushDelayMs?: number; retryIntervalMs?: number };
  /** Chain id of this process; default `sdk-<host>-<pid>-<random>`. A fixed id continues its stored chain. */
  instanceId?: string;
  /**
   * Secret of the keyed `api_key_id` fingerprint. Give the gateway's (its `fingerprint.key`) for ids
   * that match across gateway and SDK; default: random per auditor (ids stable within the process).
   */
  fingerprintSecret?: string | Buffer;
  /** Attribution applied to every call unless a call or its context says otherwise. */
  attribution?: AttributionInput;
  /** `api_provider` of audited fetch calls; default: from the URL's host. */
  provider?: string;
  /** Longest non-streamed response body kept for the audit (the caller still gets it whole). */
  responseCaptureLimitBytes?: number;
  clock?: Clock;
  /** Operational hooks; never receive content or keys. */
  onGap?: (gap: WriterGap) => void;
  onStoreError?: (err: unknown) => void;
}

/** The writer's counters plus what the SDK itself could not audit or refused. */
export interface AuditorStats extends WriterStats {
  /** Calls refused under fail-closed (the provider was not called). */
  refused: number;
  /** Exchanges whose event could not be built (a stage threw); the call itself went on. */
  auditErrors: number;
  /** fail-closed successes whose event could not be committed (the caller saw TG_ERR_AUDIT_UNAVAILABLE). */
  commitFailures: number;
  /** Gap records: events neither stored nor spooled. */
  gaps: number;
}

/** Most upstream origins with a live connection pool; the oldest is closed past this. */
const MAX_ORIGINS = 32;

/**
 * The in-process audit trail: the gateway's pipeline (capture → redact → price → detect → chain →
 * writer) behind an audited fetch, `wrapOpenAI` and `track`. Create one per process with
 * `createAuditor`, and `close()` it at shutdown so queued events are written.
 */
export class Auditor {
  readonly instanceId: string;
  readonly policy: UpstreamPolicy;
  readonly failurePolicy: FailurePolicy;
  readonly clock: Clock;
  readonly provider: string | null;
  readonly responseCaptureLimitBytes: number;
  readonly defaults: AttributionInput;
  readonly writer: EventWriter;
  /** @internal */
  readonly pipeline: AuditPipeline;
  private readonly context = new AuditContext();
  private readonly auth: PassthroughPolicy;
  private readonly upstreams = new Map<string, UpstreamClient>();
  private readonly counters = { refused: 0, auditErrors: 0, commitFailures: 0 };

  /** @internal Use `createAuditor`. */
  constructor(
    readonly store: EventStore,
    private readonly trail: AuditTrail,
    o: AuditorOptions,
    instanceId: string,
  ) {
    this.instanceId = instanceId;
    this.clock = o.clock ?? systemClock;
    this.policy = upstreamPolicy(o.upstream);
    this.failurePolicy = o.failurePolicy ?? 'fail-open';
    this.provider = o.provider ?? null;
    this.responseCaptureLimitBytes = o.responseCaptureLimitBytes ?? 4 * 1024 * 1024;
    this.defaults = o.attribution ?? {};
    this.auth = new PassthroughPolicy(
      o.fingerprintSecret === undefined ? randomSecret() : toBuffer(o.fingerprintSecret),
    );
    this.writer = trail.writer;
    this.pipeline = trail.pipeline;
  }

  /** Runs `fn` with this attribution for every audited call inside it (AsyncLocalStorage, not globals). */
  withContext<T>(attribution: AttributionInput, fn: () => T): T {
    return this.context.run(attribution, fn);
  }

  /** The attribution of the current async context, if any. */
  currentContext(): AttributionInput | undefined {
    return this.context.current();
  }

  /**
   * Audits any async provider call that is not OpenAI-shaped: one event per call, written in a
   * `finally`, so a call that throws is recorded too (and its error rethrown unchanged). `fn`
   * reports model, usage, output and first token through the handle it receives.
   */
  track<T>(meta: TrackMeta, fn: (call: TrackedCall) => Promise<T>): Promise<T> {
    return trackCall(this, meta, fn);
  }

  stats(): AuditorStats {
    return { ...this.writer.stats(), ...this.counters, gaps: this.writer.gaps.length };
  }

  /** Resolves once every queued event is in the store (or spooled/accounted when it is down). */
  async flush(): Promise<void> {
    await this.writer.drain();
  }

  /** Writes what is queued, closes upstream pools and the store. */
  async close(): Promise<void> {
    await this.trail.close();
    await Promise.allSettled([...this.upstreams.values()].map((u) => u.close()));
    this.upstreams.clear();
    await this.store.close();
  }

  /** @internal The API-key fields of an event, as the gateway's passthrough mode computes them. */
  authFields(headers: Record<string, string>, query = ''): AuthFields {
    return this.auth.admit({ headers, ip: null, endpoint: '', query, model: null, body: null, now: 0 }).auth;
  }

  /** @internal The upstream client (retries, timeouts, keep-alive pool) for one origin. */
  upstreamFor(origin: string): UpstreamClient {
    let u = this.upstreams.get(origin);
    if (u === undefined) {
      if (this.upstreams.size >= MAX_ORIGINS) {
        const [oldest, client] = this.upstreams.entries().next().value as [string, UpstreamClient];
        this.upstreams.delete(oldest);
        void client.close().catch(() => undefined);
      }
      u = new UpstreamClient(origin, this.policy, this.clock);
      this.upstreams.set(origin, u);
    }
    return u;
  }

  /** @internal fail-closed: true when a call may go to the provider now. */
  canAccept(): boolean {
    return this.writer.canAccept();
  }

  /**
   * @internal Records a call refused before the provider was called (fail-closed, audit trail
   * unavailable) and returns the error to throw.
   */
  refuse(x: Exchange): TollgateError {
    this.counters.refused++;
    x.blocked = true;
    this.fail(x, 'TG_ERR_AUDIT_UNAVAILABLE');
    this.recordQuietly(x);
    return new TollgateError('TG_ERR_AUDIT_UNAVAILABLE', { event_id: x.eventId });
  }

  /** @internal Marks an exchange as ended by Tollgate with `code`, as the gateway's `fail` does. */
  fail(x: Exchange, code: ErrorCode): void {
    recordFailure(x, code);
  }

  /**
   * @internal Records a finished exchange. fail-closed commits a success before it is handed over
   * (as the gateway does) and throws `TG_ERR_AUDIT_UNAVAILABLE` when that commit fails; every other
   * path queues the event and never throws.
   */
  async settle(x: Exchange): Promise<void> {
    if (
      this.failurePolicy === 'fail-closed' &&
      !x.cancelled &&
      x.failure === null &&
      (x.httpStatus ?? 500) < 400
    ) {
      try {
        await this.pipeline.commit(x);
      } catch {
        this.counters.commitFailures++;
        throw new TollgateError('TG_ERR_AUDIT_UNAVAILABLE', { event_id: x.eventId });
      }
      return;
    }
    this.recordQuietly(x);
  }

  private recordQuietly(x: Exchange): void {
    try {
      this.pipeline.record(x);
    } catch {
      // A stage failed: the call goes on and the loss is counted (DESIGN.md: never silent).
      this.counters.auditErrors++;
    }
  }
}

/**
 * Creates the SDK's auditor. Async because the chosen store may need opening (SQLite is imported
 * on demand) and a fixed `instanceId` continues its stored chain from the head.
 */
export async function createAuditor(o: AuditorOptions): Promise<Auditor> {
  const store = isEventStore(o.store) ? o.store : await openSdkStore(o.store);
  const instanceId = o.instanceId ?? sdkInstanceId();
  const clock = o.clock ?? systemClock;
  const journal = o.spool ? new GapJournal(`${o.spool.path}.gaps`) : undefined;
  // A fixed id continues its chain, so a crash could reuse seqs: it keeps a seq mark.
  const reservation =
    o.spool && o.instanceId !== undefined
      ? new SeqReservation({
          path: `${o.spool.path}.mark`,
          chainId: instanceId,
          ...(o.onStoreError ? { onError: o.onStoreError } : {}),
        })
      : undefined;
  const isHttp = !isEventStore(o.store) && o.store.kind === 'http';
  const pricer = o.pricer === undefined ? createPricer(loadPriceCatalog()) : o.pricer;
  const estimate = o.estimateUsage === undefined ? estimateUsage : o.estimateUsage;
  const trail = await createAuditTrail({
    chainId: instanceId,
    source: 'sdk',
    store,
    clock,
    policy: o.failurePolicy ?? 'fail-open',
    // A fixed id continues its chain (a write-only sink cannot tell its head, so it must not be given one).
    continueStored: o.instanceId !== undefined,
    writer: {
      maxQueue: o.writer?.maxQueue ?? 10_000,
      batchSize: o.writer?.batchSize ?? 256,
      // Over HTTP a batch costs a round trip: let events share it.
      flushDelayMs: o.writer?.flushDelayMs ?? (isHttp ? 200 : 0),
      ...(o.writer?.retryIntervalMs !== undefined ? { retryIntervalMs: o.writer.retryIntervalMs } : {}),
      spool: o.spool ? new DiskSpool(o.spool.path, o.spool.maxBytes) : undefined,
      journal,
      reservation,
    },
    stages: {
      redactor: o.redactor ?? createRedactor(),
      pricer: pricer ?? undefined,
      estimateUsage: estimate ?? undefined,
      observers: o.detectors ?? [],
      listeners: o.listeners ?? [],
    },
    hooks: {
      ...(o.onGap ? { onGap: o.onGap } : {}),
      ...(o.onStoreError ? { onStoreError: o.onStoreError, onJournalError: o.onStoreError } : {}),
    },
  });
  return new Auditor(store, trail, o, instanceId);
}

function isEventStore(s: AuditorOptions['store']): s is EventStore {
  return typeof (s as EventStore).append === 'function';
}

function randomSecret(): Buffer {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32)));
}

function toBuffer(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}
