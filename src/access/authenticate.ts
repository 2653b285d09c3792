/**
 * Managed-mode authentication of one request against the gateway's own (virtual) keys.
 * Decides; does not respond or record: the gateway copies `fields` into the audit event and,
 * when `ok` is false, answers with `errorCode` without calling the provider.
 */
import type { AuditEvent, EventStatus } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { ERROR_CATALOG, type ErrorCode } from '../core/errors.js';
import type { KeyFingerprinter } from './key-fingerprint.js';
import { keyPrefix } from './key-prefix.js';
import type { KeyStore } from './key-store.js';
import { hashVirtualKey, isModelAllowed, type VirtualKeyRecord } from './virtual-keys.js';

/** Node's `IncomingHttpHeaders` (lower-case names) or a WHATWG `Headers`. */
export type HeaderSource =
  Record<string, string | string[] | undefined> | { get(name: string): string | null };

/**
 * How the key was presented: `bearer` (OpenAI style), `x-api-key` (Anthropic), `x-goog-api-key`
 * (Gemini), `api-key` (Azure OpenAI) — the key headers of src/providers/presets.ts — or
 * `query-key`: Gemini's `?key=` query parameter.
 */
export type AuthMethod =
  'bearer' | 'x-api-key' | 'x-goog-api-key' | 'api-key' | 'query-key' | 'none' | 'unsupported';

/** The non-bearer key headers, in the order they are looked at. */
const KEY_HEADERS = ['x-api-key', 'x-goog-api-key', 'api-key'] as const;

/** The auth fields of the audit event, ready to assign. */
export type AuthEventFields = Pick<
  AuditEvent,
  'auth_method' | 'auth_result' | 'api_key_id' | 'api_key_prefix' | 'virtual_key_id'
>;

export type AuthDecision =
  | { ok: true; key: VirtualKeyRecord; fields: AuthEventFields }
  | {
      ok: false;
      /** The key record when one matched (revoked, expired, model not allowed), else null. */
      key: VirtualKeyRecord | null;
      fields: AuthEventFields;
      /** Event status: AUTH_FAILED for a refused credential, BLOCKED for a policy refusal. */
      status: Extract<EventStatus, 'AUTH_FAILED' | 'BLOCKED'>;
      errorCode: ErrorCode;
      httpStatus: number;
    };

function header(headers: HeaderSource, name: string): string | null {
  if (typeof headers.get === 'function') return (headers as { get(n: string): string | null }).get(name);
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

/**
 * The `key` query parameter of a request target's query (`?alt=sse&key=…`, Gemini's other way to
 * send its key), or null. `query` is the part from `?` on, or the whole target.
 */
export function queryApiKey(query: string | null | undefined): string | null {
  if (!query) return null;
  const q = query.indexOf('?');
  if (q < 0) return null;
  const value = new URLSearchParams(query.slice(q + 1)).get('key')?.trim() ?? '';
  return value === '' ? null : value;
}

/**
 * The request target without its `key` query parameter (the rest of the query kept as sent), so
 * a key presented there goes nowhere the gateway did not choose (managed mode sends its own key).
 */
export function withoutQueryApiKey(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const kept = target
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const name = pair.split('=', 1)[0]!;
      try {
        return decodeURIComponent(name.replace(/\+/g, ' ')) !== 'key';
      } catch {
        return true;
      }
    });
  return kept.length ? `${target.slice(0, q)}?${kept.join('&')}` : target.slice(0, q);
}

/**
 * The credential a client presented. `Authorization: Bearer <key>` wins over the other key headers,
 * and a header over Gemini's `?key=` query parameter (`query`: the request target or its query).
 * The scheme is case-insensitive (RFC 9110 §11.1); another scheme (Basic, …) is `unsupported`.
 * Passthrough mode uses this too, to fingerprint the client's provider key.
 */
export function extractApiKey(
  headers: HeaderSource,
  query?: string | null,
): { method: AuthMethod; key: string | null } {
  const authorization = header(headers, 'authorization');
  if (authorization !== null && authorization.trim() !== '') {
    const m = /^\s*bearer\s+(\S*)\s*$/i.exec(authorization);
    if (m === null) return { method: 'unsupported', key: null };
    const key = m[1] ?? '';
    return key === '' ? { method: 'none', key: null } : { method: 'bearer', key };
  }
  for (const name of KEY_HEADERS) {
    const value = header(headers, name)?.trim() ?? '';
    if (value !== '') return { method: name, key: value };
  }
  const fromQuery = queryApiKey(query);
  if (fromQuery !== null) return { method: 'query-key', key: fromQuery };
  return { method: 'none', key: null };
}

function refuse(
  code: ErrorCode,
  status: 'AUTH_FAILED' | 'BLOCKED',
  fields: AuthEventFields,
  key: VirtualKeyRecord | null,
): AuthDecision {
  return { ok: false, key, fields, status, errorCode: code, httpStatus: ERROR_CATALOG[code].http };
}

/**
 * Checks the presented virtual key: missing → MISSING; unknown (or an unsupported scheme) →
 * FAILED; revoked → REVOKED; past `expiresAt` → EXPIRED; model not on the allow-list → BLOCKED
 * (`auth_result` stays SUCCESS: the key is good, the policy refused). On success the key's last
 * use is recorded. `fingerprinter` computes the `api_key_id` (HMAC with the local secret).
 */
export async function authenticateRequest(
  headers: HeaderSource,
  keyStore: KeyStore,
  clock: Clock,
  requestedModel: string | null,
  fingerprinter: KeyFingerprinter,
  query?: string | null,
): Promise<AuthDecision> {
  const { method, key: raw } = extractApiKey(headers, query);
  if (raw === null) {
    const fields: AuthEventFields = {
      auth_method: method,
      auth_result: method === 'unsupported' ? 'FAILED' : 'MISSING',
      api_key_id: null,
      api_key_prefix: null,
      virtual_key_id: null,
    };
    return method === 'unsupported'
      ? refuse('TG_ERR_AUTH_INVALID', 'AUTH_FAILED', fields, null)
      : refuse('TG_ERR_AUTH_MISSING', 'AUTH_FAILED', fields, null);
  }

  const keyHash = hashVirtualKey(raw);
  const fields: AuthEventFields = {
    auth_method: method,
    auth_result: 'FAILED',
    api_key_id: fingerprinter.fingerprint(raw, keyHash),
    api_key_prefix: keyPrefix(raw),
    virtual_key_id: null,
  };
  const record = await keyStore.findByHash(keyHash);
  if (record === null) return refuse('TG_ERR_AUTH_INVALID', 'AUTH_FAILED', fields, null);

  fields.virtual_key_id = record.id;
  const now = clock.now();
  if (record.revokedAt !== null && record.revokedAt <= now) {
    fields.auth_result = 'REVOKED';
    return refuse('TG_ERR_AUTH_REVOKED', 'AUTH_FAILED', fields, record);
  }
  if (record.expiresAt !== null && record.expiresAt <= now) {
    fields.auth_result = 'EXPIRED';
    return refuse('TG_ERR_AUTH_EXPIRED', 'AUTH_FAILED', fields, record);
  }
  fields.auth_result = 'SUCCESS';
  if (!isModelAllowed(record, requestedModel)) {
    return refuse('TG_ERR_POLICY_MODEL_NOT_ALLOWED', 'BLOCKED', fields, record);
  }
  await keyStore.touch(record.id, now);
  return { ok: true, key: record, fields };
}
