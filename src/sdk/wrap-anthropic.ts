import type { Auditor } from './auditor.js';
import type { AuditedFetchOptions, FetchFunction } from './audited-fetch.js';
import { auditedClientOptions } from './audited-client-options.js';

/**
 * What `wrapAnthropic` needs of a client: the official `@anthropic-ai/sdk` client's `withOptions`,
 * which returns a new client of the same class. Structural, so the SDK does not depend on the
 * package.
 */
export interface AnthropicLikeClient {
  withOptions(options: { fetch?: FetchFunction; maxRetries?: number; timeout?: number }): this;
}

/**
 * Returns a copy of an official Anthropic client (same type) whose every call is audited through
 * `options.auditor`, read through the Anthropic Messages spec (src/providers/anthropic/messages.ts):
 * `messages.create` streamed or not, `messages.stream`, tool use, prompt-caching tokens priced at
 * their rates. As `wrapOpenAI`: the copy's retries are off and its timeout sits just above the
 * auditor's deadline, so the auditor's policy owns both and one call is one event. `api_provider`
 * is `anthropic` unless `options.provider` names another (the auditor's own `provider` default is
 * for OpenAI-compatible calls and does not apply here).
 */
export function wrapAnthropic<T extends AnthropicLikeClient>(
  client: T,
  options: AuditedFetchOptions | { auditor: Auditor },
): T {
  const provider = ('provider' in options ? options.provider : undefined) ?? 'anthropic';
  return client.withOptions(auditedClientOptions({ ...options, provider }));
}
