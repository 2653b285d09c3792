import type { AlertCandidate, DetectionContext, Detector, DetectorResult } from './detector.js';
import type { SharedWindow, SharedWindows } from './shared-windows.js';
import type { AuditEvent } from '../core/audit-event.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { BucketedWindow } from './bucketed-window.js';
import { resolveConfig } from './config-check.js';
import { isAuthFailure } from './event-outcome.js';

export interface AuthFailuresConfig {
  /** Failures per key fingerprint or per IP within `windowMs` that fire the rule. */
  threshold: number;
  windowMs: number;
  /** Distinct key fingerprints failing from one IP within `distinctKeysWindowMs` that fire the rule (credential stuffing). */
  distinctKeysThreshold: number;
  distinctKeysWindowMs: number;
  /** Idle subjects are forgotten after this long. */
  ttlMs: number;
  /** Hard cap on tracked subjects (keys + IPs); least recently used are evicted. */
  maxSubjects: number;
}

export const DEFAULT_AUTH_FAILURES_CONFIG: AuthFailuresConfig = {
  threshold: 5,
  windowMs: 60_000,
  distinctKeysThreshold: 4,
  distinctKeysWindowMs: 5 * 60_000,
  ttlMs: 30 * 60_000,
  maxSubjects: 100_000,
};

/** The window slides in twelfths, so it is exact to within `windowMs / 12`. */
const BUCKETS = 12;
/** Distinct keys remembered per IP; enough to count past any sane threshold. */
const MAX_KEYS_PER_IP = 256;

interface SubjectState {
  failures: BucketedWindow;
  /** Failures in the window as last decided on: this replica's, or all replicas' when shared. */
  lastTotal: number;
  /** Distinct keys failing from this IP as last decided on (IP subjects only). */
  lastDistinct: number;
  /** Key fingerprint → last failure ms, oldest first (IP subjects only). */
  keys: Map<string, number> | null;
}

/**
 * `auth.repeated-failures`: brute force on one key, or one address trying many keys. With
 * `shared` windows the failure counts per key and per IP are those of every replica (an attacker
 * spreading guesses over replicas is counted once), and a merged total crossing the threshold
 * fires even when no single replica's event did. Distinct keys per IP are shared the same way.
 */
