import type { Auditor } from './auditor.js';
import { createAuditedFetch, type AuditedFetchOptions, type FetchFunction } from './audited-fetch.js';

/** Grace on top of the total deadline, so the auditor's own deadline (a TIMEOUT event) fires first. */
const CLIENT_TIMEOUT_GRACE_MS = 1_000;

/**
 * The options an official provider client (openai, @anthropic-ai/sdk) is copied with by its
 * `withOptions`: the audited fetch, its own retries off, its timeout just above the auditor's total
 * deadline. The auditor's `UpstreamPolicy` owns timeouts and retries, as the gateway's upstream
 * client does, so one logical call is one event with its `retry_count`.
 */
export function auditedClientOptions(options: AuditedFetchOptions | { auditor: Auditor }): {
  fetch: FetchFunction;
  maxRetries: number;
  timeout: number;
} {
  return {
    fetch: createAuditedFetch(options),
    maxRetries: 0,
    timeout: options.auditor.policy.timeouts.totalMs + CLIENT_TIMEOUT_GRACE_MS,
  };
}
