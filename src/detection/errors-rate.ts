import type { AlertSubject } from '../alerting/alert.js';
import type { AlertCandidate, Detector, DetectorResult } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { BucketedWindow } from './bucketed-window.js';
import { resolveConfig } from './config-check.js';
import { isAuthFailure, isRequestFailure } from './event-outcome.js';
import type { SharedSet, SharedWindow, SharedWindows } from './shared-windows.js';

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

type Kind = 'user' | 'api_key' | 'model';
const KINDS: readonly Kind[] = ['user', 'api_key', 'model'];

interface ErrorState {
  requests: BucketedWindow;
  failures: BucketedWindow;
  /** Model subjects: failing caller → last failure ms, oldest first. */
  callers: Map<string, number> | null;
  /** Failing callers of every replica, as last merged (model subjects). */
  sharedCallers: number;
  /** Whether the subject was firing at its last decision (a merged firing is reported late only if not). */
  firing: boolean;
  /** The user and key of the subject's last failing event, so a late firing reports the narrowest subject. */
  lastUser: string | null;
  lastKey: string | null;
}

const MAX_CALLERS = 64;

interface Counts {
  requests: number;
  failures: number;
  callers: number;
}

/**
 * `errors.rate`: the share of failed requests per user, key and model. Authentication failures
 * (own rule) and client cancellations do not count. Fires on the failing events only, and
 * reports the narrowest subject that fires (user, then key, then model).
 *
 * With `shared` windows (replicas), requests and failures per subject, and a model's failing
 * callers, are counted over every replica and the share is judged on those totals. A failing
 * event on a replica without fresh totals for its subject is judged at the next flush (late
 * firing) while the shared store answers, and on this replica's own counts while it does not.
 */
