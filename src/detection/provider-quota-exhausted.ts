import type { AlertSubject } from '../alerting/alert.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { Detector } from './detector.js';

/**
 * The provider key behind an event: in managed mode the one Tollgate holds (named by provider,
 * since every gateway key shares it), in passthrough the client's own (its fingerprint).
 */
export function providerKeySubject(event: AuditEvent): AlertSubject {
  if (event.virtual_key_id === null && event.api_key_id !== null)
    return { kind: 'api_key', value: event.api_key_id };
  return { kind: 'api_key', value: `provider:${event.api_provider ?? 'upstream'}` };
}

/**
 * `provider.quota-exhausted`: the provider said the account is out of credit or past its hard
 * spending limit (TG_ERR_UPSTREAM_QUOTA_EXHAUSTED, src/upstream/quota-exhausted.ts). Every request
 * on that key fails until someone pays or raises the limit, so it is CRITICAL at the first one.
 */
export function createQuotaExhaustedDetector(): Detector {
  return {
    id: 'provider.quota-exhausted',
    severity: 'CRITICAL',
    description:
      'The provider refused a request because the account is out of credit or past its hard spending limit (not retried).',
    observe(event: AuditEvent) {
      if (event.error_code !== 'TG_ERR_UPSTREAM_QUOTA_EXHAUSTED') return null;
      const subject = providerKeySubject(event);
      return {
        subject,
        title: `Provider quota exhausted: ${event.api_provider ?? 'upstream'} (${subject.value})`,
        description: `The provider answered ${event.http_status_code ?? '?'}: the account is out of credit or past its hard limit. Requests on this key fail until it is topped up.`,
        figures: { observed: 1, baseline: null, threshold: 1, window_ms: 0, unit: 'requests' },
      };
    },
    sweep: () => 0,
  };
}
