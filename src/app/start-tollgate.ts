import { join } from 'node:path';
import type { AuditEvent } from '../core/audit-event.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Alert } from '../alerting/alert.js';
import { providerQuotaLowAlert } from '../access/provider-quota-alert.js';
import { keyFingerprint } from '../access/key-fingerprint.js';
import { ProviderQuotaTracker } from '../access/provider-quota-tracker.js';
import { Lifetime } from '../core/lifetime.js';
import { openToOthers } from '../store/sqlite/open-to-others.js';
import { writerBatchSize, type TollgateConfig } from '../config/config.js';
import { loadOrCreateSecret } from '../config/local-secret.js';
import { ensureAdminToken, type AdminToken } from '../access/admin-token.js';
import { createAdminApi } from '../admin/admin-api.js';
import { createAdminConsole, type AdminConsole } from '../admin/admin-console.js';
import type { AlertDispatcher } from '../alerting/alert-dispatcher.js';
import type { AlertSink } from '../alerting/alert-sink.js';
import type { AlertStore } from '../alerting/alert-store.js';
import { createAlerting } from '../alerting/create-alerting.js';
import type { KeyStore } from '../access/key-store.js';
import { createDashboard } from '../dashboard/dashboard.js';
import { createDetection } from '../detection/create-detection.js';
import type { DetectionEngine } from '../detection/detection-engine.js';
import { openJsonlFileSink } from '../export/jsonl-file-sink.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { CheckpointWriter } from '../integrity/checkpoint-writer.js';
import { createIntegrity } from '../integrity/create-integrity.js';
import type { SigningKey } from '../integrity/signing-key.js';
import type { OtelConfig } from '../observability/otel.js';
import { startOtelExport } from '../observability/otel-start.js';
import { createPrometheusMetrics, type TollgateMetrics } from '../observability/prometheus.js';
import { createAuditTrail } from '../pipeline/audit-trail.js';
import { loadPriceCatalog, type PriceCatalog } from '../pricing/catalog.js';
import { createPricer } from '../pricing/pricer.js';
import { estimateUsage } from '../pricing/token-estimate.js';
import { createContentRedactor } from '../privacy/create-content-redactor.js';
import { createAccessPolicy, managedProviderKey } from '../proxy/access-policy.js';
import { Gateway, type MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import { createIngestRoute } from '../proxy/ingest-route.js';
import { createSharedState } from '../state/create-shared-state.js';
import type { EventStore } from '../store/event-store.js';
import { openStorage } from '../store/open-storage.js';
import type { RollupReader } from '../store/rollups.js';
import { routerFromConfig } from '../providers/provider-router.js';
import { loadProviderKeys } from '../access/provider-keys.js';
import { upstreamPolicyFromConfig } from '../upstream/upstream-policy.js';
import { gatewayWriterFiles } from './chain-state-files.js';
import { SqliteAppendThread } from '../store/sqlite/sqlite-append-thread.js';
import { SqliteCheckpointThread } from '../store/sqlite/sqlite-checkpoint-thread.js';
import { SqliteEventStore } from '../store/sqlite/sqlite-event-store.js';
import { gatewayRetention } from './gateway-retention.js';
import type { PruneScheduler } from '../retention/prune-scheduler.js';
import type { TollgateGateway } from './create-gateway.js';
import { loadOrCreateInstanceId } from './instance-id.js';
import type { Logger } from './logger.js';
import { auditDataPaths, localPaths } from './local-paths.js';

export { localPaths } from './local-paths.js';

export interface RunningTollgate extends TollgateGateway {
  /** The scheduled prune (null without `retention.events` / `retention.content`): `runNow()` for tests and the demo. */
  retention: PruneScheduler | null;
  url: string;
  config: TollgateConfig;
  instanceId: string;
  store: EventStore;
  catalog: PriceCatalog;
  /** Cost and usage rollups, from the store (SQLite tables, or PostgreSQL shared by every replica). */
  rollups: RollupReader;
  alerts: AlertStore;
  /** Gateway-issued keys, in the same store as the events. */
  keys: KeyStore;
  dispatcher: AlertDispatcher;
  /**
   * Stores the coalesced updates of ongoing incidents now and waits for every alert's delivery,
   * after the detectors have seen every exchange answered so far (`AuditPipeline.buildPending`).
   */
  flushAlerts(): Promise<void>;
  detection: DetectionEngine;
  checkpoints: CheckpointStore;
  checkpointWriter: CheckpointWriter;
  signingKey: SigningKey;
  /** True when this run created the local fingerprint secret. */
  createdSecret: boolean;
  /** Prometheus metrics served at `/metrics` (call `metrics.alertRaised` for alerts raised elsewhere). */
  metrics: TollgateMetrics;
  /** The admin token guarding `/admin/*` and `/ui/` (`created`: print it once), its file, and the console behind both. */
  admin: { token: AdminToken; path: string; console: AdminConsole };
}

export interface StartOptions {
  config: TollgateConfig;
  log: Logger;
  clock?: Clock;
  /** Replaces the passthrough policy (managed mode, tests). */
  policy?: RequestPolicy;
  /** Extra alert sinks beside the configured ones (tests, the demo). */
  alertSinks?: AlertSink[];
  listeners?: Array<(event: AuditEvent) => void>;
  routes?: MountedRoute[];
  /** OTLP export of traces and metrics (off unless given; the CLI builds it from OTEL_EXPORTER_OTLP_ENDPOINT). */
  otel?: OtelConfig;
  /**
   * Wraps the store the audit trail's writer appends to (a decorator: fault injection in tests,
   * a store that also copies elsewhere). Reads, checkpoints and the admin console use the store itself.
   */
  wrapStore?: (store: EventStore) => EventStore;
}

/**
 * Builds and starts a whole Tollgate from configuration, each capability by its own builder in
 * dependency order: the store, local secrets, metrics, alerts, shared state, detection, exporters,
 * signed checkpoints, the redact stage and the access policy, the audit trail, the admin console,
 * and the gateway. Each resource's close is recorded in one lifetime as it is acquired; `close()`
 * (or a start that fails halfway: a port in use, a bad managed-mode setting) closes them in
 * reverse, so an open pool, Redis socket or server never keeps a failed `tollgate serve` alive.
 * `tollgate serve` and `tollgate demo` both start through here.
 */
export async function startTollgate(o: StartOptions): Promise<RunningTollgate> {
  const life = new Lifetime();
  try {
    return await start(o, life);
  } catch (err) {
    await life.close();
    throw err;
  }
}

async function start(o: StartOptions, life: Lifetime): Promise<RunningTollgate> {
  const { config, log } = o;
  const clock = o.clock ?? systemClock;
  const paths = localPaths(config);
  const instanceId = config.instance_id ?? loadOrCreateInstanceId(paths.instanceId);
  const { store, checkpoints, tables, search } = await openStorage(
    config.db,
    { clock, alertWriter: instanceId, onPoolError: () => log.warn({}, 'store connection lost') },
    life,
  );
  for (const path of openToOthers(auditDataPaths(config)))
    log.warn({ path }, 'readable by other users: the audit data should be 0700 (folder) / 0600 (files)');
  // The fingerprint secret, shared by every replica, also names the Redis keys (HMAC of IPs and fingerprints).
  const { secret, created } = loadOrCreateSecret(paths.fingerprint);
  const catalog = loadPriceCatalog({ overridePath: config.prices.override_path });
  const integrity = await createIntegrity(
    config.checkpoints,
    {
      chainId: instanceId,
      keyPath: paths.signingKey,
      anchorFile: paths.anchorFile,
      events: store,
      checkpoints,
      clock,
      log,
    },
    life,
  );
  // Catalog names only in metric labels: a model string is client input (issue 17). The newest row names it.
  const modelName = (m: string): string | null => catalog.resolve(m, Number.MAX_SAFE_INTEGER)?.model ?? null;
  const metrics = createPrometheusMetrics({
    checkpointAgeSeconds: () =>
      Math.max(0, (clock.now() - integrity.checkpointWriter.lastCheckpointAtMs) / 1000),
    maxModels: config.metrics.max_models,
    userLabel: config.metrics.user_label,
    maxQuotaKeys: config.metrics.max_quota_keys,
    modelName,
  });
  const alerting = createAlerting(
    config.alerts,
    {
      store: tables.alerts,
      clock,
      log,
      extraSinks: o.alertSinks,
      onRaised: (a) => metrics.alertRaised(a.rule_id, a.severity),
    },
    life,
  );
  const shared = await createSharedState(
    config,
    { secret, clock, instanceId, raiseAlert: alerting.raise, log },
    life,
  );
  const detection = createDetection(
    config,
    { clock, log, shared: shared?.windows, onAlert: alerting.detected },
    life,
  );
  const otel = await startOtelExport(
    o.otel,
    { upstreamUrl: config.upstream_url, instanceId, log, modelName },
    life,
  );
  const jsonlSink = openJsonlFileSink(config.sinks.jsonl, { clock, log }, life);
  const redactor = await createContentRedactor(config.content, {
    dataKeys: () =>
      tables.dataKeys({
        onError: () => log.warn({}, 'data keys could not be stored or refreshed (retried)'),
      }),
    clock,
  });
  // Read once: the access policy and the router use the same key, even if its file changes meanwhile.
  const managedKey = config.mode === 'managed' ? managedProviderKey(config) : null;
  const policy = createAccessPolicy(config, {
    keys: tables.keys,
    managedKey,
    secret,
    catalog,
    clock,
    raiseAlert: alerting.raise,
    keySpentSince: (keyId, startMs) => tables.keySpentSince(keyId, startMs),
    scopeSpentSince: (scope, subject, sinceMs) => tables.scopeSpentSince(scope, subject, sinceMs),
    shared,
    base: o.policy,
  });
  const gatewayLog = (msg: string, fields?: Record<string, unknown>): void => log.warn(fields ?? {}, msg);
  const appendTo = await appendThread(config, store, o.wrapStore !== undefined, life);
  const errName = (err: unknown): string => (err instanceof Error ? err.name : 'unknown');
  if (!appendTo)
    // The thread's errors carry a code or an exit status, never content.
    checkpointThread(config, store, life, (err) =>
      log.warn({ err: err instanceof Error ? err.message : 'unknown' }, 'WAL checkpoint thread'),
    );
  const trail = life.own(
    'audit trail',
    await createAuditTrail({
      chainId: instanceId,
      source: 'gateway',
      store: o.wrapStore ? o.wrapStore(store) : store,
      clock,
      policy: config.failure_policy,
      writer: {
        maxQueue: config.writer.max_queue,
        batchSize: writerBatchSize(config),
        flushDelayMs: config.writer.flush_delay_ms,
        ...(config.writer.flush_events !== null ? { flushEvents: config.writer.flush_events } : {}),
        ...(appendTo ? { appendTo } : {}),
        ...gatewayWriterFiles(paths.dir, instanceId, config, log),
      },
      stages: {
        redactor,
        pricer: createPricer(catalog),
        estimateUsage,
        observers: [detection],
        listeners: [
          metrics.listener,
          ...(otel ? [otel.listener] : []),
          ...(jsonlSink ? [jsonlSink.listener] : []),
          ...(o.listeners ?? []),
        ],
      },
      hooks: {
        log: gatewayLog,
        onStoreError: (err) => gatewayLog('store unavailable', { err: errName(err) }),
        onJournalError: (err) => gatewayLog('gap journal could not be written', { err: errName(err) }),
        onBuildError: (err) => gatewayLog('audit event could not be built', { err: errName(err) }),
        // Once per gap, when it closes.
        onGap: (gap) => log.error({ gap }, 'audit gap: events could not be stored or spooled'),
        onWritten: (events) => integrity.checkpointWriter.recordWritten(events),
        onLost: (range) => integrity.checkpointWriter.recordLost(range),
        onLoopHeld: metrics.writerLoopHeld,
      },
    }),
    (t) => t.close(),
  );
  metrics.watchWriter(() => trail.writer.stats());
  // Admin API and dashboard: admin actions go through the pipeline into this instance's chain.
  const adminTokenPath = join(paths.dir, 'admin.token');
  const adminToken = ensureAdminToken({ path: adminTokenPath, configured: config.admin_token });
  const adminConsole = createAdminConsole({
    search,
    token: adminToken.token,
    store,
    keys: tables.keys,
    rollups: tables.rollups,
    alerts: tables.alerts,
    checkpoints,
    verifiers: () => integrity.verifiers(),
    record: (event) => void trail.pipeline.recordEvent(event),
    clock,
    trustProxy: config.trust_proxy,
    anchors: { file: paths.anchorFile, maxAgeMs: config.checkpoints.max_age_ms },
  });
  life.defer('admin console', () => adminConsole.close());
  if (config.checkpoints.self_check_ms !== null) {
    // The periodic self-check: an incremental verify (docs/integrity.md "Incremental verify").
    adminConsole.integrity.startSelfCheck(config.checkpoints.self_check_ms, (r) => {
      if (r instanceof Error) log.error({ err: r.name }, 'integrity self-check could not run');
      else if (!r.report.ok)
        log.error(
          { damage_count: r.report.damage_count, first_damage: r.report.first_damage },
          'integrity self-check: the audit trail is damaged (run tollgate verify)',
        );
      else
        log.info(
          { events_checked: r.report.events_checked, duration_ms: r.report.duration_ms },
          'integrity self-check: intact',
        );
    });
    life.defer('integrity self-check', () => adminConsole.integrity.stopSelfCheck());
  }
  const providers = routerFromConfig(config, {
    policy: upstreamPolicyFromConfig(config),
    clock,
    readKeys: (sources) => {
      const ring = loadProviderKeys(sources);
      return new Map(ring.providers().map((p) => [p, ring.keyFor(p)]));
    },
    managedKey,
    fingerprint: (key) => keyFingerprint(secret, key),
  });
  const router = life.own('provider router', providers.router, (r) => r.close());
  const gateway = life.own(
    'gateway server',
    new Gateway({
      ...quotaTracking(config, { clock, raise: alerting.raise, metrics }),
      config: {
        instanceId,
        provider: providers.name,
        bodyLimitBytes: config.body_limit_bytes,
        responseCaptureLimitBytes: 8 * 1024 * 1024,
        totalTimeoutMs: config.timeouts.total_ms,
        policy: config.failure_policy,
        trustProxy: config.trust_proxy,
      },
      pipeline: trail.pipeline,
      router,
      clock,
      policy,
      routes: [
        metrics.route,
        ...(o.routes ?? []),
        createAdminApi(adminConsole, gatewayLog),
        createDashboard(adminConsole, gatewayLog),
        // SDK instances ship their events here (HttpEventSink); they keep their own chains.
        createIngestRoute({
          store,
          token: adminToken.token,
          // Ingested events are already hashed: detectors see copies, so alerts fire but stored rows stay as sent.
          onIngested: (events) =>
            events.forEach((e) => detection.observe({ ...e, threat_indicators: [...e.threat_indicators] })),
        }),
      ],
      log: gatewayLog,
    }),
    (g) => g.close(),
  );
  // The trail replayed what an earlier run spooled before reading the chain head; what was
  // spooled since (nothing, unless the store failed meanwhile) goes now, before traffic.
  await trail.writer.replaySpool();
  integrity.checkpointWriter.start();
  const retention = gatewayRetention(
    config,
    { store, checkpoints, integrity, trail, clock, instanceId, log },
    life,
  );
  const url = await gateway.listen(config.port, config.host);
  return {
    gateway,
    pipeline: trail.pipeline,
    writer: trail.writer,
    router,
    url,
    config,
    instanceId,
    store,
    catalog,
    rollups: tables.rollups,
    alerts: tables.alerts,
    keys: tables.keys,
    dispatcher: alerting.dispatcher,
    flushAlerts: () => {
      trail.pipeline.buildPending();
      return alerting.flush();
    },
    detection,
    checkpoints,
    checkpointWriter: integrity.checkpointWriter,
    signingKey: integrity.signingKey,
    createdSecret: created,
    retention,
    metrics,
    admin: { token: adminToken, path: adminTokenPath, console: adminConsole },
    close: () => life.close(),
  };
}

/**
 * The worker thread the writer commits through on a SQLite file (`writer.thread`, opt-in), so
 * no batch's write or commit runs on the event loop; none for PostgreSQL (its driver already
 * waits off the loop), an in-memory store, or a store wrapped by the caller (tests decorate the
 * writer's store and must see its appends). Closed after the trail (the writer drains into it).
 * A store that cannot be written at start fails only this first (empty) batch, ignored: the
 * writer then finds the store down on its own first batch, as without the thread.
 */
async function appendThread(
  config: TollgateConfig,
  store: EventStore,
  wrapped: boolean,
  life: Lifetime,
): Promise<SqliteAppendThread | undefined> {
  const file = store.sqliteFile?.() ?? null;
  if (!config.writer.thread || wrapped || file === null) return undefined;
  const thread = life.own(
    'append thread',
    new SqliteAppendThread(file, () => store.probeWrite?.() ?? Promise.resolve()),
    (t) => t.close(),
  );
  // Started now, before traffic: events wait in memory while a worker starts (a kill then loses
  // them; the crash test saw the fail-open tail grow by the worker's start when it came first).
  await thread.append([]).catch(() => undefined);
  return thread;
}

/**
 * WAL checkpoints from a worker thread (sqlite-checkpoint-thread.ts), for the gateway's own SQLite
 * connection when it commits the events (not with the append thread, whose connection checkpoints
 * off the event loop already).
 */
function checkpointThread(
  config: TollgateConfig,
  store: EventStore,
  life: Lifetime,
  onError: (err: unknown) => void,
): void {
  if (!config.writer.checkpoint_thread || !(store instanceof SqliteEventStore) || store.sqliteFile() === null)
    return;
  const thread = life.own('WAL checkpoint thread', new SqliteCheckpointThread(store.db, { onError }), (t) =>
    t.close(),
  );
  store.onCommitted(() => thread.committed());
}

/**
 * Provider quota in view: every upstream answer's rate-limit headers update the `/metrics` gauges
 * and raise `provider.quota-low` when a key's remaining share falls below
 * `detection.provider.quota-low.share` (default 10 %), before the 429s (`false` turns it off).
 */
function quotaTracking(
  config: TollgateConfig,
  deps: { clock: Clock; raise: (alert: Alert) => void; metrics: TollgateMetrics },
): { quota?: ProviderQuotaTracker } {
  const rule = config.detection['provider.quota-low'];
  if (rule === false) return {};
  return {
    quota: new ProviderQuotaTracker({
      ...(rule?.share === undefined ? {} : { share: rule.share }),
      onLow: (low) => deps.raise(providerQuotaLowAlert(low, deps.clock.now())),
      onReading: (key, provider, kind, r) =>
        deps.metrics.providerQuota(key, provider, kind, r.remaining, r.limit),
    }),
  };
}
