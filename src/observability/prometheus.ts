import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent } from '../core/audit-event.js';
import type { MountedRoute } from '../http/mounted-route.js';
import type { LoopPhase, WriterStats } from '../writer/event-writer.js';
import { BatchedCounts } from './batched-counts.js';
import { BoundedLabels, catalogModel } from './bounded-labels.js';
import { isAdminEvent } from './event-kind.js';
import { isUnpriced } from '../pricing/unpriced.js';

export interface PrometheusOptions {
  /** The writer's counters, read at scrape time (queue depth, spooled, dropped …). */
  writerStats?: () => WriterStats;
  /** Distinct model label values kept; later models are counted as `other` (default 20). */
  maxModels?: number;
  /** Models that always keep their own label (e.g. the ones a team pays for). */
  models?: readonly string[];
  /**
   * The catalog name of a model, or null when the catalog does not know it. When given, a model
   * label is only ever a catalog name (or `other`, or `unknown` when no model was named): the
   * model is whatever a client sent, and `/metrics` is not behind the admin token.
   */
  modelName?: (model: string) => string | null;
  /**
   * Also count requests per `user_id` (off by default: user ids are personal data and unbounded).
   * When on, at most `maxUsers` distinct users keep a label (default 50), the rest are `other`.
   */
  userLabel?: boolean;
  maxUsers?: number;
  /**
   * Distinct provider keys (fingerprints) that keep their own `key` label on the quota gauges
   * (default 20); later keys share `other`. In passthrough mode every client key is a provider key.
   */
  maxQuotaKeys?: number;
  /**
   * Seconds since this process's chain was last checkpointed (signed), read at scrape time; null
   * while unknown. Served as `tollgate_checkpoint_age_seconds` (the "checkpoint too old" alert).
   */
  checkpointAgeSeconds?: () => number | null;
  /** Extra labels on every series, e.g. `{ instance_id }` when replicas share one scrape job. */
  defaultLabels?: Record<string, string>;
}

/** Prometheus metrics of one Tollgate process. */
export interface TollgateMetrics {
  /** This process's own registry (never prom-client's global one, so two gateways in one process do not collide). */
  readonly registry: Registry;
  /** Counts one finished event. Never throws. */
  readonly listener: (event: AuditEvent) => void;
  /** `GET /metrics` in the Prometheus text format. */
  readonly route: MountedRoute;
  /**
   * Mirrors a writer's counters (queue depth, written, spooled, dropped, store errors) at scrape
   * time. The metrics exist before the audit trail (its listener feeds them), so the trail's writer
   * is registered once it exists; a second call is ignored.
   */
  watchWriter(stats: () => WriterStats): void;
  /**
   * How long a step of the audit trail held the event loop, ms (a build of deferred exchanges, a
   * store append up to its first wait): what a request that arrives meanwhile waits. Never throws.
   */
  readonly writerLoopHeld: (phase: LoopPhase, ms: number) => void;
  /** Counts an alert raised by a detection rule (call it from the alert path). */
  alertRaised(ruleId: string, severity: string): void;
  /** A provider key's quota as its last answer reported it (`key` is the key's fingerprint). */
  providerQuota(
    key: string,
    provider: string,
    kind: 'requests' | 'tokens',
    remaining: number,
    limit: number | null,
  ): void;
  /** The current exposition text (what the route serves). */
  text(): Promise<string>;
}

// Seconds; covers fast refusals up to long generations (Prometheus histograms need fixed buckets).
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
// Seconds: from a few events built to a WAL checkpoint inside a commit.
const LOOP_HELD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/**
 * Builds the metrics and the `/metrics` route. Model labels are bounded (`maxModels`, then
 * `other`); alert rule ids come from Tollgate's own rule set, so they are bounded by construction.
 */
