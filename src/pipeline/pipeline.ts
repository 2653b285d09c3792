import type { AuditEvent } from '../core/audit-event.js';
import { captureEvent, type UsageEstimator } from '../capture/capture.js';
import type { Exchange } from '../capture/exchange.js';
import type { TraceContext } from '../capture/trace-context.js';
import type { EventWriter } from '../writer/event-writer.js';
import { createFieldCleaner } from '../redaction/field-cleaning.js';
import type { Chainer, EventObserver, FieldCleaner, Pricer, Redactor } from '../core/stages.js';

/**
 * Most exchanges left waiting for the writer's flush before they are built on the next turn. At one
 * connection (~1,500 requests/s) a 10 ms flush finds ~15 waiting.
 */
const BUILD_AT_MOST = 32;

export interface PipelineStages {
  /**
   * Cleans every client- and provider-supplied field around the content, for every event. Default:
   * the redactor's own (`TollgateRedactor.fields`, same content policy), else `createFieldCleaner()`
   * (a custom redactor never skips the cleaning).
   */
  fieldCleaner?: FieldCleaner;
  redactor: Redactor;
  pricer?: Pricer;
  chainer: Chainer;
  /** Detectors: they see the event before it is hashed, so their marks are covered by the chain. */
  observers?: EventObserver[];
  /**
   * Told about every event once it is queued for the store (metrics, sinks, live views), with the
   * caller's parsed `traceparent` when there was one (OTLP export parents its span on it).
   */
  listeners?: Array<(event: AuditEvent, caller?: TraceContext | null) => void>;
  writer: EventWriter;
  estimateUsage?: UsageEstimator;
  /** Told when a deferred exchange could not be turned into an event (`recordSoon`; never content). */
  onError?: (err: unknown) => void;
  /**
   * Told how long each build of deferred exchanges held the event loop, ms (at the writer's flush,
   * or on the next turn), once per batch that built anything (`tollgate_writer_loop_held_seconds`
   * with `phase="build"`). Must not throw.
   */
  onBuilt?: (ms: number) => void;
}

/**
 * The one pipeline both entry points feed: capture → redact → price → detect → chain → writer.
 * Everything up to the writer is synchronous, so events are chained in the order they are queued.
 */
export class AuditPipeline {
  /** Exchanges handed to `recordSoon`, built together when the writer next flushes. */
  private deferred: Array<{ x: Exchange; then: ((event: AuditEvent) => void) | undefined }> = [];
  /** A build on the next turn is scheduled (only when the writer will not flush them itself). */
  private buildScheduled = false;

  private readonly cleaner: FieldCleaner;

  constructor(private readonly stages: PipelineStages) {
    this.cleaner = stages.fieldCleaner ?? fieldsOf(stages.redactor) ?? createFieldCleaner();
    // Every flush and drain of the writer first builds and queues the exchanges waiting here.
    stages.writer.beforeFlush(this.buildDeferred);
  }

  /** Builds the stored form of an exchange's event (redacted, priced, marked, chained). */
  private build(x: Exchange): AuditEvent {
    const { event, raw, billing } = captureEvent(x, this.stages.estimateUsage);
    // The one place every value from a client or a provider is cleaned (issue 17).
    this.cleaner.clean(event);
    this.stages.redactor.apply(event, raw);
    this.stages.pricer?.price(event, billing);
    for (const o of this.stages.observers ?? []) o.observe(event);
    this.stages.chainer.link(event);
    return event;
  }

  private notify(event: AuditEvent, caller: TraceContext | null = null): void {
    for (const l of this.stages.listeners ?? []) {
      try {
        l(event, caller);
      } catch {
        // a listener never breaks the audit trail
      }
    }
  }

  /** Records an exchange (fail-open path): queued for the store; returns the stored form. */
  record(x: Exchange): AuditEvent {
    // Exchanges answered earlier are chained first: the chain follows the order of the answers.
    this.buildDeferred();
    return this.recordNow(x);
  }

  private recordNow(x: Exchange): AuditEvent {
    const event = this.build(x);
    this.stages.writer.enqueue(event);
    this.notify(event, x.trace);
    return event;
  }

