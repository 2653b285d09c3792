import type { AlertSubject } from '../alerting/alert.js';
import type { AlertCandidate, Detector } from './detector.js';
import { resolveConfig } from './config-check.js';
import type { RateSpikeConfig, RateSpikeResult } from './rate-spike.js';
import { RateSpikeTracker, bindTrackerLateFiring, rateCandidate, recordKeyAndUser } from './rate-spike.js';
import type { SharedWindows } from './shared-windows.js';

export type VolumeSpikeConfig = RateSpikeConfig;

export const DEFAULT_VOLUME_SPIKE_CONFIG: VolumeSpikeConfig = {
  windowMs: 5 * 60_000,
  bucketMs: 30_000,
  multiplier: 3,
  spreadK: 4,
  floor: 30,
  coldFloor: 120,
  warmupMs: 60 * 60_000,
  warmupSamples: 30,
  recentHalfLifeMs: 60 * 60_000,
  activeHalfLifeMs: 6 * 60 * 60_000,
  ttlMs: 24 * 60 * 60_000,
  maxSubjects: 200_000,
};

/** `volume.spike`: requests per key or user far above that subject's own baseline. */
export function createVolumeSpikeDetector(
  override?: Partial<VolumeSpikeConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('volume.spike', DEFAULT_VOLUME_SPIKE_CONFIG, override);
  // Shared windows (replicas): totals and baselines over every replica's requests.
  const tracker = new RateSpikeTracker(cfg, shared, 'volume');
  const candidate = (subject: AlertSubject, r: RateSpikeResult): AlertCandidate =>
    rateCandidate(subject, 'Request volume', 'requests', cfg.windowMs, r);
  return {
    id: 'volume.spike',
    severity: 'MEDIUM',
    description: `Requests per user or key in ${cfg.windowMs / 60_000} min far above the subject's own adaptive baseline (${cfg.multiplier}x, floor ${cfg.floor}).`,
    observe: (event, ctx) =>
      recordKeyAndUser(tracker, event.user_id, event.api_key_id, 1, ctx.nowMs, candidate),
    sweep: (nowMs) => tracker.sweep(nowMs),
    bindLateFiring: bindTrackerLateFiring(tracker, candidate),
  };
}
