import type { AlertCandidate, DetectorResult } from './detector.js';
import type { AlertSubject } from '../alerting/alert.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { BucketedWindow } from './bucketed-window.js';
import { EwmaBaseline, alphaForHalfLife } from './ewma-baseline.js';
import type { SharedWindow, SharedWindows } from './shared-windows.js';

/** Tuning shared by `volume.spike` and `tokens.spike`. */
export interface RateSpikeConfig {
  /** Length of the sliding window whose total is compared with the baseline. */
  windowMs: number;
  /** Resolution of the window and of baseline samples (one sample per closed bucket). */
  bucketMs: number;
  /** Fire when the window total reaches this multiple of the baseline… */
  multiplier: number;
  /** …and exceeds the baseline by this many (exponentially weighted) standard deviations… */
  spreadK: number;
  /** …and reaches this absolute floor, so idle subjects do not alert on tiny counts. */
  floor: number;
  /** Before a subject's baseline is trusted (warm-up), only this absolute level fires. */
  coldFloor: number;
  /** A subject's baseline is trusted once it has been seen this long… */
  warmupMs: number;
  /** …and has this many non-empty window samples. */
  warmupSamples: number;
  /** Half-life of the recent level (all samples, idle ones count as zero). */
  recentHalfLifeMs: number;
  /** Half-life of the active level (only non-empty windows), which remembers a subject's normal working rate across idle nights. */
  activeHalfLifeMs: number;
  ttlMs: number;
  maxSubjects: number;
}

interface RateState {
  window: BucketedWindow;
  /** The window total last decided on: this replica's, or all replicas' when shared. */
  lastObserved: number;
  recent: EwmaBaseline;
  active: EwmaBaseline;
  firstMs: number;
}

export interface RateSpikeResult {
  observed: number;
  baseline: number | null;
  threshold: number;
}

/**
 * Per-subject sliding-window totals against an adaptive baseline. The baseline is the larger of
 * a recent EWMA (tracks the daily rhythm) and an active-only EWMA (remembers the normal working
 * level across idle stretches, so the first requests of a morning are not a spike). Samples
 * above the alert threshold are clamped to it before they are learned, so an incident does not
 * teach the baseline that it is normal.
 */
export class RateSpikeTracker {
  /** One map per subject kind, keyed by the event's own string (its hash is computed once and shared by every detector). */
  private readonly state: { user: BoundedStateMap<RateState>; key: BoundedStateMap<RateState> };
  private readonly buckets: number;
  private readonly alphaRecent: number;
  private readonly alphaActive: number;
  private current: RateState | null = null;
  /** All replicas' window total just before the current event (learned at the first bucket close instead of this replica's own). */
  private sharedSample: number | null = null;
  private readonly shared: Record<'user' | 'key', SharedWindow> | null;
  private fireLate: ((kind: 'user' | 'key', id: string, r: RateSpikeResult, nowMs: number) => void) | null =
    null;

  /**
   * With `shared` windows (named `<name>.user` / `<name>.key`), totals and the baselines learned
   * from them are those of every replica, and a merged total crossing the threshold is reported
   * through `onLateFiring`.
   */
  constructor(
    private readonly cfg: RateSpikeConfig,
    shared?: SharedWindows,
    name = 'rate',
  ) {
    this.state = {
      user: new BoundedStateMap(cfg.ttlMs, cfg.maxSubjects),
      key: new BoundedStateMap(cfg.ttlMs, cfg.maxSubjects),
    };
    this.buckets = Math.max(1, Math.round(cfg.windowMs / cfg.bucketMs));
    this.alphaRecent = alphaForHalfLife(cfg.recentHalfLifeMs / cfg.bucketMs);
    this.alphaActive = alphaForHalfLife(cfg.activeHalfLifeMs / cfg.bucketMs);
    const spec = { windowMs: cfg.windowMs, bucketMs: cfg.bucketMs };
    this.shared = shared
      ? {
          user: shared.open(`${name}.user`, spec, this.merged('user')),
          key: shared.open(`${name}.key`, spec, this.merged('key')),
        }
      : null;
  }

  /** Told when a merged total of all replicas (not an event here) crosses a subject's threshold. */
  onLateFiring(fire: (kind: 'user' | 'key', id: string, r: RateSpikeResult, nowMs: number) => void): void {
    this.fireLate = fire;
  }

  private merged(kind: 'user' | 'key') {
    return (id: string, total: number, nowMs: number): void => {
      const s = this.state[kind].peek(id, nowMs);
      if (!s) return;
      const before = s.lastObserved;
      s.lastObserved = Math.max(total, s.window.sum);
      const trusted = this.trusted(s, nowMs);
      const threshold = trusted ? this.threshold(s) : this.cfg.coldFloor;
      if (before < threshold && s.lastObserved >= threshold) {
        this.fireLate?.(
          kind,
          id,
          { observed: s.lastObserved, baseline: trusted ? this.expected(s) : null, threshold },
          nowMs,
        );
      }
    };
  }

