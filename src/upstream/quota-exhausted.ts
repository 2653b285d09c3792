/**
 * Provider answers that say the account is out of credit or over a hard spending limit, as
 * opposed to a rate limit: retrying them only adds load and delay (the balance will not come back
 * in a second), so they are not retried, get their own event `error_code`
 * (TG_ERR_UPSTREAM_QUOTA_EXHAUSTED) and raise the `provider.quota-exhausted` alert.
 *
 * Sources: OpenAI error codes (`insufficient_quota` on 429, `billing_hard_limit_reached`,
 * `billing_not_active`); Anthropic (`billing_error`, and the 400 "Your credit balance is too low");
 * Gemini (`BILLING_DISABLED` in `error.details[].reason`, and a 429 RESOURCE_EXHAUSTED whose
 * QuotaFailure names a per-day quota — per-minute ones are rate limits and stay retryable).
 */

const OPENAI_CODES = new Set([
  'insufficient_quota',
  'billing_hard_limit_reached',
  'billing_not_active',
  'access_terminated',
]);

/** Largest error body read to classify it (provider error bodies are a few hundred bytes). */
export const QUOTA_BODY_LIMIT = 64 * 1024;

interface ProviderError {
  code?: unknown;
  type?: unknown;
  status?: unknown;
  message?: unknown;
  details?: unknown;
}

function errorOf(body: unknown): ProviderError | null {
  if (body === null || typeof body !== 'object') return null;
  const b = body as { error?: unknown; type?: unknown };
  // Anthropic: {"type":"error","error":{"type":"billing_error",…}}; OpenAI and Gemini: {"error":{…}}.
  const e = b.error;
  return e !== null && typeof e === 'object' ? e : null;
}

/** Whether any detail of a Gemini error is a billing stop or a per-day quota. */
function geminiExhausted(details: unknown): string | null {
  if (!Array.isArray(details)) return null;
  for (const d of details as Array<Record<string, unknown>>) {
    if (d?.reason === 'BILLING_DISABLED') return 'BILLING_DISABLED';
    const violations = d?.violations;
    if (Array.isArray(violations)) {
      for (const v of violations as Array<Record<string, unknown>>) {
        const id = typeof v?.quotaId === 'string' ? v.quotaId : '';
        if (/PerDay/i.test(id)) return 'RESOURCE_EXHAUSTED';
      }
    }
  }
  return null;
}

/**
 * The provider's own name for an exhausted quota or credit in this error body (already parsed
 * JSON), or null when the body says something else (a rate limit, a bad request).
 */
export function quotaExhaustedReason(body: unknown): string | null {
  const e = errorOf(body);
  if (e === null) return null;
  for (const v of [e.code, e.type]) if (typeof v === 'string' && OPENAI_CODES.has(v)) return v;
  if (e.type === 'billing_error') return 'billing_error';
  if (typeof e.message === 'string' && /credit balance is too low/i.test(e.message))
    return 'credit_balance_too_low';
  return geminiExhausted(e.details);
}

/** {@link quotaExhaustedReason} of a body's text; null for text that is not JSON. */
export function quotaExhaustedInText(text: string): string | null {
  try {
    return quotaExhaustedReason(JSON.parse(text));
  } catch {
    return null;
  }
}