export function createPrometheusMetrics(o: PrometheusOptions = {}): TollgateMetrics {
  const registry = new Registry();
  if (o.defaultLabels) registry.setDefaultLabels(o.defaultLabels);
  const registers = [registry];
  const models = new BoundedLabels(o.maxModels ?? 20, o.models ?? []);
  const users = o.userLabel ? new BoundedLabels(o.maxUsers ?? 50) : null;
  // In passthrough mode each client brings its own provider key: one series per key ever seen,
  // never removed, without a bound.
  const quotaKeys = new BoundedLabels(o.maxQuotaKeys ?? 20);

  const requests = new Counter({
    name: 'tollgate_requests_total',
    help: 'Requests recorded, by outcome status and model.',
    labelNames: ['status', 'model'],
    registers,
    collect: (): void => requestCounts.flush(),
  });
  const tokens = new Counter({
    name: 'tollgate_tokens_total',
    help: 'Tokens used, by type (input|output) and model.',
    labelNames: ['type', 'model'],
    registers,
    collect: (): void => tokenCounts.flush(),
  });
  const cost = new Counter({
    name: 'tollgate_cost_micro_usd_total',
    help: 'Cost in micro-USD (priced requests only), by model.',
    labelNames: ['model'],
    registers,
    collect: (): void => costCounts.flush(),
  });
  const unpriced = new Counter({
    name: 'tollgate_unpriced_requests_total',
    help: 'Requests whose cost is unknown (no price for their model): counted, never added as 0.',
    labelNames: ['model'],
    registers,
  });
  // Counted per event, added to the counters when they are read (batched-counts.ts).
  const requestCounts = new BatchedCounts<'status' | 'model'>(requests);
  const tokenCounts = new BatchedCounts<'type' | 'model'>(tokens);
  const costCounts = new BatchedCounts<'model'>(cost);
  const retries = new Counter({
    name: 'tollgate_upstream_retries_total',
    help: 'Upstream retries made, by model.',
    labelNames: ['model'],
    registers,
  });
  const latency = new Histogram({
    name: 'tollgate_request_duration_seconds',
    help: 'Whole request latency seen by the client, by model.',
    labelNames: ['model'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const ttft = new Histogram({
    name: 'tollgate_time_to_first_token_seconds',
    help: 'Time to the first streamed chunk, by model (streams only).',
    labelNames: ['model'],
    buckets: TTFT_BUCKETS,
    registers,
  });
  const alerts = new Counter({
    name: 'tollgate_alerts_total',
    help: 'Alerts raised, by rule and severity.',
    labelNames: ['rule', 'severity'],
    registers,
  });
  const quotaRemaining = new Gauge({
    name: 'tollgate_provider_quota_remaining',
    help: "Requests or tokens the provider says are left on a provider key (key = the key's fingerprint; past metrics.max_quota_keys keys, other = the latest of the rest), from its rate-limit headers.",
    labelNames: ['key', 'provider', 'kind'],
    registers,
  });
  const quotaLimit = new Gauge({
    name: 'tollgate_provider_quota_limit',
    help: 'The provider key quota those remaining counts are out of.',
    labelNames: ['key', 'provider', 'kind'],
    registers,
  });
  const admin = new Counter({
    name: 'tollgate_admin_actions_total',
    help: 'Audited admin actions (keys, erasures, acknowledgements), by status.',
    labelNames: ['status'],
    registers,
  });
  const byUser = users
    ? new Counter({
        name: 'tollgate_requests_by_user_total',
        help: 'Requests by user id (bounded; opt-in).',
        labelNames: ['user'],
        registers,
      })
    : null;

  const loopHeld = new Histogram({
    name: 'tollgate_writer_loop_held_seconds',
    help: 'How long each step of the audit trail held the event loop, by phase (build: answered exchanges made into events; write: a store append up to its first wait). Requests arriving meanwhile wait that long.',
    labelNames: ['phase'],
    buckets: LOOP_HELD_BUCKETS,
    registers,
  });
  const loopHeldBy = {
    build: loopHeld.labels({ phase: 'build' }),
    write: loopHeld.labels({ phase: 'write' }),
  };

  let writerWatched = false;
  const watchWriter = (stats: () => WriterStats): void => {
    if (writerWatched) return;
    writerWatched = true;
    registerWriterMetrics(registers, stats);
  };
  if (o.writerStats) watchWriter(o.writerStats);

  const checkpointAge = o.checkpointAgeSeconds;
  if (checkpointAge) {
    new Gauge({
      name: 'tollgate_checkpoint_age_seconds',
      help: "Seconds since this instance's hash chain was last covered by a signed checkpoint.",
      registers,
      collect() {
        const age = checkpointAge();
        if (age === null) this.reset();
        else this.set(age);
      },
    });
  }

  const known = new Set(o.models ?? []);
  const modelLabel = (m: string | null): string | null => catalogModel(m, o.modelName, known);

  const listener = (e: AuditEvent): void => {
    try {
      if (isAdminEvent(e)) {
        admin.inc({ status: e.status });
        return;
      }
      const model = models.label(modelLabel(e.model_used ?? e.model_requested));
      const status = e.status;
      requestCounts.add(`${status}\u0000${model}`, () => ({ status, model }));
      if (e.input_tokens) tokenCounts.add(`i${model}`, () => ({ type: 'input', model }), e.input_tokens);
      if (e.output_tokens) tokenCounts.add(`o${model}`, () => ({ type: 'output', model }), e.output_tokens);
      if (e.cost_micro_usd !== null) costCounts.add(model, () => ({ model }), e.cost_micro_usd);
      if (isUnpriced(e)) unpriced.inc({ model });
      if (e.retry_count > 0) retries.inc({ model }, e.retry_count);
      if (e.latency_ms !== null) latency.observe({ model }, e.latency_ms / 1000);
      if (e.stream && e.time_to_first_token_ms !== null)
        ttft.observe({ model }, e.time_to_first_token_ms / 1000);
      if (byUser && users && e.user_id !== null) byUser.inc({ user: users.label(e.user_id) });
    } catch {
      // metrics never break the audit path
    }
  };

  const route: MountedRoute = {
    prefix: '/metrics',
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
        res.end('method not allowed\n');
        return;
      }
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };

  return {
    registry,
    listener,
    route,
    alertRaised(ruleId: string, severity: string): void {
      alerts.inc({ rule: ruleId, severity });
    },
    providerQuota(fingerprint, provider, kind, remaining, limit): void {
      // `other` holds the latest reading of any key past the bound (the provider.quota-low alert
      // still watches every key).
      const key = quotaKeys.label(fingerprint);
      quotaRemaining.set({ key, provider, kind }, remaining);
      if (limit !== null) quotaLimit.set({ key, provider, kind }, limit);
    },
    watchWriter,
    writerLoopHeld: (phase, ms) => loopHeldBy[phase]?.observe(ms / 1000),
    text: () => registry.metrics(),
  };
}

/** The writer's gauges and counters, read at scrape time: the writer keeps the counts, these only mirror them. */
function registerWriterMetrics(registers: Registry[], stats: () => WriterStats): void {
  // Read at scrape time: the writer keeps the counts, these only mirror them.
  new Gauge({
    name: 'tollgate_writer_queue_depth',
    help: 'Events waiting to be written to the store.',
    registers,
    collect() {
      this.set(stats().queueDepth);
    },
  });
  new Gauge({
    name: 'tollgate_store_available',
    help: '1 while the event store accepts writes.',
    registers,
    collect() {
      this.set(stats().storeAvailable ? 1 : 0);
    },
  });
  const mirrored: Array<[string, string, keyof WriterStats]> = [
    ['tollgate_events_written_total', 'Events written to the store.', 'written'],
    ['tollgate_events_spooled_total', 'Events spooled to disk while the store was unavailable.', 'spooled'],
    [
      'tollgate_events_dropped_total',
      'Events that could be neither stored nor spooled (each is in a gap record).',
      'dropped',
    ],
    ['tollgate_store_errors_total', 'Failed store writes.', 'storeErrors'],
  ];
  for (const [name, help, key] of mirrored) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(Number(stats()[key]));
      },
    });
  }
}
