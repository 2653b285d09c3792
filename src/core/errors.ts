/**
 * Every Tollgate error code, in one catalog. `docs/errors.md` carries the same table;
 * `errors.test.ts` keeps the two in step. Messages carry ids and codes, never payloads or keys.
 */
export const ERROR_CATALOG = {
  TG_ERR_CONFIG_INVALID: { http: 500, message: 'configuration is invalid' },
  TG_ERR_USAGE: { http: 400, message: 'bad command-line usage' },
  TG_ERR_DEPENDENCY_MISSING: {
    http: 500,
    message: 'an optional package this feature needs is not installed (detail: package)',
  },
  TG_ERR_REQUEST_BODY_TOO_LARGE: { http: 413, message: 'request body exceeds the configured limit' },
  TG_ERR_REQUEST_INVALID_JSON: { http: 400, message: 'request body is not valid JSON' },
  TG_ERR_REQUEST_INVALID_UTF8: { http: 400, message: 'request body is not valid UTF-8' },
  TG_ERR_REQUEST_INVALID_HEADER: { http: 400, message: 'a request header is invalid' },
  TG_ERR_REQUEST_DUPLICATE_KEY: {
    http: 400,
    message: 'the request body gives a policy-relevant member (model, stream, user) more than once',
  },
  TG_ERR_REQUEST_ABSOLUTE_URI: { http: 400, message: 'absolute-form request targets are refused' },
  TG_ERR_REQUEST_BAD_PATH: {
    http: 400,
    message: 'the request path is refused: broken percent-encoding or a dot segment',
  },
  TG_ERR_ROUTE_NOT_FOUND: { http: 404, message: 'no such route' },
  TG_ERR_UPSTREAM_CONNECT: { http: 502, message: 'could not connect to the upstream' },
  TG_ERR_UPSTREAM_TIMEOUT: { http: 504, message: 'the upstream did not answer in time' },
  TG_ERR_UPSTREAM_IDLE_TIMEOUT: { http: 504, message: 'the upstream stream went idle' },
  TG_ERR_UPSTREAM_STREAM_BROKEN: { http: 502, message: 'the upstream stream ended abnormally' },
  TG_ERR_UPSTREAM_BAD_RESPONSE: { http: 502, message: 'the upstream response could not be read' },
  TG_ERR_UPSTREAM_ERROR: { http: 502, message: 'the upstream answered with an error' },
  TG_ERR_UPSTREAM_QUOTA_EXHAUSTED: {
    http: 429,
    message: 'the provider account is out of credit or past its hard spending limit (not retried)',
  },
  TG_ERR_CLIENT_CANCELLED: { http: 499, message: 'the client went away' },
  TG_ERR_AUDIT_UNAVAILABLE: {
    http: 503,
    message: 'the audit trail cannot be written; request refused (fail-closed)',
  },
  TG_ERR_STORE_WRITE: { http: 500, message: 'the store could not write' },
  TG_ERR_STORE_OPEN: { http: 500, message: 'the store could not be opened' },
  TG_ERR_STORE_WRITE_ONLY: { http: 500, message: 'this event sink only writes; query the store it ships to' },
  TG_ERR_INGEST_INVALID_EVENT: {
    http: 400,
    message: 'an ingested event is malformed or its hash does not match',
  },
  TG_ERR_SPOOL_FULL: { http: 500, message: 'the spool is full' },
  TG_ERR_STATE_UNAVAILABLE: { http: 503, message: 'the shared state (Redis) is unavailable' },
  TG_ERR_STORE_UNAVAILABLE: {
    http: 503,
    message: 'the key store did not answer; request refused, retry shortly',
  },
  TG_ERR_AUTH_MISSING: { http: 401, message: 'no API key was given' },
  TG_ERR_AUTH_INVALID: { http: 401, message: 'the API key is not valid' },
  TG_ERR_AUTH_REVOKED: { http: 401, message: 'the API key was revoked' },
  TG_ERR_AUTH_EXPIRED: { http: 401, message: 'the API key has expired' },
  TG_ERR_AUTH_LOCKED_OUT: { http: 429, message: 'too many failed authentications; try again later' },
  TG_ERR_ADMIN_UNAUTHORIZED: { http: 401, message: 'admin token missing or wrong' },
  TG_ERR_ADMIN_CSRF: {
    http: 403,
    message: 'state-changing admin request without a valid CSRF token or from another origin',
  },
  TG_ERR_ADMIN_BAD_REQUEST: { http: 400, message: 'an admin request parameter is invalid' },
  TG_ERR_ADMIN_NOT_FOUND: { http: 404, message: 'no such event, alert or key' },
  TG_ERR_ADMIN_CONFLICT: { http: 409, message: 'the key is revoked: revocation is final, create a new key' },
  TG_ERR_ADMIN_INTERNAL: { http: 500, message: 'the admin request failed; see the gateway log' },
  TG_ERR_POLICY_MODEL_NOT_ALLOWED: { http: 403, message: 'this key may not use the requested model' },
  TG_ERR_POLICY_RATE_LIMIT: {
    http: 429,
    message: 'a rate limit (requests or tokens per minute, or requests in flight) was reached',
  },
  TG_ERR_POLICY_BUDGET_EXCEEDED: { http: 429, message: 'budget exhausted' },
  TG_ERR_CRYPTO_KEY_MISSING: { http: 500, message: 'the master key for encrypted content is not configured' },
  TG_ERR_CRYPTO_DECRYPT: { http: 500, message: 'content could not be decrypted' },
  TG_ERR_INTEGRITY_BROKEN: { http: 500, message: 'the audit trail failed verification' },
  TG_ERR_INTEGRITY_NOT_CANONICAL: {
    http: 500,
    message: 'an event cannot be put in canonical JSON (RFC 8785)',
  },
  TG_ERR_INTEGRITY_CHAIN_STATE: { http: 500, message: 'the chain cannot continue from the given head' },
  TG_ERR_INTEGRITY_KEY_INVALID: {
    http: 500,
    message: 'the checkpoint signing key or verifier key is invalid or too widely readable',
  },
  TG_ERR_INTEGRITY_NOTE_INVALID: { http: 400, message: 'a signed note or checkpoint is malformed' },
  TG_ERR_INTEGRITY_PROOF_INVALID: { http: 400, message: 'a Merkle proof request or proof is invalid' },
  TG_ERR_INTEGRITY_EVENT_NOT_FOUND: { http: 404, message: 'no chained event with this id' },
  TG_ERR_INTEGRITY_NO_CHECKPOINT: { http: 404, message: 'no signed checkpoint covers this event yet' },
  TG_ERR_INTEGRITY_WITNESS: { http: 502, message: 'a checkpoint witness could not be written' },
  TG_ERR_RETENTION_HELD: {
    http: 409,
    message: 'the data is under a legal hold: it cannot be erased or pruned until the hold is released',
  },
  TG_ERR_RETENTION_BUSY: {
    http: 409,
    message: 'another prune is running on this store; it holds the retention lock until it ends',
  },
  TG_ERR_RETENTION_HOLD_INVALID: { http: 400, message: 'a legal hold needs a scope and a reason' },
  TG_ERR_RETENTION_HOLD_NOT_FOUND: { http: 404, message: 'no legal hold in force with this id' },
} as const satisfies Record<string, { http: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class TollgateError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  /** Non-sensitive context: ids, counts, codes. Never payloads or keys. */
  readonly detail: Record<string, string | number | boolean | null> | undefined;

  constructor(
    code: ErrorCode,
    detail?: Record<string, string | number | boolean | null>,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${ERROR_CATALOG[code].message}`, options);
    this.name = 'TollgateError';
    this.code = code;
    this.httpStatus = ERROR_CATALOG[code].http;
    this.detail = detail;
  }
}

export function isTollgateError(err: unknown): err is TollgateError {
  return err instanceof TollgateError;
}

/**
 * The message of a refusal with its detail (`budget exhausted (budget: key vk_1 (daily); resets_at:
 * 2026-12-07T00:00:00.000Z)`): the catalog message alone when there is none.
 */
export function errorMessage(code: ErrorCode, detail?: Record<string, string>): string {
  const base = ERROR_CATALOG[code].message;
  if (detail === undefined) return base;
  const parts = Object.entries(detail).map(([k, v]) => `${k}: ${v}`);
  return parts.length === 0 ? base : `${base} (${parts.join('; ')})`;
}

/**
 * The OpenAI-shaped error body the gateway answers with for its own refusals; `detail` (ids, names,
 * times; never keys or content) is added to the message and as `error.detail`.
 */
export function errorBody(
  code: ErrorCode,
  requestId: string | null,
  detail?: Record<string, string>,
): string {
  return JSON.stringify({
    error: {
      message: errorMessage(code, detail),
      type: 'tollgate_error',
      code,
      request_id: requestId,
      ...(detail === undefined ? {} : { detail }),
    },
  });
}
