/**
 * Gateway-issued ("virtual") keys: what applications and people present to Tollgate in managed
 * mode instead of the provider key.
 *
 * Format: `tg-` followed by 43 base62 characters (43 × log2 62 ≈ 256 bits of entropy).
 * Only SHA-256(key) is stored, plus a display prefix of 8 characters (`tg-` and 5 random ones).
 *
 * Why a fast hash and not a slow KDF (scrypt, argon2): slow KDFs exist to make guessing
 * low-entropy passwords expensive. A 256-bit random key cannot be guessed however fast the hash
 * is, so stretching buys nothing, while it would add milliseconds of CPU to every request and
 * turn the key check into a denial-of-service lever. (Same reasoning as GitHub's and Stripe's
 * API tokens; see also NIST SP 800-63B §5.1.1.2, which asks for salting/stretching only for
 * memorized secrets.)
 */
import { hash as oneShotHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import type { KeyStore } from './key-store.js';
import { randomBase62 } from './random-token.js';

/** Every virtual key starts with this, so it is recognisable in logs, scanners and the doctor. */
export const VIRTUAL_KEY_PREFIX = 'tg-';
/** Random characters after the prefix. */
export const VIRTUAL_KEY_RANDOM_LENGTH = 43;
/** Characters of the key shown in listings and events (prefix included). */
export const VIRTUAL_KEY_DISPLAY_LENGTH = 8;

const VIRTUAL_KEY_PATTERN = /^tg-[0-9A-Za-z]{43}$/;

export type BudgetPeriod = 'day' | 'month';

/** What is stored about a virtual key. Times are epoch milliseconds; money is integer micro-USD. */
export interface VirtualKeyRecord {
  id: string;
  name: string;
  /** SHA-256 of the full key, lowercase hex. */
  keyHash: string;
  /** The first 8 characters of the key, for display (`tg-AbCd1`). */
  displayPrefix: string;
  user: string | null;
  team: string | null;
  /** Exact model names this key may use, or `'*'` for any. No globs: an allow-list should be read at a glance. */
  allowedModels: readonly string[] | '*';
  /** Requests per minute; null = unlimited. */
  rpm: number | null;
  /** Tokens (input + output) per minute; null = unlimited. */
  tpm: number | null;
  /** Requests in flight at once; null = unlimited. */
  concurrent: number | null;
  /**
   * False (default): the key's user and team win over `x-tollgate-user` / `-team` headers. True:
   * a header wins where it is sent (a shared service key attributing traffic to its callers).
   */
  allowAttributionOverride: boolean;
  /** Spend limit per period, integer micro-USD; null = no budget. */
  budgetMicroUsd: number | null;
  budgetPeriod: BudgetPeriod | null;
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** What `tollgate keys create` (or `POST /admin/keys`) asks for. */
export interface CreateKeyInput {
  name: string;
  user?: string | null;
  team?: string | null;
  allowedModels?: readonly string[] | '*';
  rpm?: number | null;
  tpm?: number | null;
  concurrent?: number | null;
  allowAttributionOverride?: boolean;
  budgetMicroUsd?: number | null;
  budgetPeriod?: BudgetPeriod | null;
  expiresAt?: number | null;
}

/** The plaintext key (shown once, never stored) and the stored record. */
export interface CreatedKey {
  key: string;
  record: VirtualKeyRecord;
}

/** SHA-256 of a presented key, lowercase hex: the lookup key of the key store. */
export function hashVirtualKey(key: string): string {
  // One-shot: every gateway request hashes its key (passthrough fingerprint cache, key lookup);
  // createHash().update().digest() cost ~2.2 µs, this ~0.8 µs.
  return oneShotHash('sha256', key, 'hex');
}

/** True when the string has the shape of a virtual key (says nothing about validity). */
export function looksLikeVirtualKey(key: string): boolean {
  return VIRTUAL_KEY_PATTERN.test(key);
}

/** A fresh key in the documented format. */
export function generateVirtualKey(): string {
  return VIRTUAL_KEY_PREFIX + randomBase62(VIRTUAL_KEY_RANDOM_LENGTH);
}

function positiveIntOrNull(value: number | null | undefined, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value <= 0) throw new TollgateError('TG_ERR_USAGE', { field });
  return value;
}

/** The fields of a record that `tollgate keys create` sets and `tollgate keys update` may change. */
type KeyLimits = Pick<
  VirtualKeyRecord,
  | 'name'
  | 'user'
  | 'team'
  | 'allowedModels'
  | 'rpm'
  | 'tpm'
  | 'concurrent'
  | 'allowAttributionOverride'
  | 'budgetMicroUsd'
  | 'budgetPeriod'
  | 'expiresAt'
>;

/**
 * The input checked and normalised into record fields. Throws `TG_ERR_USAGE` (detail names the
 * field). `expiresAt` must lie in the future only when `checkExpiry` (a new or changed expiry).
 */
function checkedLimits(input: CreateKeyInput, nowMs: number, checkExpiry: boolean): KeyLimits {
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw new TollgateError('TG_ERR_USAGE', { field: 'name' });
  const allowedModels = input.allowedModels ?? '*';
  if (allowedModels !== '*') {
    if (allowedModels.length === 0 || allowedModels.some((m) => m.trim() === '' || m.includes('*'))) {
      throw new TollgateError('TG_ERR_USAGE', { field: 'allowedModels' });
    }
  }
  const budgetMicroUsd = positiveIntOrNull(input.budgetMicroUsd, 'budgetMicroUsd');
  const budgetPeriod = input.budgetPeriod ?? null;
  if ((budgetMicroUsd === null) !== (budgetPeriod === null)) {
    throw new TollgateError('TG_ERR_USAGE', { field: 'budgetPeriod' });
  }
  if (budgetPeriod !== null && budgetPeriod !== 'day' && budgetPeriod !== 'month') {
    throw new TollgateError('TG_ERR_USAGE', { field: 'budgetPeriod' });
  }
  const expiresAt = input.expiresAt ?? null;
  if (checkExpiry && expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= nowMs)) {
    throw new TollgateError('TG_ERR_USAGE', { field: 'expiresAt' });
  }
  return {
    name,
    user: input.user ?? null,
    team: input.team ?? null,
    allowedModels: allowedModels === '*' ? '*' : [...new Set(allowedModels.map((m) => m.trim()))],
    rpm: positiveIntOrNull(input.rpm, 'rpm'),
    tpm: positiveIntOrNull(input.tpm, 'tpm'),
    concurrent: positiveIntOrNull(input.concurrent, 'concurrent'),
    allowAttributionOverride: input.allowAttributionOverride === true,
    budgetMicroUsd,
    budgetPeriod,
    expiresAt,
  };
}

