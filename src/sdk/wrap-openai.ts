import type { Auditor } from './auditor.js';
import type { AuditedFetchOptions, FetchFunction } from './audited-fetch.js';
import { auditedClientOptions } from './audited-client-options.js';

/**
 * What `wrapOpenAI` needs of a client: the official `openai` (v5, v6) client's `withOptions`,
 * which returns a new client of the same class (`this`). Structural, so the SDK does not depend
 * on the `openai` package.
 */
export interface OpenAILikeClient {
  withOptions(options: { fetch?: FetchFunction; maxRetries?: number; timeout?: number }): this;
}

/**
 * Returns a copy of `client` (same type) whose every call is audited through `options.auditor`.
 * The copy's retries are off and its timeout sits just above the auditor's total deadline: the
 * auditor's `UpstreamPolicy` owns timeouts and retries, as the gateway's upstream client does, so
 * one logical call is one event with its `retry_count`. The client's own `fetch` is replaced.
 */
export function wrapOpenAI<T extends OpenAILikeClient>(
  client: T,
  options: AuditedFetchOptions | { auditor: Auditor },
): T {
  return client.withOptions(auditedClientOptions(options));
}