export function createAuthFailuresDetector(
  override?: Partial<AuthFailuresConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('auth.repeated-failures', DEFAULT_AUTH_FAILURES_CONFIG, override);
  const state = {
    key: new BoundedStateMap<SubjectState>(cfg.ttlMs, cfg.maxSubjects),
    ip: new BoundedStateMap<SubjectState>(cfg.ttlMs, cfg.maxSubjects),
  };
  const bucketMs = Math.max(1, Math.ceil(cfg.windowMs / BUCKETS));
  const windowLabel = `${Math.round(cfg.windowMs / 1000)} s`;
  let fireLate: ((r: DetectorResult, nowMs: number) => void) | null = null;
  const spec = { windowMs: cfg.windowMs, bucketMs };
  const merged =
    (kind: 'key' | 'ip') =>
    (id: string, total: number, nowMs: number): void => {
      const s = state[kind].peek(id, nowMs);
      if (!s) return;
      const before = s.lastTotal;
      s.lastTotal = Math.max(total, s.failures.sum);
      if (
        before >= cfg.threshold ||
        s.lastTotal < cfg.threshold ||
        s.lastDistinct >= cfg.distinctKeysThreshold
      )
        return;
      fireLate?.(
        kind === 'key' ? keyCandidate(id, s.lastTotal) : ipCandidate(id, s.lastTotal, s.lastDistinct),
        nowMs,
      );
    };
  const mergedDistinct = (ip: string, distinct: number, nowMs: number): void => {
    const s = state.ip.peek(ip, nowMs);
    if (!s) return;
    const before = s.lastDistinct;
    s.lastDistinct = Math.max(distinct, s.keys?.size ?? 0);
    if (
      before >= cfg.distinctKeysThreshold ||
      s.lastDistinct < cfg.distinctKeysThreshold ||
      s.lastTotal >= cfg.threshold
    )
      return;
    fireLate?.(ipCandidate(ip, s.lastTotal, s.lastDistinct), nowMs);
  };
  // Distinct keys per IP across replicas: the most recent MAX_KEYS_PER_IP, like the local map.
  const sharedKeys =
    shared?.openSet(
      'auth.ipkeys',
      { windowMs: cfg.distinctKeysWindowMs, maxMembers: MAX_KEYS_PER_IP },
      mergedDistinct,
    ) ?? null;
  const sharedWindow: Record<'key' | 'ip', SharedWindow | null> = {
    key: shared?.open('auth.key', spec, merged('key')) ?? null,
    ip: shared?.open('auth.ip', spec, merged('ip')) ?? null,
  };

  function count(kind: 'key' | 'ip', id: string, nowMs: number): SubjectState {
    const withKeys = kind === 'ip';
    const s = state[kind].touch(id, nowMs, () => ({
      failures: new BucketedWindow(bucketMs, BUCKETS),
      lastTotal: 0,
      lastDistinct: 0,
      keys: withKeys ? new Map() : null,
    }));
    s.failures.advance(nowMs);
    s.failures.add(1);
    s.lastTotal = Math.max(s.failures.sum, sharedWindow[kind]?.add(id, 1, nowMs) ?? 0);
    return s;
  }

  function keyCandidate(keyId: string, failures: number): AlertCandidate {
    return {
      subject: { kind: 'api_key', value: keyId },
      title: `Repeated failed authentication for key ${keyId}`,
      description: `${failures} failed authentications for this key within ${windowLabel} (threshold ${cfg.threshold}).`,
      figures: {
        observed: failures,
        baseline: null,
        threshold: cfg.threshold,
        window_ms: cfg.windowMs,
        unit: 'failures',
      },
    };
  }

  function ipCandidate(ip: string, failures: number, distinct: number): AlertCandidate {
    const byKeys = distinct >= cfg.distinctKeysThreshold;
    return {
      subject: { kind: 'ip', value: ip },
      title: byKeys
        ? `Credential stuffing suspected from ${ip}: ${distinct} different keys failed`
        : `Repeated failed authentication from ${ip}`,
      description: `${failures} failed authentications within ${windowLabel} (threshold ${cfg.threshold}); ${distinct} distinct key fingerprints failed within ${Math.round(cfg.distinctKeysWindowMs / 60_000)} min (threshold ${cfg.distinctKeysThreshold}).`,
      figures: byKeys
        ? {
            observed: distinct,
            baseline: null,
            threshold: cfg.distinctKeysThreshold,
            window_ms: cfg.distinctKeysWindowMs,
            unit: 'distinct_keys',
          }
        : {
            observed: failures,
            baseline: null,
            threshold: cfg.threshold,
            window_ms: cfg.windowMs,
            unit: 'failures',
          },
    };
  }

  return {
    id: 'auth.repeated-failures',
    severity: 'HIGH',
    description:
      'Failed authentications per key fingerprint and per client IP in a sliding window, and many different keys failing from one IP (credential stuffing).',
    observe(event: AuditEvent, ctx: DetectionContext): DetectorResult {
      if (!isAuthFailure(event)) return null;
      const now = ctx.nowMs;
      const out: AlertCandidate[] = [];
      const keyId = event.api_key_id;
      if (keyId !== null) {
        const s = count('key', keyId, now);
        if (s.lastTotal >= cfg.threshold) out.push(keyCandidate(keyId, s.lastTotal));
      }
      const ip = event.ip_address;
      if (ip !== null) {
        const s = count('ip', ip, now);
        const keys = s.keys!;
        if (keyId !== null) {
          keys.delete(keyId);
          keys.set(keyId, now);
          if (keys.size > MAX_KEYS_PER_IP) keys.delete(keys.keys().next().value!);
        }
        for (const [k, t] of keys) {
          if (now - t <= cfg.distinctKeysWindowMs) break;
          keys.delete(k);
        }
        const acrossReplicas = keyId === null ? null : sharedKeys?.add(ip, keyId, now);
        s.lastDistinct = Math.max(keys.size, acrossReplicas ?? 0);
        if (s.lastTotal >= cfg.threshold || s.lastDistinct >= cfg.distinctKeysThreshold)
          out.push(ipCandidate(ip, s.lastTotal, s.lastDistinct));
      }
      return out.length === 0 ? null : out;
    },
    sweep: (nowMs) => state.key.sweep(nowMs) + state.ip.sweep(nowMs),
    bindLateFiring: (fire) => {
      fireLate = fire;
    },
  };
}
