import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/core/clock.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { createGateway, type TollgateGateway } from '../../src/app/create-gateway.js';
import { MockProvider, type MockProviderOptions } from '../../src/mock-provider/mock-provider.js';
import type { Redactor } from '../../src/core/stages.js';
import type { RequestPolicy } from '../../src/proxy/request-policy.js';
import { PassthroughPolicy } from '../../src/proxy/passthrough-policy.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { upstreamPolicy, type UpstreamPolicy } from '../../src/upstream/upstream-policy.js';
import { createPricer } from '../../src/pricing/pricer.js';
import { loadPriceCatalog } from '../../src/pricing/catalog.js';
import { estimateUsage } from '../../src/pricing/token-estimate.js';
import { DiskSpool } from '../../src/writer/disk-spool.js';
import type { GatewayConfig, MountedRoute } from '../../src/proxy/gateway.js';
import type { EventStore } from '../../src/store/event-store.js';
import type { ProviderRouteConfig } from '../../src/providers/provider-router.js';

/** Stores content as sent (the `full` content mode); for tests that check capture, not redaction. */
export class FullContentRedactor implements Redactor {
  apply(event: AuditEvent, raw: { prompt: string | null; response: string | null }): void {
    event.content_mode = 'full';
    event.prompt = raw.prompt;
    event.response = raw.response;
  }
}

export interface Harness {
  mock: MockProvider;
  tg: TollgateGateway;
  store: SqliteEventStore;
  /** The gateway's OpenAI-compatible base URL (`…/v1`). */
  baseURL: string;
  dir: string;
  /** Waits until the writer stored everything queued, then returns all events oldest first. */
  events(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  mock?: MockProviderOptions;
  gateway?: Partial<GatewayConfig>;
  upstream?: Parameters<typeof upstreamPolicy>[0];
  redactor?: Redactor;
  policy?: RequestPolicy;
  clock?: Clock;
  spool?: boolean;
  store?: SqliteEventStore;
  /** Wraps the store the gateway writes to (outage tests); `Harness.store` stays the real one. */
  wrapStore?: (store: EventStore) => EventStore;
  /** Told about every finished event (metrics, OTLP, sinks). */
  listeners?: Array<(event: AuditEvent) => void>;
  /** Routes mounted beside `/v1` (e.g. `/metrics`). */
  routes?: MountedRoute[];
  /** Another upstream than the harness's mock (a hand-written server for protocol edge cases). */
  upstreamUrl?: string;
  /** Several providers behind the gateway (replaces the one upstream). */
  providers?: ProviderRouteConfig[];
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const mock = new MockProvider({ ...o.mock });
  const mockUrl = await mock.listen();
  const upstreamUrl = o.upstreamUrl ?? mockUrl;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-test-'));
  const store = o.store ?? new SqliteEventStore(openSqlite(join(dir, 'tollgate.db')));
  const policy: UpstreamPolicy = upstreamPolicy({
    timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 1000, totalMs: 5000, ...o.upstream?.timeouts },
    retry: { baseDelayMs: 10, maxDelayMs: 50, ...o.upstream?.retry },
  });
  const tg = await createGateway({
    config: {
      instanceId: 'test-instance',
      provider: 'openai',
      bodyLimitBytes: 1024 * 1024,
      responseCaptureLimitBytes: 4 * 1024 * 1024,
      totalTimeoutMs: policy.timeouts.totalMs,
      policy: 'fail-open',
      trustProxy: false,
      ...o.gateway,
    },
    upstreamUrl,
    ...(o.providers ? { providers: o.providers } : {}),
    upstreamPolicy: policy,
    store: o.wrapStore ? o.wrapStore(store) : store,
    redactor: o.redactor ?? new FullContentRedactor(),
    pricer: createPricer(loadPriceCatalog()),
    estimateUsage,
    policy: o.policy ?? new PassthroughPolicy(Buffer.from('test-fingerprint-secret')),
    clock: o.clock ?? systemClock,
    writer: {
      maxQueue: 10_000,
      batchSize: 256,
      ...(o.spool ? { spool: new DiskSpool(join(dir, 'spool.jsonl'), 1024 * 1024) } : {}),
    },
    listeners: o.listeners ?? [],
    routes: o.routes ?? [],
  });
  const origin = await tg.gateway.listen(0, '127.0.0.1');
  return {
    mock,
    tg,
    store,
    baseURL: `${origin}/v1`,
    dir,
    async events() {
      await tg.writer.drain();
      return store.query({ order: 'asc' });
    },
    async close() {
      await tg.close();
      await mock.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `fn` returns a truthy value (events are written off the request path). */
export async function eventually<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
