import {
  readProviderQuota,
  type ProviderQuota,
  type QuotaReading,
} from '../upstream/provider-rate-limit-headers.js';

/** A provider key's quota of one kind fell below the warning share (once per fall; re-armed above it). */
export interface QuotaLow {
  /** Fingerprint of the provider key (`api_key_id` form), never the key. */
  keyId: string;
  provider: string;
  kind: 'requests' | 'tokens';
  reading: QuotaReading & { limit: number };
  share: number;
}

/**
 * The last quota each provider key reported (response headers, src/access/provider-rate-limit-
 * headers.ts), and the warning before the 429s: when remaining / limit falls below `share`
 * (default 10 %), `onLow` is told once; it is told again only after the quota went back above.
 * Bounded: at most `maxKeys` keys are kept (provider keys are few; the oldest goes first).
 */
export class ProviderQuotaTracker {
  private readonly latest = new Map<string, { provider: string; quota: ProviderQuota; atMs: number }>();
  private readonly low = new Set<string>();

  constructor(
    private readonly o: {
      share?: number;
      maxKeys?: number;
      onLow?: (low: QuotaLow) => void;
      /** Every reading, for gauges (`/metrics`). */
      onReading?: (keyId: string, provider: string, kind: 'requests' | 'tokens', r: QuotaReading) => void;
    } = {},
  ) {}

  get share(): number {
    return this.o.share ?? 0.1;
  }

  /** Reads an upstream answer's headers for the key it was sent with. Never throws. */
  observe(
    keyId: string | null,
    provider: string | null,
    headers: Record<string, string | string[] | undefined>,
    nowMs: number,
  ): void {
    if (keyId === null) return;
    this.observeQuota(keyId, provider, readProviderQuota(headers, nowMs), nowMs);
  }

  /** As `observe`, with the headers already read (`readProviderQuota`). Never throws. */
  observeQuota(
    keyId: string | null,
    provider: string | null,
    quota: ProviderQuota | null,
    nowMs: number,
  ): void {
    if (keyId === null || quota === null) return;
    const p = provider ?? 'upstream';
    if (!this.latest.has(keyId) && this.latest.size >= (this.o.maxKeys ?? 1000)) {
      const oldest = this.latest.keys().next();
      if (oldest.done !== true) this.latest.delete(oldest.value);
    }
    this.latest.delete(keyId);
    this.latest.set(keyId, { provider: p, quota, atMs: nowMs });
    for (const kind of ['requests', 'tokens'] as const) {
      const r = quota[kind];
      if (r === null) continue;
      this.o.onReading?.(keyId, p, kind, r);
      if (r.limit === null || r.limit <= 0) continue;
      const flag = `${keyId}\u0000${kind}`;
      if (r.remaining < r.limit * this.share) {
        if (this.low.has(flag)) continue;
        this.low.add(flag);
        this.o.onLow?.({ keyId, provider: p, kind, reading: { ...r, limit: r.limit }, share: this.share });
      } else this.low.delete(flag);
    }
  }

  /** The last reading of every key (for reports and the dashboard). */
  snapshot(): Array<{ keyId: string; provider: string; quota: ProviderQuota; atMs: number }> {
    return [...this.latest].map(([keyId, v]) => ({ keyId, ...v }));
  }
}
