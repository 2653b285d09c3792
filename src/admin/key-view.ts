import type { VirtualKeyRecord } from '../access/virtual-keys.js';

/** A key record as the admin API shows it: everything but the hash. */
export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  user: string | null;
  team: string | null;
  models: readonly string[] | '*';
  rpm: number | null;
  tpm: number | null;
  concurrent: number | null;
  allow_attribution_override: boolean;
  budget_micro_usd: number | null;
  budget_period: string | null;
  expires: string | null;
  created: string;
  revoked: string | null;
  last_used: string | null;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Drops the key hash and names the fields as the API does. */
export function keyView(k: VirtualKeyRecord): KeyView {
  return {
    id: k.id,
    name: k.name,
    prefix: k.displayPrefix,
    user: k.user,
    team: k.team,
    models: k.allowedModels,
    rpm: k.rpm,
    tpm: k.tpm,
    concurrent: k.concurrent,
    allow_attribution_override: k.allowAttributionOverride,
    budget_micro_usd: k.budgetMicroUsd,
    budget_period: k.budgetPeriod,
    expires: iso(k.expiresAt),
    created: new Date(k.createdAt).toISOString(),
    revoked: iso(k.revokedAt),
    last_used: iso(k.lastUsedAt),
  };
}
