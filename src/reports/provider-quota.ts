/**
 * The provider's own quota per provider key, from the readings stored in the events
 * (`provider_{requests,tokens}_{remaining,limit,reset}`, `provider_key_id`; issue 20): the latest
 * reading of each key and kind, and the lowest share (remaining / limit) seen in the window, the
 * closest the key came to its provider's 429s. Shared by `tollgate report security` and the
 * dashboard's security page so both say the same.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { EventStore } from '../store/event-store.js';

/** Events read for the provider quota: the newest of the window, at most this many. */
export const PROVIDER_QUOTA_SAMPLE = 20_000;

/** The rows of a window, and whether the window held more events than were read. */
export interface ProviderQuotaSummary {
  rows: ProviderQuotaRow[];
  sampled: boolean;
}

/**
 * The provider quota of [sinceMs, untilMs) from the newest PROVIDER_QUOTA_SAMPLE events of the
 * window (one bounded query: the latest readings are the newest events; the lowest share is the
 * lowest among them, `sampled` says when older events were not read).
 */
export async function providerQuotaOf(
  store: EventStore,
  sinceMs: number,
  untilMs: number,
  top: number,
): Promise<ProviderQuotaSummary> {
  const events = await store.query({ sinceMs, untilMs, order: 'desc', limit: PROVIDER_QUOTA_SAMPLE });
  const fold = new ProviderQuotaFold();
  for (const e of events) fold.add(e);
  return { rows: fold.result(top), sampled: events.length === PROVIDER_QUOTA_SAMPLE };
}

export type QuotaKind = 'requests' | 'tokens';

export interface ProviderQuotaRow {
  /** Fingerprint of the provider key (api_key_id form), never the key. */
  key: string;
  provider: string | null;
  kind: QuotaKind;
  /** The latest reading in the window. */
  remaining: number;
  limit: number | null;
  /** remaining / limit of the latest reading; null without a limit. */
  share: number | null;
  reset: string | null;
  /** Time of the event that carried the latest reading. */
  at: string;
  /** Lowest remaining / limit of the window, and when it was first reached; null when no reading had a limit. */
  lowest_share: number | null;
  lowest_at: string | null;
  /** Events in the window with a reading of this kind for this key. */
  readings: number;
}

const KINDS = [
  {
    kind: 'requests',
    remaining: 'provider_requests_remaining',
    limit: 'provider_requests_limit',
    reset: 'provider_requests_reset',
  },
  {
    kind: 'tokens',
    remaining: 'provider_tokens_remaining',
    limit: 'provider_tokens_limit',
    reset: 'provider_tokens_reset',
  },
] as const;

/** Folds events (in any order) into one row per provider key and kind. */
export class ProviderQuotaFold {
  private readonly rows = new Map<string, ProviderQuotaRow>();

  add(e: AuditEvent): void {
    for (const k of KINDS) {
      const remaining = e[k.remaining];
      if (remaining === null || remaining === undefined) continue;
      // Before provider_key_id existed nothing had readings; the client's key is the provider's in
      // passthrough and in the SDK.
      const key = e.provider_key_id ?? e.api_key_id ?? '(unknown)';
      const limit = e[k.limit] ?? null;
      const share = limit !== null && limit > 0 ? remaining / limit : null;
      const id = `${key}\u0000${k.kind}`;
      let r = this.rows.get(id);
      if (!r) {
        r = {
          key,
          provider: e.api_provider,
          kind: k.kind,
          remaining,
          limit,
          share,
          reset: e[k.reset] ?? null,
          at: e.timestamp,
          lowest_share: null,
          lowest_at: null,
          readings: 0,
        };
        this.rows.set(id, r);
      } else if (e.timestamp >= r.at) {
        Object.assign(r, { provider: e.api_provider, remaining, limit, share, reset: e[k.reset] ?? null });
        r.at = e.timestamp;
      }
      r.readings++;
      // The first time the lowest share was reached, whatever order the events come in.
      if (
        share !== null &&
        (r.lowest_share === null ||
          share < r.lowest_share ||
          (share === r.lowest_share && e.timestamp < r.lowest_at!))
      ) {
        r.lowest_share = share;
        r.lowest_at = e.timestamp;
      }
    }
  }

  /** The rows, the closest to exhaustion first (lowest share; keys without a limit last), at most `top`. */
  result(top = Infinity): ProviderQuotaRow[] {
    return [...this.rows.values()]
      .sort(
        (a, b) =>
          (a.lowest_share ?? 2) - (b.lowest_share ?? 2) ||
          (a.key < b.key ? -1 : a.key > b.key ? 1 : a.kind < b.kind ? -1 : 1),
      )
      .slice(0, top);
  }
}

/** `42 %` style share for tables; `-` when unknown. */
export function formatShare(share: number | null): string {
  return share === null ? '-' : `${(share * 100).toFixed(1)}%`;
}