  /**
   * Records an exchange later (fail-open path of the gateway), then calls `then` with the stored
   * form: the exchanges answered since the writer's last flush are built back to back when it
   * flushes next (`writer.flush_delay_ms`, or at once when a batch is full), in the order they were
   * handed over, and go into that same transaction. The response has gone out by then: the audit
   * work no longer delays it, and running the stages back to back for a batch, with warm caches,
   * costs markedly less CPU per event than building each one alone after its response (issue 22:
   * at one connection a request came with its own build, its own timer turn and a smaller
   * transaction). Nothing waits longer in memory than before: an event queued for the writer
   * waited for the same flush. An exchange with `then` (its admission holds reservations: a
   * budget, a token limit, a concurrency lease) is built on the next turn of the event loop, with
   * those waiting ahead of it, so its reservations settle as soon as before; so is every exchange
   * when the writer will not flush (store down, closed), and the writer's policy takes the events.
   * At most `BUILD_AT_MOST` exchanges wait for the flush: past that (a busy gateway), they are
   * built on the next turn, so a request's buffers do not live on through several young-generation
   * collections (promoting them cost more than the batching saved: chat stream, 50 connections).
   */
  recordSoon(x: Exchange, then?: (event: AuditEvent) => void): void {
    this.deferred.push({ x, then });
    if (this.buildScheduled) return;
    if (
      then === undefined &&
      this.deferred.length < BUILD_AT_MOST &&
      this.stages.writer.wake(this.deferred.length)
    )
      return;
    this.buildScheduled = true;
    setImmediate(this.buildDeferred);
  }

  /**
   * Builds now the exchanges waiting for the writer's flush (they are queued for it): for a reader
   * that must see the effects of every exchange answered so far (detectors' alerts, metrics).
   */
  buildPending(): void {
    this.buildDeferred();
  }

  /** Builds and queues every deferred exchange, in the order they were handed over. */
  private readonly buildDeferred = (): void => {
    this.buildScheduled = false;
    if (this.deferred.length === 0) return;
    const batch = this.deferred;
    this.deferred = [];
    const started = this.stages.onBuilt ? performance.now() : 0;
    for (const { x, then } of batch) {
      try {
        const event = this.recordNow(x);
        then?.(event);
      } catch (err) {
        this.stages.onError?.(err);
      }
    }
    this.stages.onBuilt?.(performance.now() - started);
  };

  /** Records an exchange and resolves once its event is durably stored (fail-closed path). */
  async commit(x: Exchange): Promise<AuditEvent> {
    this.buildDeferred();
    const event = this.build(x);
    const done = this.stages.writer.commit(event);
    this.notify(event, x.trace);
    await done;
    return event;
  }

  /** Records an event that did not come from an exchange (admin actions, erasures, gaps). */
  recordEvent(event: AuditEvent): AuditEvent {
    this.buildDeferred();
    // Admin actions carry a path-derived name, a user agent and an address from the request.
    this.cleaner.clean(event);
    for (const o of this.stages.observers ?? []) o.observe(event);
    this.stages.chainer.link(event);
    this.stages.writer.enqueue(event);
    this.notify(event);
    return event;
  }

  /**
   * Records an event that did not come from an exchange and resolves once it is durably stored:
   * a prune record must be in the store before the rows it names are deleted.
   */
  async commitEvent(event: AuditEvent): Promise<AuditEvent> {
    this.buildDeferred();
    this.cleaner.clean(event);
    for (const o of this.stages.observers ?? []) o.observe(event);
    this.stages.chainer.link(event);
    const done = this.stages.writer.commit(event);
    this.notify(event);
    await done;
    return event;
  }

  get writer(): EventWriter {
    return this.stages.writer;
  }
}

function fieldsOf(redactor: Redactor): FieldCleaner | null {
  const fields = (redactor as { fields?: unknown }).fields;
  return typeof fields === 'object' && fields !== null && 'clean' in fields ? (fields as FieldCleaner) : null;
}
