import type { BudgetPeriod, VirtualKeyRecord } from '../access/virtual-keys.js';

/** A `virtual_keys` row as SQLite and PostgreSQL return it (bigint comes back from PostgreSQL as a string). */
export interface KeyRow {
  id: string;
  name: string;
  key_hash: string;
  display_prefix: string;
  user_id: string | null;
  team: string | null;
  allowed_models: string;
  rpm: number | null;
  tpm: number | null;
  /** Absent from rows of a store read before the column existed. */
  concurrent?: number | null;
  attribution_override?: number | boolean | null;
  budget_micro_usd: number | string | null;
  budget_period: string | null;
  expires_at: number | string | null;
  created_at: number | string;
  revoked_at: number | string | null;
  last_used_at: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** The key record a stored row holds (`allowed_models` is `*` or a JSON array). */
export function keyRecordFromRow(row: KeyRow): VirtualKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyHash: row.key_hash,
    displayPrefix: row.display_prefix,
    user: row.user_id,
    team: row.team,
    allowedModels: row.allowed_models === '*' ? '*' : (JSON.parse(row.allowed_models) as string[]),
    rpm: row.rpm,
    tpm: row.tpm,
    concurrent: row.concurrent ?? null,
    allowAttributionOverride: row.attribution_override === true || row.attribution_override === 1,
    budgetMicroUsd: num(row.budget_micro_usd),
    budgetPeriod: row.budget_period as BudgetPeriod | null,
    expiresAt: num(row.expires_at),
    createdAt: Number(row.created_at),
    revokedAt: num(row.revoked_at),
    lastUsedAt: num(row.last_used_at),
  };
}