  private readonly learn = (closedSum: number): void => {
    const s = this.current!;
    const windowSum = this.sharedSample === null ? closedSum : Math.max(closedSum, this.sharedSample);
    this.sharedSample = null;
    s.recent.update(windowSum, this.alphaRecent);
    if (windowSum > 0) {
      const clamp = s.active.samples >= this.cfg.warmupSamples ? this.threshold(s) : this.cfg.coldFloor;
      s.active.update(Math.min(windowSum, clamp), this.alphaActive);
    }
  };

  private trusted(s: RateState, nowMs: number): boolean {
    return s.active.samples >= this.cfg.warmupSamples && nowMs - s.firstMs >= this.cfg.warmupMs;
  }

  private expected(s: RateState): number {
    return Math.max(s.recent.mean, s.active.mean);
  }

  private threshold(s: RateState): number {
    const e = this.expected(s);
    return Math.max(this.cfg.floor, this.cfg.multiplier * e, e + this.cfg.spreadK * s.active.stdDev);
  }

  /** Adds `value` to the subject's window at `nowMs`; returns the figures when the rule fires. */
  record(kind: 'user' | 'key', id: string, value: number, nowMs: number): RateSpikeResult | null {
    const s = this.state[kind].touch(id, nowMs, () => ({
      window: new BucketedWindow(this.cfg.bucketMs, this.buckets),
      lastObserved: 0,
      recent: new EwmaBaseline(),
      active: new EwmaBaseline(),
      firstMs: nowMs,
    }));
    this.current = s;
    this.sharedSample = this.shared?.[kind].total(id, nowMs) ?? null;
    const idle = s.window.advance(nowMs, this.learn);
    this.current = null;
    this.sharedSample = null;
    if (idle > 0) s.recent.decay(idle, this.alphaRecent);
    s.window.add(value);
    const observed = Math.max(s.window.sum, this.shared?.[kind].add(id, value, nowMs) ?? 0);
    s.lastObserved = observed;
    if (this.trusted(s, nowMs)) {
      const threshold = this.threshold(s);
      return observed >= threshold ? { observed, baseline: this.expected(s), threshold } : null;
    }
    return observed >= this.cfg.coldFloor
      ? { observed, baseline: null, threshold: this.cfg.coldFloor }
      : null;
  }

  sweep(nowMs: number): number {
    return this.state.user.sweep(nowMs) + this.state.key.sweep(nowMs);
  }
}

/** Builds the candidate for a firing of a rate rule on one subject. */
export function rateCandidate(
  subject: AlertSubject,
  what: string,
  unit: string,
  windowMs: number,
  r: RateSpikeResult,
): AlertCandidate {
  const base = r.baseline === null ? 'no trusted baseline yet' : `baseline ${Math.round(r.baseline)}`;
  return {
    subject,
    title: `${what} spike for ${subject.kind} ${subject.value}`,
    description: `${Math.round(r.observed)} ${unit} in ${Math.round(windowMs / 1000)} s (${base}, threshold ${Math.round(r.threshold)}).`,
    figures: {
      observed: r.observed,
      baseline: r.baseline,
      threshold: r.threshold,
      window_ms: windowMs,
      unit,
    },
  };
}

/** The `bindLateFiring` of a detector built on `tracker`: late firings become candidates like the event path's. */
export function bindTrackerLateFiring(
  tracker: RateSpikeTracker,
  toCandidate: (subject: AlertSubject, r: RateSpikeResult) => AlertCandidate,
): (fire: (r: DetectorResult, nowMs: number) => void) => void {
  return (fire) =>
    tracker.onLateFiring((kind, id, r, nowMs) =>
      fire(toCandidate({ kind: kind === 'user' ? 'user' : 'api_key', value: id }, r), nowMs),
    );
}

/** Records the value for the user and the key of an event; reports the user when both fire (one incident, one alert). */
export function recordKeyAndUser(
  tracker: RateSpikeTracker,
  userId: string | null,
  keyId: string | null,
  value: number,
  nowMs: number,
  toCandidate: (subject: AlertSubject, r: RateSpikeResult) => AlertCandidate,
): DetectorResult {
  const u = userId === null ? null : tracker.record('user', userId, value, nowMs);
  const k = keyId === null ? null : tracker.record('key', keyId, value, nowMs);
  if (u) return toCandidate({ kind: 'user', value: userId! }, u);
  if (k) return toCandidate({ kind: 'api_key', value: keyId! }, k);
  return null;
}