/**
 * Issues a key: validates the input, stores the record (hash only) and returns the plaintext
 * once. Throws `TG_ERR_USAGE` (detail names the field) for invalid input.
 */
export async function createKey(store: KeyStore, clock: Clock, input: CreateKeyInput): Promise<CreatedKey> {
  const now = clock.now();
  const limits = checkedLimits(input, now, true);
  const key = generateVirtualKey();
  const record: VirtualKeyRecord = {
    id: 'vk_' + randomBase62(16),
    ...limits,
    keyHash: hashVirtualKey(key),
    displayPrefix: key.slice(0, VIRTUAL_KEY_DISPLAY_LENGTH),
    createdAt: now,
    revokedAt: null,
    lastUsedAt: null,
  };
  await store.create(record);
  return { key, record };
}

/**
 * What `tollgate keys update` (or `PATCH /admin/keys/:id`) changes: a field that is absent keeps
 * its value, `null` clears it (no limit, no budget, no expiry, no user or team). Setting a budget
 * without a period keeps the key's period (month when it had none); clearing the budget clears
 * the period.
 */
export type KeyChanges = { [K in keyof CreateKeyInput]?: CreateKeyInput[K] | null };

/** Why `updateKey` changed nothing. */
export type KeyUpdateRefusal = 'not_found' | 'revoked';

/**
 * Changes the limits, budget, expiry, name or attribution of an existing key in place: the key
 * itself (and its hash) stays, so applications keep working. A revoked key is refused (revocation
 * is final). Validated as `createKey` validates; a new expiry must lie in the future.
 */
export async function updateKey(
  store: KeyStore,
  clock: Clock,
  id: string,
  changes: KeyChanges,
): Promise<{ record: VirtualKeyRecord } | { refused: KeyUpdateRefusal }> {
  const current = await store.findById(id);
  if (current === null) return { refused: 'not_found' };
  if (current.revokedAt !== null) return { refused: 'revoked' };
  const now = clock.now();
  const pick = <K extends keyof KeyChanges>(k: K, was: CreateKeyInput[K]): CreateKeyInput[K] =>
    changes[k] === undefined ? was : changes[k];
  const budgetMicroUsd = pick('budgetMicroUsd', current.budgetMicroUsd);
  let budgetPeriod = pick('budgetPeriod', current.budgetPeriod);
  // A budget set without a period keeps the key's period (month when it had none); a cleared
  // budget clears its period. A period named with no budget, or a budget whose period is
  // cleared, is refused by checkedLimits.
  if (budgetMicroUsd === null && changes.budgetPeriod === undefined) budgetPeriod = null;
  if (budgetMicroUsd !== null && changes.budgetPeriod === undefined) budgetPeriod ??= 'month';
  const limits = checkedLimits(
    {
      name: changes.name ?? current.name,
      user: pick('user', current.user),
      team: pick('team', current.team),
      allowedModels: changes.allowedModels === null ? '*' : pick('allowedModels', current.allowedModels),
      rpm: pick('rpm', current.rpm),
      tpm: pick('tpm', current.tpm),
      concurrent: pick('concurrent', current.concurrent),
      allowAttributionOverride: changes.allowAttributionOverride ?? current.allowAttributionOverride,
      budgetMicroUsd,
      budgetPeriod,
      expiresAt: pick('expiresAt', current.expiresAt),
    },
    now,
    changes.expiresAt !== undefined,
  );
  const record: VirtualKeyRecord = { ...current, ...limits };
  if (!(await store.update(record))) return { refused: 'revoked' };
  return { record };
}

/** Whether `model` is on the key's allow-list (exact match, or the key allows `*`). */
export function isModelAllowed(record: VirtualKeyRecord, model: string | null): boolean {
  if (record.allowedModels === '*') return true;
  // A key restricted to named models may not send a request that names none.
  if (model === null) return false;
  return record.allowedModels.includes(model);
}

/** active | revoked | expired, as `keys list` shows it. */
export function keyStatus(record: VirtualKeyRecord, nowMs: number): 'active' | 'revoked' | 'expired' {
  if (record.revokedAt !== null && record.revokedAt <= nowMs) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt <= nowMs) return 'expired';
  return 'active';
}
