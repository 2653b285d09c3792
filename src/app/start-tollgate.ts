import { join } from 'node:path';
import type { AuditEvent } from '../core/audit-event.js';
import { systemClock, type Clock } from '../core/clock.js';
import { dataDir, inferProvider, type TollgateConfig } from '../config/config.js';
import { loadOrCreateSecret } from '../config/local-secret.js';
import { loadPriceCatalog, type PriceCatalog } from '../pricing/catalog.js';
import { createPricer } from '../pricing/pricer.js';
import { estimateUsage } from '../pricing/token-estimate.js';
import { PassthroughPolicy } from '../proxy/passthrough-policy.js';
import type { MountedRoute } from '../proxy/gateway.js';
import type { RequestPolicy } from '../proxy/request-policy.js';
import { createRedactor } from '../redaction/redactor.js';
import type { EventObserver } from '../pipeline/stages.js';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../store/sqlite/sqlite-event-store.js';
import { upstreamPolicy } from '../upstream/upstream-policy.js';
import { DiskSpool } from '../writer/disk-spool.js';
import { createGateway, type TollgateGateway } from './create-gateway.js';
import { loadOrCreateInstanceId } from './instance-id.js';
import type { Logger } from './logger.js';

export interface RunningTollgate extends TollgateGateway {
  url: string;
  config: TollgateConfig;
  instanceId: string;
  db: SqliteDatabase;
  catalog: PriceCatalog;
  /** True when this run created the local fingerprint secret. */
  createdSecret: boolean;
}

export interface StartOptions {
  config: TollgateConfig;
  log: Logger;
  clock?: Clock;
  /** Replaces the passthrough policy (managed mode, tests). */
  policy?: RequestPolicy;
  detectors?: EventObserver[];
  listeners?: Array<(event: AuditEvent) => void>;
  routes?: MountedRoute[];
}

/**
 * Builds and starts a whole Tollgate from configuration: the store, local secrets, the pipeline
 * stages and the gateway. `tollgate serve` and `tollgate demo` both start through here.
 */
export async function startTollgate(o: StartOptions): Promise<RunningTollgate> {
  const { config, log } = o;
  const clock = o.clock ?? systemClock;
  const dir = dataDir(config);
  const db = openSqlite(config.db);
  const store = new SqliteEventStore(db);
  const { secret, created } = loadOrCreateSecret(join(dir, 'fingerprint.key'));
  const instanceId = config.instance_id ?? loadOrCreateInstanceId(join(dir, 'instance-id'));
  const catalog = loadPriceCatalog({ overridePath: config.prices.override_path });
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
    redactor: createRedactor({ mode: config.content.mode, detectors: config.content.detectors }),
    pricer: createPricer(catalog),
    estimateUsage,
    detectors: o.detectors ?? [],
    listeners: o.listeners ?? [],
    policy: o.policy ?? new PassthroughPolicy(secret),
    clock,
    writer: {
      maxQueue: config.writer.max_queue,
      batchSize: config.writer.batch_size,
      flushDelayMs: config.writer.flush_delay_ms,
      spool: new DiskSpool(join(dir, `spool-${instanceId}.jsonl`), config.spool.max_bytes),
    },
    routes: o.routes ?? [],
    log: (msg, fields) => log.warn(fields ?? {}, msg),
    onGap: (gap) => log.error({ gap }, 'audit gap: events could not be stored or spooled'),
  });
  // Replay what an earlier run spooled before taking traffic.
  await tg.writer.replaySpool();
  const url = await tg.gateway.listen(config.port, config.host);
  return {
    ...tg,
    url,
    config,
    instanceId,
    db,
    catalog,
    createdSecret: created,
    async close() {
      await tg.close();
      await store.close();
    },
  };
}
