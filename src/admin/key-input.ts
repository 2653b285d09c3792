import { TollgateError } from '../core/errors.js';
import type { CreateKeyInput, KeyChanges } from '../access/virtual-keys.js';

function bad(parameter: string): TollgateError {
  return new TollgateError('TG_ERR_ADMIN_BAD_REQUEST', { parameter });
}

function optionalText(v: unknown, parameter: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > 200) throw bad(parameter);
  return v.trim();
}

function optionalPositiveInt(v: unknown, parameter: string): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) throw bad(parameter);
  return n;
}

/**
 * `POST /admin/keys` body (the same choices as `tollgate keys create`): `name`, and optionally
 * `user`, `team`, `models` (array or comma list), `rpm`, `tpm`, `concurrent`,
 * `allow_attribution_override` (boolean), `budget_usd` with `period`
 * (`day`|`month`, default month), `expires` (ISO-8601).
 */
export function parseCreateKeyInput(body: Record<string, unknown>): CreateKeyInput {
  const name = optionalText(body.name, 'name');
  if (!name) throw bad('name');
  const input: CreateKeyInput = {
    name,
    user: optionalText(body.user, 'user'),
    team: optionalText(body.team, 'team'),
  };
  const models = body.models;
  if (models !== undefined && models !== null && models !== '' && models !== '*') {
    const list = Array.isArray(models) ? models : typeof models === 'string' ? models.split(',') : null;
    if (!list || list.some((m) => typeof m !== 'string')) throw bad('models');
    input.allowedModels = (list as string[]).map((m) => m.trim()).filter(Boolean);
  }
  input.rpm = optionalPositiveInt(body.rpm, 'rpm');
  input.tpm = optionalPositiveInt(body.tpm, 'tpm');
  input.concurrent = optionalPositiveInt(body.concurrent, 'concurrent');
  const override = body.allow_attribution_override;
  if (override !== undefined && override !== null && typeof override !== 'boolean')
    throw bad('allow_attribution_override');
  input.allowAttributionOverride = override === true;
  if (body.budget_usd !== undefined && body.budget_usd !== null && body.budget_usd !== '') {
    const usd = Number(body.budget_usd);
    if (!Number.isFinite(usd) || usd <= 0) throw bad('budget_usd');
    input.budgetMicroUsd = Math.round(usd * 1_000_000);
    const period = body.period ?? 'month';
    if (period !== 'day' && period !== 'month') throw bad('period');
    input.budgetPeriod = period;
  }
  const expires = optionalText(body.expires, 'expires');
  if (expires) {
    const t = Date.parse(expires);
    if (Number.isNaN(t)) throw bad('expires');
    input.expiresAt = t;
  }
  return input;
}

/** The body fields `PATCH /admin/keys/:id` may carry (the create fields). */
const CHANGEABLE = new Set([
  'name',
  'user',
  'team',
  'models',
  'rpm',
  'tpm',
  'concurrent',
  'allow_attribution_override',
  'budget_usd',
  'period',
  'expires',
]);

/**
 * `PATCH /admin/keys/:id` body: the fields of `POST /admin/keys`, each optional. An absent field
 * keeps its value; `null` clears it (no limit, budget, expiry, user or team; `models: null` or
 * `"*"` allows any model). An unknown field is refused, so a typo never passes as "no change".
 */
export function parseKeyChanges(body: Record<string, unknown>): KeyChanges {
  for (const k of Object.keys(body)) if (!CHANGEABLE.has(k)) throw bad(k);
  const changes: KeyChanges = {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(body, k);
  if (has('name')) {
    const name = optionalText(body.name, 'name');
    if (!name) throw bad('name');
    changes.name = name;
  }
  if (has('user')) changes.user = optionalText(body.user, 'user');
  if (has('team')) changes.team = optionalText(body.team, 'team');
  if (has('models')) {
    const m = body.models;
    if (m === null || m === '*') changes.allowedModels = '*';
    else {
      const list = Array.isArray(m) ? m : typeof m === 'string' ? m.split(',') : null;
      if (!list || list.some((x) => typeof x !== 'string')) throw bad('models');
      changes.allowedModels = (list as string[]).map((x) => x.trim()).filter(Boolean);
    }
  }
  for (const limit of ['rpm', 'tpm', 'concurrent'] as const)
    if (has(limit)) changes[limit] = optionalPositiveInt(body[limit], limit);
  if (has('allow_attribution_override')) {
    if (typeof body.allow_attribution_override !== 'boolean') throw bad('allow_attribution_override');
    changes.allowAttributionOverride = body.allow_attribution_override;
  }
  if (has('budget_usd')) {
    if (body.budget_usd === null) changes.budgetMicroUsd = null;
    else {
      const usd = Number(body.budget_usd);
      if (typeof body.budget_usd === 'boolean' || !Number.isFinite(usd) || usd <= 0) throw bad('budget_usd');
      changes.budgetMicroUsd = Math.round(usd * 1_000_000);
    }
  }
  if (has('period')) {
    if (body.period !== 'day' && body.period !== 'month') throw bad('period');
    changes.budgetPeriod = body.period;
  }
  if (has('expires')) {
    const expires = optionalText(body.expires, 'expires');
    if (expires === null) changes.expiresAt = null;
    else {
      const t = Date.parse(expires);
      if (Number.isNaN(t)) throw bad('expires');
      changes.expiresAt = t;
    }
  }
  if (Object.keys(changes).length === 0) throw bad('body');
  return changes;
}
