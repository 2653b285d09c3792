/**
 * The provider's own quota per provider key, from the readings stored in the events
 * (`provider_{requests,tokens}_{remaining,limit,reset}`, `provider_key_id`; issue 20): the latest
 * reading of each key and kind, and the lowest share (remaining / limit) seen in the window, the
 * closest the key came to its provider's 429s. Shared by `tollgate report security` and the
 * dashboard's security page so both say the same; both read it from the summary kept at write time
 * (`RollupReader.providerQuota`, src/store/provider-quota-rollups.ts), over the whole window.
 */
export type { ProviderQuotaRow, ProviderQuotaSummary, QuotaKind } from '../store/provider-quota-rollups.js';

/** `42 %` style share for tables; `-` when unknown. */
export function formatShare(share: number | null): string {
  return share === null ? '-' : `${(share * 100).toFixed(1)}%`;
}