export function createErrorsRateDetector(
  override?: Partial<ErrorsRateConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('errors.rate', DEFAULT_ERRORS_RATE_CONFIG, override);
  // One map per subject kind, keyed by the event's own strings (no concatenated keys to hash).
  const state = {
    user: new BoundedStateMap<ErrorState>(cfg.ttlMs, cfg.maxSubjects),
    api_key: new BoundedStateMap<ErrorState>(cfg.ttlMs, cfg.maxSubjects),
    model: new BoundedStateMap<ErrorState>(cfg.ttlMs, cfg.maxSubjects),
  };
  const buckets = Math.max(1, Math.round(cfg.windowMs / cfg.bucketMs));
  let fireLate: ((r: DetectorResult, nowMs: number) => void) | null = null;
  /** Subjects whose merged failures changed in the flush under way: judged once it is done. */
  const toJudge = { user: new Set<string>(), api_key: new Set<string>(), model: new Set<string>() };
  let judging = false;
  const merged = (kind: Kind) => (id: string, _total: number, nowMs: number) => {
    toJudge[kind].add(id);
    if (judging) return;
    judging = true;
    // Every reply of the flush is in before the microtask runs: requests, failures and callers.
    queueMicrotask(() => {
      judging = false;
      judgeLate(nowMs);
    });
  };
  const spec = { windowMs: cfg.windowMs, bucketMs: cfg.bucketMs };
  const sharedCounts: Record<Kind, { requests: SharedWindow; failures: SharedWindow }> | null = shared
    ? {
        user: {
          requests: shared.open('errors.user.requests', spec),
          failures: shared.open('errors.user.failures', spec, merged('user')),
        },
        api_key: {
          requests: shared.open('errors.key.requests', spec),
          failures: shared.open('errors.key.failures', spec, merged('api_key')),
        },
        model: {
          requests: shared.open('errors.model.requests', spec),
          failures: shared.open('errors.model.failures', spec, merged('model')),
        },
      }
    : null;
  const sharedCallers: SharedSet | null =
    shared?.openSet(
      'errors.model.callers',
      { windowMs: cfg.windowMs, maxMembers: MAX_CALLERS },
      (model, n, nowMs) => {
        const s = state.model.peek(model, nowMs);
        if (s) s.sharedCallers = n;
        merged('model')(model, 0, nowMs);
      },
    ) ?? null;

  function record(kind: Kind, id: string, failed: boolean, nowMs: number): ErrorState {
    const model = kind === 'model';
    const s = state[kind].touch(id, nowMs, () => ({
      requests: new BucketedWindow(cfg.bucketMs, buckets),
      failures: new BucketedWindow(cfg.bucketMs, buckets),
      callers: model ? new Map<string, number>() : null,
      sharedCallers: 0,
      firing: false,
      lastUser: null,
      lastKey: null,
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

  const fires = (kind: Kind, c: Counts): boolean =>
    (kind !== 'model' || c.callers >= cfg.modelMinCallers) &&
    c.requests >= cfg.minRequests &&
    c.failures >= cfg.minFailures &&
    c.failures >= cfg.threshold * c.requests;

  /** Every replica's counts when fresh (they include this replica's), else null. */
  function sharedOf(kind: Kind, id: string, s: ErrorState, nowMs: number): Counts | null {
    const w = sharedCounts?.[kind];
    const requests = w?.requests.total(id, nowMs) ?? null;
    const failures = w?.failures.total(id, nowMs) ?? null;
    if (requests === null || failures === null) return null;
    return {
      requests: Math.max(requests, s.requests.sum),
      failures: Math.max(failures, s.failures.sum),
      callers: kind === 'model' ? Math.max(s.sharedCallers, s.callers!.size) : 0,
    };
  }

  function candidate(subject: AlertSubject, c: Counts): AlertCandidate {
    const share = c.failures / c.requests;
    return {
      subject,
      title: `Error rate ${Math.round(share * 100)}% for ${subject.kind} ${subject.value}`,
      description: `${c.failures} of ${c.requests} requests failed in ${cfg.windowMs / 60_000} min (threshold ${cfg.threshold * 100}%).`,
      figures: {
        observed: share,
        baseline: null,
        threshold: cfg.threshold,
        window_ms: cfg.windowMs,
        unit: 'ratio',
      },
    };
  }

  /** After a flush: subjects whose merged counts now fire and did not at their last decision. */
  function judgeLate(nowMs: number): void {
    const firingNow = (kind: Kind, id: string | null): boolean => {
      if (id === null) return false;
      const s = state[kind].peek(id, nowMs);
      return s !== undefined && s.firing;
    };
    for (const kind of KINDS) {
      for (const id of toJudge[kind]) {
        const s = state[kind].peek(id, nowMs);
        if (!s || s.firing) continue;
        const c = sharedOf(kind, id, s, nowMs);
        if (c === null || !fires(kind, c)) continue;
        s.firing = true;
        // The narrowest subject only, as on the event path: a key whose user fires is that user's incident.
        if (kind !== 'user' && firingNow('user', s.lastUser)) continue;
        if (kind === 'model' && firingNow('api_key', s.lastKey)) continue;
        fireLate?.(candidate({ kind, value: id }, c), nowMs);
      }
      toJudge[kind].clear();
    }
  }

  return {
    id: 'errors.rate',
    severity: 'MEDIUM',
    description: `Share of failed requests per user, key or model above ${cfg.threshold * 100}% over ${cfg.windowMs / 60_000} min (at least ${cfg.minRequests} requests and ${cfg.minFailures} failures).`,
    observe(event, ctx) {
      if (event.status === 'CANCELLED' || isAuthFailure(event)) return null;
      const failed = isRequestFailure(event);
      const now = ctx.nowMs;
      const model = event.model_used ?? event.model_requested;
      const ids: Record<Kind, string | null> = { user: event.user_id, api_key: event.api_key_id, model };
      let hit: AlertCandidate | null = null;
      const caller = event.api_key_id ?? event.user_id;
      for (const kind of KINDS) {
        const id = ids[kind];
        if (id === null) continue;
        const s = record(kind, id, failed, now);
        const w = sharedCounts?.[kind];
        w?.requests.add(id, 1, now);
        if (!failed) continue;
        w?.failures.add(id, 1, now);
        s.lastUser = event.user_id;
        s.lastKey = event.api_key_id;
        let callers = 0;
        if (kind === 'model') {
          callers = failingCallers(s, caller, failed, now);
          const across = caller === null ? null : sharedCallers?.add(id, caller, now);
          if (across != null) s.sharedCallers = across;
        }
        // Judged on the merged counts when fresh; when not, at the flush while the shared store answers.
        const c =
          sharedOf(kind, id, s, now) ??
          (shared?.available() ? null : { requests: s.requests.sum, failures: s.failures.sum, callers });
        if (c === null) {
          s.firing = false;
          continue;
        }
        s.firing = fires(kind, c);
        if (s.firing && hit === null) hit = candidate({ kind, value: id }, c);
      }
      return hit;
    },
    sweep: (nowMs) => state.user.sweep(nowMs) + state.api_key.sweep(nowMs) + state.model.sweep(nowMs),
    bindLateFiring: (fire) => {
      fireLate = fire;
    },
  };
}
