import OpenAI from 'openai';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { loadPriceCatalog } from '../../src/pricing/catalog.js';
import { createPricer } from '../../src/pricing/pricer.js';
import { estimateUsage } from '../../src/pricing/token-estimate.js';
import { createAuditor, wrapOpenAI, type Auditor, type AuditorOptions } from '../../src/sdk/index.js';
import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { FullContentRedactor, type HarnessOptions } from '../support/gateway-harness.js';

export const KEY = 'sk-proj-testkey0123456789abcdefghijklmnopqrstuvwxyzABCD';

/**
 * An auditor configured as the gateway harness configures its gateway (same redactor, pricer,
 * estimator, fingerprint secret, provider name and upstream policy), so their events can be compared.
 */
export async function harnessLikeAuditor(
  o: { upstream?: HarnessOptions['upstream']; store?: AuditorOptions['store'] } & Partial<
    Omit<AuditorOptions, 'upstream' | 'store'>
  > = {},
): Promise<Auditor> {
  const { upstream, store, ...rest } = o;
  return createAuditor({
    store: store ?? new MemoryEventStore(),
    redactor: new FullContentRedactor(),
    pricer: createPricer(loadPriceCatalog()),
    estimateUsage,
    fingerprintSecret: Buffer.from('test-fingerprint-secret'),
    provider: 'openai',
    upstream: {
      timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 1000, totalMs: 5000, ...upstream?.timeouts },
      retry: { baseDelayMs: 10, maxDelayMs: 50, ...upstream?.retry },
    },
    ...rest,
  });
}

/** An official openai client audited by `auditor`, calling `baseURL` directly. */
export function sdkClient(auditor: Auditor, baseURL: string, apiKey = KEY): OpenAI {
  return wrapOpenAI(new OpenAI({ apiKey, baseURL }), { auditor });
}

/** Every event of the auditor's store, oldest first, once the writer is drained. */
export async function sdkEvents(auditor: Auditor): Promise<AuditEvent[]> {
  await auditor.flush();
  return auditor.store.query({ order: 'asc' });
}

/**
 * The fields that legitimately differ between a gateway event and an SDK event of the same
 * exchange: origin, timing, and ids and chain position.
 */
export const ORIGIN_TIMING_AND_IDS = [
  'source',
  'instance_id',
  'ip_address',
  'user_agent',
  'id',
  'timestamp',
  'request_id',
  'trace_id',
  'span_id',
  'chain_id',
  'seq',
  'prev_hash',
  'hash',
  'latency_ms',
  'time_to_first_token_ms',
  'queue_time_ms',
  'upstream_latency_ms',
] as const;

/** The event without the given fields. */
export function without(e: AuditEvent, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...e };
  for (const f of fields) delete out[f];
  return out;
}
