import type { AlertSubject } from '../alerting/alert.js';
import type { AlertCandidate, Detector } from './detector.js';
import type { AuditEvent } from '../core/audit-event.js';
import { resolveConfig } from './config-check.js';
import type { RateSpikeConfig, RateSpikeResult } from './rate-spike.js';
import { RateSpikeTracker, bindTrackerLateFiring, rateCandidate, recordKeyAndUser } from './rate-spike.js';
import type { SharedWindows } from './shared-windows.js';

export type TokensSpikeConfig = RateSpikeConfig;

export const DEFAULT_TOKENS_SPIKE_CONFIG: TokensSpikeConfig = {
  windowMs: 60_000,
  bucketMs: 10_000,
  multiplier: 5,
  spreadK: 5,
  floor: 80_000,
  coldFloor: 400_000,
  warmupMs: 60 * 60_000,
  warmupSamples: 30,
  recentHalfLifeMs: 60 * 60_000,
  activeHalfLifeMs: 6 * 60 * 60_000,
  ttlMs: 24 * 60 * 60_000,
  maxSubjects: 200_000,
};

function tokensOf(event: AuditEvent): number {
  if (event.total_tokens !== null) return event.total_tokens;
  return (event.input_tokens ?? 0) + (event.output_tokens ?? 0);
}

/** `tokens.spike`: tokens per key or user far above that subject's own baseline. */
export function createTokensSpikeDetector(
  override?: Partial<TokensSpikeConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('tokens.spike', DEFAULT_TOKENS_SPIKE_CONFIG, override);
  // Shared windows (replicas): totals and baselines over every replica's requests.
  const tracker = new RateSpikeTracker(cfg, shared, 'tokens');
  const candidate = (subject: AlertSubject, r: RateSpikeResult): AlertCandidate =>
    rateCandidate(subject, 'Token', 'tokens', cfg.windowMs, r);
  return {
    id: 'tokens.spike',
    severity: 'MEDIUM',
    description: `Tokens per user or key in ${cfg.windowMs / 1000} s far above the subject's own adaptive baseline (${cfg.multiplier}x, floor ${cfg.floor}).`,
    observe(event, ctx) {
      const tokens = tokensOf(event);
      if (!(tokens > 0)) return null;
      return recordKeyAndUser(tracker, event.user_id, event.api_key_id, tokens, ctx.nowMs, candidate);
    },
    sweep: (nowMs) => tracker.sweep(nowMs),
    bindLateFiring: bindTrackerLateFiring(tracker, candidate),
  };
}
