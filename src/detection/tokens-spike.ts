import type { Detector } from './detector.js';
import type { AuditEvent } from '../core/audit-event.js';
import { resolveConfig } from './config-check.js';
import type { RateSpikeConfig } from './rate-spike.js';
import { RateSpikeTracker, rateCandidate, recordKeyAndUser } from './rate-spike.js';

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
export function createTokensSpikeDetector(override?: Partial<TokensSpikeConfig>): Detector {
  const cfg = resolveConfig('tokens.spike', DEFAULT_TOKENS_SPIKE_CONFIG, override);
  const tracker = new RateSpikeTracker(cfg);
  return {
    id: 'tokens.spike',
    severity: 'MEDIUM',
    description: `Tokens per user or key in ${cfg.windowMs / 1000} s far above the subject's own adaptive baseline (${cfg.multiplier}x, floor ${cfg.floor}).`,
    observe(event, ctx) {
      const tokens = tokensOf(event);
      if (!(tokens > 0)) return null;
      return recordKeyAndUser(tracker, event.user_id, event.api_key_id, tokens, ctx.nowMs, (subject, r) =>
        rateCandidate(subject, 'Token', 'tokens', cfg.windowMs, r),
      );
    },
    sweep: (nowMs) => tracker.sweep(nowMs),
  };
}
