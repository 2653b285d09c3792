import { newAlert, type Alert } from '../alerting/alert.js';
import type { QuotaLow } from './provider-quota-tracker.js';

/** The `provider.quota-low` alert: a provider key's remaining quota fell below the warning share, before the 429s. */
export function providerQuotaLowAlert(low: QuotaLow, nowMs: number): Alert {
  const r = low.reading;
  const reset = r.resetAtMs === null ? '' : ` It resets at ${new Date(r.resetAtMs).toISOString()}.`;
  return newAlert(
    {
      rule_id: 'provider.quota-low',
      severity: 'HIGH',
      subject: { kind: 'api_key', value: low.keyId },
      title: `Provider quota low: ${low.provider} key ${low.keyId}, ${r.remaining} of ${r.limit} ${low.kind} left`,
      description: `The provider reports ${r.remaining} of ${r.limit} ${low.kind} left (below ${Math.round(low.share * 100)} %); 429s follow when it reaches 0.${reset}`,
      figures: {
        observed: r.remaining,
        baseline: r.limit,
        threshold: Math.floor(r.limit * low.share),
        window_ms: r.resetAtMs === null ? 0 : Math.max(0, r.resetAtMs - nowMs),
        unit: low.kind,
      },
    },
    nowMs,
  );
}
