import { join } from 'node:path';
import type { AuditEvent } from '../core/audit-event.js';
import type { CountryCode } from 'libphonenumber-js/max';
import { systemClock, type Clock } from '../core/clock.js';
import { inferProvider, writerBatchSize, type TollgateConfig } from '../config/config.js';
import { loadOrCreateSecret } from '../config/local-secret.js';
import { createAlertDispatcher, type AlertDispatcher } from '../alerting/alert-dispatcher.js';
import { createAlertHandler } from '../alerting/alert-handler.js';
import { createAlertWriteCoalescer } from '../alerting/alert-write-coalescer.js';
import type { AlertSink } from '../alerting/alert-sink.js';
import type { AlertStore } from '../alerting/alert-store.js';
import { createLogSink } from '../alerting/log-sink.js';
import { createSlackSink } from '../alerting/slack-sink.js';
import { createWebhookSink } from '../alerting/webhook-sink.js';
import { createDetectionEngine, type DetectionEngine } from '../detection/detection-engine.js';
import { createDetectors } from '../detection/default-detectors.js';
import { CheckpointWriter } from '../integrity/checkpoint-writer.js';
import { loadOrCreateSigningKey, readKeyring, type SigningKey } from '../integrity/signing-key.js';
import { ensureAdminToken, type AdminToken } from '../access/admin-token.js';
import { createAdminApi } from '../admin/admin-api.js';
import { createIngestRoute } from '../sdk/ingest-route.js';
import { createAdminConsole, type AdminConsole } from '../admin/admin-console.js';
import { createDashboard } from '../dashboard/dashboard.js';
import { FileWitness, HttpWitness, type Witness } from '../integrity/witness.js';
import { loadPriceCatalog, type PriceCatalog } from '../pricing/catalog.js';
import { createPricer } from '../pricing/pricer.js';
import { estimateUsage } from '../pricing/token-estimate.js';
import { PassthroughPolicy } from '../proxy/passthrough-policy.js';
import type { MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import { createRedactor, type RedactorDeps } from '../redaction/redactor.js';
import { newAlert, type Alert, type AlertChange } from '../alerting/alert.js';
import { BudgetGuard } from '../access/budget-guard.js';
import { MemoryBudgetState } from '../access/budget-state.js';
import { KeyFingerprinter } from '../access/key-fingerprint.js';
import { MemoryLimiterState } from '../access/limiter-state.js';
import { Lockout, type LockoutGuard } from '../access/lockout.js';
import { loadProviderKeys } from '../access/provider-keys.js';
import { RateLimiter } from '../access/rate-limiter.js';
import { ManagedPolicy } from '../proxy/managed-policy.js';
import { withConfigBudgets } from '../proxy/budget-policy.js';
import type { DetectionConfig } from '../detection/default-detectors.js';
import { createContentCipher } from '../privacy/content-cipher.js';
import { loadMasterKey } from '../privacy/master-key.js';
import type { DataKeyStore } from '../privacy/data-key-store.js';
import { TollgateError } from '../core/errors.js';
import type { SqliteDatabase } from '../store/sqlite/open-sqlite.js';
import type { EventStore } from '../store/event-store.js';
import type { CheckpointStore } from '../integrity/checkpoint-store.js';
import { openEventStore } from '../store/open-event-store.js';
import type { BudgetState } from '../access/budget-state.js';
import type { LimiterState } from '../access/limiter-state.js';
import { createSqliteRollups } from '../store/sqlite/sqlite-rollups.js';
import type { RollupReader } from '../store/rollups.js';
import { openStoreTables } from '../store/store-tables.js';
import type { KeyStore } from '../access/key-store.js';
import { upstreamPolicy } from '../upstream/upstream-policy.js';
import { DiskSpool } from '../writer/disk-spool.js';
import { GapJournal } from '../writer/gap-journal.js';
import { SeqReservation } from '../writer/seq-reservation.js';
import { chainStateFiles } from './chain-state-files.js';
import type { WriterStats } from '../writer/event-writer.js';
import { createPrometheusMetrics, type TollgateMetrics } from '../observability/prometheus.js';
import type { OtelConfig } from '../observability/otel.js';
import { createJsonlFileSink } from '../export/jsonl-file-sink.js';
import { createGateway, type TollgateGateway } from './create-gateway.js';
import { loadOrCreateInstanceId } from './instance-id.js';
import type { Logger } from './logger.js';
import { localPaths } from './local-paths.js';

export { localPaths } from './local-paths.js';

export interface RunningTollgate extends TollgateGateway {
  url: string;
  config: TollgateConfig;
  instanceId: string;
  /** SQLite: the events database (rollups, alerts, keys and data keys are tables in it). Null on PostgreSQL. */
  db: SqliteDatabase | null;
  store: EventStore;
  catalog: PriceCatalog;
  /** Cost and usage rollups, from the store (SQLite tables, or PostgreSQL shared by every replica). */
  rollups: RollupReader;
  alerts: AlertStore;
  /** Gateway-issued keys, in the same store as the events. */
  keys: KeyStore;
  dispatcher: AlertDispatcher;
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
}

/**
 * Passthrough (default) or managed mode. Managed mode holds the provider key (file or environment,
 * never the database), checks gateway-issued keys, and enforces their limits and budgets.
 */
function requestPolicy(
  config: TollgateConfig,
  deps: {
    keys: KeyStore;
    secret: Buffer;
    catalog: PriceCatalog;
    clock: Clock;
    raiseAlert: (alert: Alert) => void;
    /** Spend of a key since a time (from the event store, whichever it is). */
    loadSpent: (keyId: string, startMs: number) => Promise<number>;
    /** Shared (Redis) or in-process limiter, budget and lockout state. */
    shared: { limiter: LimiterState; budgets: BudgetState; lockout: LockoutGuard } | null;
  },
): RequestPolicy {
  if (config.mode === 'passthrough') return new PassthroughPolicy(deps.secret);
  const m = config.managed;
  const source = m.provider_key_file
    ? { provider: 'upstream', file: m.provider_key_file }
    : m.provider_key
      ? { provider: 'upstream', value: m.provider_key }
      : null;
  if (!source)
    throw new TollgateError('TG_ERR_CONFIG_INVALID', {
      setting: 'managed.provider_key_file or TOLLGATE_PROVIDER_KEY',
    });
  const providerKey = loadProviderKeys([source]).keyFor('upstream');
  return new ManagedPolicy({
    keys: deps.keys,
    fingerprinter: new KeyFingerprinter(deps.secret),
    limiter: new RateLimiter({ state: deps.shared?.limiter ?? new MemoryLimiterState(), clock: deps.clock }),
    budgets: new BudgetGuard({
      state: deps.shared?.budgets ?? new MemoryBudgetState(),
      clock: deps.clock,
      // Budgets survive restarts: a period's spend is seeded from the stored events once.
      loadSpent: deps.loadSpent,
    }),
    lockout:
      deps.shared?.lockout ??
      new Lockout({
        clock: deps.clock,
        maxFailures: config.lockout.max_failures,
        windowMs: config.lockout.window_ms,
        coolOffMs: config.lockout.cool_off_ms,
      }),
    catalog: deps.catalog,
    clock: deps.clock,
    providerKey,
    onLockout: (subject, untilMs) =>
      deps.raiseAlert(lockoutAlert(subject, untilMs, config.lockout, deps.clock)),
  });
}

/** The alert raised when a lockout starts (evidence: the subject, the threshold and until when; no keys). */
function lockoutAlert(
  subject: string,
  untilMs: number,
  lockout: TollgateConfig['lockout'],
  clock: Clock,
): Alert {
  const isIp = subject.startsWith('ip:');
  const value = subject.slice(isIp ? 3 : 4);
  return newAlert(
    {
      rule_id: 'auth.lockout',
      severity: 'HIGH',
      subject: { kind: isIp ? 'ip' : 'api_key', value },
      title: `Locked out ${isIp ? 'IP' : 'key'} ${value} after repeated authentication failures`,
      description: `Requests from this ${isIp ? 'address' : 'key'} are refused with TG_ERR_AUTH_LOCKED_OUT until ${new Date(untilMs).toISOString()}.`,
      figures: {
        observed: lockout.max_failures,
        baseline: null,
        threshold: lockout.max_failures,
        window_ms: lockout.window_ms,
        unit: 'failures',
      },
    },
    clock.now(),
  );
}

/** The config's budgets feed the `cost.budget` detector (80 % / 100 % and burn-rate alerts). */
function detectionWithBudgets(config: TollgateConfig): DetectionConfig {
  const rule = config.detection['cost.budget'];
  if (config.budgets.length === 0 || rule === false) return config.detection;
  const budgets = config.budgets.map((b) => ({
    scope: b.scope,
    subject: b.subject,
    period: b.period,
    limit_usd: b.limit_usd,
  }));
  return { ...config.detection, 'cost.budget': { ...rule, budgets: [...(rule?.budgets ?? []), ...budgets] } };
}

/** Encrypted mode needs the master key and the per-person data keys (kept in the same store as the events). */
async function redactorDeps(
  config: TollgateConfig,
  dataKeys: () => Promise<DataKeyStore>,
  clock: Clock,
): Promise<RedactorDeps> {
  const c = config.content;
  const source = c.master_key_file
    ? { file: c.master_key_file }
    : c.master_key
      ? { base64: c.master_key }
      : null;
  if (!source) {
    if (c.mode === 'encrypted')
      throw new TollgateError('TG_ERR_CRYPTO_KEY_MISSING', {
        setting: 'content.master_key_file or TOLLGATE_MASTER_KEY',
      });
    return {};
  }
  const masterKey = loadMasterKey(source);
  return { encryptor: createContentCipher({ masterKey, store: await dataKeys(), clock }) };
}

/** The Redis client and shared-state modules, loaded only when Redis is configured. */
async function loadRedisState() {
  const [connection, limiter, budgets, lockout, health, windows] = await Promise.all([
    import('../state/redis-connection.js'),
    import('../state/redis-limiter-state.js'),
    import('../state/redis-budget-state.js'),
    import('../state/redis-lockout.js'),
    import('../state/shared-state-health.js'),
    import('../state/redis-shared-windows.js'),
  ]);
  return { ...connection, ...limiter, ...budgets, ...lockout, ...health, ...windows };
}

/**
 * Builds and starts a whole Tollgate from configuration: the store, local secrets, the pipeline
 * stages (redaction, pricing, detection, chain), rollups in the write transaction, alerts and
 * their sinks, signed checkpoints, and the gateway. `tollgate serve` and `tollgate demo` both
 * start through here.
 */
export async function startTollgate(o: StartOptions): Promise<RunningTollgate> {
  // What is opened is closed again if a later step fails (a bad managed-mode setting, a port in
  // use): an open pool, Redis socket or server would keep a failed `tollgate serve` from exiting.
  const undo: Array<() => unknown> = [];
  try {
    return await start(o, undo);
  } catch (err) {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
    throw err;
  }
}

async function start(o: StartOptions, undo: Array<() => unknown>): Promise<RunningTollgate> {
  const { config, log } = o;
  const clock = o.clock ?? systemClock;
  const paths = localPaths(config);
  // The store by scheme: a SQLite path, or a PostgreSQL URL shared by N replicas.
  const opened = await openEventStore(config.db, {
    clock,
    onPoolError: () => log.warn('store connection lost'),
  });
  const store = opened.store;
  undo.push(() => store.close());
  // Alerts, keys, data keys and rollups live beside the events: one SQLite file, or the
  // PostgreSQL schema every replica shares (nothing is kept in a per-replica file).
  const instanceId = config.instance_id ?? loadOrCreateInstanceId(paths.instanceId);
  const db = opened.kind === 'sqlite' ? opened.db : null;
  const sqliteRollups = db ? createSqliteRollups(db) : undefined;
  if (opened.kind === 'sqlite')
    opened.store.addInTransactionHook((events) => sqliteRollups!.applyRollups(events));
  const tables = await openStoreTables(opened, {
    alertWriter: instanceId,
    ...(sqliteRollups ? { sqliteRollups } : {}),
  });
  undo.push(() => tables.close());
  const rollups = tables.rollups;
  const loadSpent = (keyId: string, startMs: number): Promise<number> => tables.keySpentSince(keyId, startMs);
  // Rate limits and budgets shared by replicas through Redis when configured; in process otherwise.
  // Redis and OTLP modules load only when configured (ioredis and the OpenTelemetry SDK cost ~20 MB
  // of memory each at import, which a single replica without them should not carry).
  const redisState = config.redis_url ? await loadRedisState() : null;
  const redisAt = redisState && config.redis_url ? redisState.redisKeyPrefix(config.redis_url) : null;
  const redis =
    redisState && redisAt ? redisState.createRedisClient(redisAt.url, { onError: () => undefined }) : null;
  if (redis) undo.push(() => redis.disconnect());
  // Failed shared-state calls raise one alert per outage (wired below, once the alert store exists).
  let onStateUnavailable: (err: TollgateError) => void = () => undefined;
  // The fingerprint secret, shared by every replica, also names the Redis keys (HMAC of IPs and fingerprints).
  const { secret, created } = loadOrCreateSecret(paths.fingerprint);
  const stateOptions = redis
    ? {
        client: redis,
        prefix: redisAt!.prefix,
        keySecret: secret,
        policy: config.redis_failure_policy,
        onUnavailable: (err: TollgateError) => onStateUnavailable(err),
      }
    : null;
  const shared =
    stateOptions && redisState
      ? {
          limiter: new redisState.RedisLimiterState(stateOptions),
          budgets: new redisState.RedisBudgetState(stateOptions),
          lockout: new redisState.RedisLockout({
            ...stateOptions,
            clock,
            maxFailures: config.lockout.max_failures,
            windowMs: config.lockout.window_ms,
            coolOffMs: config.lockout.cool_off_ms,
          }),
          // Detector state of every stateful rule, and alert claims, across replicas.
          windows: new redisState.RedisSharedWindows({ ...stateOptions, clock }),
        }
      : null;
  if (shared) undo.push(() => shared.windows.close());
  // Commands fail fast while disconnected (no offline queue), so connect before taking traffic;
  // a Redis that is down now is left to redis_failure_policy, not a failed start.
  const redisDownAtStart =
    redis !== null && redisState !== null && !(await redisState.waitForRedis(redis, 5000));
  const catalog = loadPriceCatalog({ overridePath: config.prices.override_path });

  // Observability: Prometheus always (its writer stats are read at scrape time, once the gateway
  // exists), OTLP when configured, a rotating JSONL copy for log shippers when configured.
  const statsOf: { writer?: () => WriterStats; checkpointAgeSeconds?: () => number } = {};
  const metrics = createPrometheusMetrics({
    writerStats: () =>
      statsOf.writer?.() ?? {
        enqueued: 0,
        written: 0,
        spooled: 0,
        replayed: 0,
        dropped: 0,
        queueDepth: 0,
        storeErrors: 0,
        storeAvailable: true,
      },
    checkpointAgeSeconds: () => statsOf.checkpointAgeSeconds?.() ?? null,
    maxModels: config.metrics.max_models,
    userLabel: config.metrics.user_label,
  });
  const otel = o.otel
    ? (await import('../observability/otel.js')).createOtelExport({
        upstreamUrl: config.upstream_url,
        instanceId,
        ...o.otel,
        onError: (err) => log.warn({ err }, 'OTLP export failed'),
      })
    : null;
  if (otel) undo.push(() => otel.shutdown());
  const jsonlSink = config.sinks.jsonl.dir
    ? createJsonlFileSink({
        dir: config.sinks.jsonl.dir,
        maxBytes: config.sinks.jsonl.max_bytes,
        maxFiles: config.sinks.jsonl.max_files,
        rotateMs: config.sinks.jsonl.rotate_ms,
        clock,
        onError: (reason, count) => log.error({ reason, count }, 'JSONL sink could not write events'),
      })
    : null;
  if (jsonlSink) undo.push(() => jsonlSink.close());

  // Alerts: stored first, then sent to every sink off the request path.
  const alerts = tables.alerts;
  const sinks: AlertSink[] = [
    createLogSink({ write: (line) => log.warn({ alert: true }, line) }),
    ...(o.alertSinks ?? []),
  ];
  if (config.alerts.webhook_url && config.alerts.webhook_secret) {
    sinks.push(
      createWebhookSink({ url: config.alerts.webhook_url, secret: config.alerts.webhook_secret, clock }),
    );
  }
  if (config.alerts.slack_url) sinks.push(createSlackSink({ url: config.alerts.slack_url }));
  const dispatcher = createAlertDispatcher({
    sinks,
    clock,
    store: alerts,
    onError: () => log.warn('alert delivery status not recorded'),
  });
  // Alerts raised outside the detectors (lockouts, shared state down) are counted like theirs.
  const raiseAlert = (a: Alert, change: AlertChange = 'new'): void => {
    if (change === 'new') metrics.alertRaised(a.rule_id, a.severity);
    createAlertHandler({ store: alerts, dispatcher })(a, change).catch(() =>
      log.warn('alert could not be stored'),
    );
  };
  const stateHealth =
    redis && redisState
      ? redisState.createSharedStateHealth({
          ping: () => redis.ping(),
          clock,
          instanceId,
          policy: config.redis_failure_policy,
          alert: raiseAlert,
          log: (fields, msg) => log.error(fields, msg),
        })
      : null;
  if (stateHealth) {
    onStateUnavailable = (err) => stateHealth.onUnavailable(err);
    undo.push(() => stateHealth.close());
  }
  if (stateHealth && redisDownAtStart && redisState)
    stateHealth.onUnavailable(redisState.stateUnavailable('connect', null));
  const alertWrites = createAlertWriteCoalescer({
    write: createAlertHandler({ store: alerts, dispatcher }),
    clock,
    onError: () => log.warn('alert could not be stored'),
  });
  const detection = createDetectionEngine({
    detectors: createDetectors(detectionWithBudgets(config), shared?.windows),
    clock,
    ...(shared ? { incidentClaims: shared.windows } : {}),
    onAlert: (alert, change) => {
      if (change === 'new') metrics.alertRaised(alert.rule_id, alert.severity);
      alertWrites.onAlert(alert, change);
    },
    onError: (_err, where) => log.warn({ where }, 'detector error'),
  });
  const sweep = setInterval(() => detection.sweep(), 60_000);
  sweep.unref();
  undo.push(() => clearInterval(sweep));

  // Signed checkpoints over this instance's chain.
  const signingKey = loadOrCreateSigningKey({ path: paths.signingKey, name: `tollgate-${instanceId}` });
  const checkpoints = opened.checkpoints;
  const witnesses: Witness[] = [];
  if (config.checkpoints.witness_file) witnesses.push(new FileWitness(config.checkpoints.witness_file));
  if (config.checkpoints.witness_url) witnesses.push(new HttpWitness(config.checkpoints.witness_url));
  const checkpointWriter = await CheckpointWriter.resume(
    {
      chainId: instanceId,
      key: signingKey,
      store: checkpoints,
      clock,
      everyEvents: config.checkpoints.every_events,
      everyMs: config.checkpoints.every_ms,
      witnesses,
      onError: () => log.error({ chain_id: instanceId }, 'checkpoint could not be written'),
    },
    store,
  );
  undo.push(() => checkpointWriter.close());

  // Admin API and dashboard: admin actions go through the pipeline into this instance's chain,
  // which exists once the gateway is built (no request reaches a route before listen()).
  const adminTokenPath = join(paths.dir, 'admin.token');
  const adminToken = ensureAdminToken({ path: adminTokenPath, configured: config.admin_token });
  let recordAdminEvent: (event: AuditEvent) => void = () => undefined;
  const adminConsole = createAdminConsole({
    token: adminToken.token,
    store,
    eventsDb: db,
    keys: tables.keys,
    rollups,
    alerts,
    checkpoints,
    verifiers: () => {
      const ring = readKeyring(paths.signingKey);
      return ring.length > 0 ? ring : [signingKey.verifier()];
    },
    record: (event) => recordAdminEvent(event),
    clock,
    trustProxy: config.trust_proxy,
  });
  const adminLog = (msg: string, fields?: Record<string, unknown>): void => log.warn(fields ?? {}, msg);

  const policy = upstreamPolicy({
    timeouts: {
      connectMs: config.timeouts.connect_ms,
      firstByteMs: config.timeouts.first_byte_ms,
      idleMs: config.timeouts.idle_ms,
      totalMs: config.timeouts.total_ms,
    },
    retry: {
      maxRetries: config.retry.max_retries,
      baseDelayMs: config.retry.base_delay_ms,
      maxDelayMs: config.retry.max_delay_ms,
      maxRetryAfterMs: config.retry.max_retry_after_ms,
    },
  });
  // The seq mark and gap journal are per store too (docs/reliability.md "Crash").
  const stateFiles = chainStateFiles(paths.dir, instanceId, config.db);
  if (stateFiles.legacy.length > 0)
    log.warn(
      { files: stateFiles.legacy },
      'seq mark or gap journal of an earlier version ignored: it does not name its store',
    );
  const tg = await createGateway({
    config: {
      instanceId,
      provider: config.provider ?? inferProvider(config.upstream_url),
      bodyLimitBytes: config.body_limit_bytes,
      responseCaptureLimitBytes: 8 * 1024 * 1024,
      totalTimeoutMs: config.timeouts.total_ms,
      policy: config.failure_policy,
      trustProxy: config.trust_proxy,
    },
    upstreamUrl: config.upstream_url,
    upstreamPolicy: policy,
    store,
    redactor: createRedactor(
      {
        mode: config.content.mode,
        detectors: config.content.detectors,
        // The schema checked the shape; the phone library knows the regions (an unknown one finds no numbers).
        phoneDefaultCountry: config.content.phone_default_country as CountryCode,
        perFeature: config.content.per_feature,
        perKey: config.content.per_key,
      },
      await redactorDeps(
        config,
        () =>
          tables.dataKeys({
            onError: () => log.warn('data keys could not be stored or refreshed (retried)'),
          }),
        clock,
      ),
    ),
    pricer: createPricer(catalog),
    estimateUsage,
    detectors: [detection],
    listeners: [
      metrics.listener,
      ...(otel ? [otel.listener] : []),
      ...(jsonlSink ? [jsonlSink.listener] : []),
      ...(o.listeners ?? []),
    ],
    policy: withConfigBudgets(
      o.policy ??
        requestPolicy(config, { keys: tables.keys, secret, catalog, clock, raiseAlert, loadSpent, shared }),
      {
        budgets: config.budgets,
        state: shared?.budgets ?? new MemoryBudgetState(),
        clock,
        catalog,
        spentSince: (scope, subject, sinceMs) => tables.scopeSpentSince(scope, subject, sinceMs),
      },
    ),
    clock,
    writer: {
      maxQueue: config.writer.max_queue,
      batchSize: writerBatchSize(config),
      flushDelayMs: config.writer.flush_delay_ms,
      spool: new DiskSpool(join(paths.dir, `spool-${instanceId}.jsonl`), config.spool.max_bytes),
      journal: new GapJournal(stateFiles.journal),
      reservation: new SeqReservation({
        path: stateFiles.mark,
        chainId: instanceId,
        onError: () => log.error({ chain_id: instanceId }, 'chain seq mark could not be written'),
      }),
    },
    routes: [
      metrics.route,
      ...(o.routes ?? []),
      createAdminApi(adminConsole, adminLog),
      createDashboard(adminConsole, adminLog),
      // SDK instances ship their events here (HttpEventSink); they keep their own chains.
      createIngestRoute({
        store,
        token: adminToken.token,
        // Ingested events are already hashed: detectors see copies, so alerts fire but stored rows stay as sent.
        onIngested: (events) =>
          events.forEach((e) => detection.observe({ ...e, threat_indicators: [...e.threat_indicators] })),
      }),
    ],
    log: (msg, fields) => log.warn(fields ?? {}, msg),
    onGap: (gap) => log.error({ gap }, 'audit gap: events could not be stored or spooled'), // once per gap, when it closes
    onWritten: (events) => checkpointWriter.recordWritten(events),
    onLost: (range) => checkpointWriter.recordLost(range),
  });
  undo.push(() => tg.close());
  recordAdminEvent = (event) => void tg.pipeline.recordEvent(event);
  statsOf.writer = () => tg.writer.stats();
  statsOf.checkpointAgeSeconds = () =>
    Math.max(0, (clock.now() - checkpointWriter.lastCheckpointAtMs) / 1000);
  // createGateway replayed what an earlier run spooled before reading the chain head; what was
  // spooled since (nothing, unless the store failed meanwhile) goes now, before traffic.
  await tg.writer.replaySpool();
  checkpointWriter.start();
  const url = await tg.gateway.listen(config.port, config.host);
  return {
    ...tg,
    url,
    config,
    instanceId,
    db,
    store,
    catalog,
    rollups,
    alerts,
    keys: tables.keys,
    dispatcher,
    detection,
    checkpoints,
    checkpointWriter,
    signingKey,
    createdSecret: created,
    metrics,
    admin: { token: adminToken, path: adminTokenPath, console: adminConsole },
    async close() {
      clearInterval(sweep);
      await tg.close();
      // The last flush of shared detector windows may raise alerts: before alerts are flushed.
      await shared?.windows.close();
      jsonlSink?.close();
      await otel?.shutdown();
      await checkpointWriter.close();
      await alertWrites.flush();
      await dispatcher.drain();
      await tables.close();
      await store.close();
      stateHealth?.close();
      redis?.disconnect();
    },
  };
}
