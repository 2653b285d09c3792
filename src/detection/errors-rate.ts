import type { AlertSubject } from '../alerting/alert.js';
import type { Detector } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { BucketedWindow } from './bucketed-window.js';
import { resolveConfig } from './config-check.js';
import { isAuthFailure, isRequestFailure } from './event-outcome.js';

export interface ErrorsRateConfig {
  windowMs: number;
  bucketMs: number;
  /** Share of failed requests in the window that fires the rule. */
  threshold: number;
  /** Below this many requests in the window the share is not judged. */
  minRequests: number;
  /** …nor below this many failures, so two unlucky requests of a quiet user are not a storm. */
  minFailures: number;
  /**
   * A model is judged failing only when this many distinct callers (key or user) failed on it in
   * the window: one caller's storm is that caller's alert, a model outage hits many.
   */
  modelMinCallers: number;
  ttlMs: number;
  maxSubjects: number;
}

export const DEFAULT_ERRORS_RATE_CONFIG: ErrorsRateConfig = {
  windowMs: 5 * 60_000,
  bucketMs: 30_000,
  threshold: 0.25,
  minRequests: 10,
  minFailures: 5,
  modelMinCallers: 5,
  ttlMs: 60 * 60_000,
  maxSubjects: 200_000,
};

interface ErrorState {
  requests: BucketedWindow;
  failures: BucketedWindow;
  /** Model subjects: failing caller → last failure ms, oldest first. */
  callers: Map<string, number> | null;
}

const MAX_CALLERS = 64;

/**
 * `errors.rate`: the share of failed requests per user, key and model. Authentication failures
 * (own rule) and client cancellations do not count. Fires on the failing events only, and
 * reports the narrowest subject that fires (user, then key, then model).
 */
export function createErrorsRateDetector(override?: Partial<ErrorsRateConfig>): Detector {
  const cfg = resolveConfig('errors.rate', DEFAULT_ERRORS_RATE_CONFIG, override);
  // One map per subject kind, keyed by the event's own strings (no concatenated keys to hash).
  const state = {
    user: new BoundedStateMap<ErrorState>(cfg.ttlMs, cfg.maxSubjects),
    api_key: new BoundedStateMap<ErrorState>(cfg.ttlMs, cfg.maxSubjects),
    model: new BoundedStateMap<ErrorState>(cfg.ttlMs, cfg.maxSubjects),
  };
  const buckets = Math.max(1, Math.round(cfg.windowMs / cfg.bucketMs));

  function record(
    kind: 'user' | 'api_key' | 'model',
    id: string,
    failed: boolean,
    nowMs: number,
  ): ErrorState {
    const model = kind === 'model';
    const s = state[kind].touch(id, nowMs, () => ({
      requests: new BucketedWindow(cfg.bucketMs, buckets),
      failures: new BucketedWindow(cfg.bucketMs, buckets),
      callers: model ? new Map<string, number>() : null,
    }));
    s.requests.advance(nowMs);
    s.failures.advance(nowMs);
    s.requests.add(1);
    if (failed) s.failures.add(1);
    return s;
  }

  function failingCallers(s: ErrorState, caller: string | null, failed: boolean, nowMs: number): number {
    const callers = s.callers!;
    if (failed && caller !== null) {
      callers.delete(caller);
      callers.set(caller, nowMs);
      if (callers.size > MAX_CALLERS) callers.delete(callers.keys().next().value!);
    }
    for (const [c, t] of callers) {
      if (nowMs - t <= cfg.windowMs) break;
      callers.delete(c);
    }
    return callers.size;
  }

  const fires = (s: ErrorState): boolean =>
    s.requests.sum >= cfg.minRequests &&
    s.failures.sum >= cfg.minFailures &&
    s.failures.sum >= cfg.threshold * s.requests.sum;

  return {
    id: 'errors.rate',
    severity: 'MEDIUM',
    description: `Share of failed requests per user, key or model above ${cfg.threshold * 100}% over ${cfg.windowMs / 60_000} min (at least ${cfg.minRequests} requests and ${cfg.minFailures} failures).`,
    observe(event, ctx) {
      if (event.status === 'CANCELLED' || isAuthFailure(event)) return null;
      const failed = isRequestFailure(event);
      const subjects: { kind: 'user' | 'api_key' | 'model'; value: string }[] = [];
      if (event.user_id !== null) subjects.push({ kind: 'user', value: event.user_id });
      if (event.api_key_id !== null) subjects.push({ kind: 'api_key', value: event.api_key_id });
      const model = event.model_used ?? event.model_requested;
      if (model !== null) subjects.push({ kind: 'model', value: model });
      let hit: { subject: AlertSubject; s: ErrorState } | null = null;
      const caller = event.api_key_id ?? event.user_id;
      for (const subject of subjects) {
        const isModel = subject.kind === 'model';
        const s = record(subject.kind, subject.value, failed, ctx.nowMs);
        const enoughCallers = !isModel || failingCallers(s, caller, failed, ctx.nowMs) >= cfg.modelMinCallers;
        if (failed && hit === null && enoughCallers && fires(s)) hit = { subject, s };
      }
      if (hit === null) return null;
      const { subject, s } = hit;
      const share = s.failures.sum / s.requests.sum;
      return {
        subject,
        title: `Error rate ${Math.round(share * 100)}% for ${subject.kind} ${subject.value}`,
        description: `${s.failures.sum} of ${s.requests.sum} requests failed in ${cfg.windowMs / 60_000} min (threshold ${cfg.threshold * 100}%).`,
        figures: {
          observed: share,
          baseline: null,
          threshold: cfg.threshold,
          window_ms: cfg.windowMs,
          unit: 'ratio',
        },
      };
    },
    sweep: (nowMs) => state.user.sweep(nowMs) + state.api_key.sweep(nowMs) + state.model.sweep(nowMs),
  };
}
