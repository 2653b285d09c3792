import type { AlertCandidate, Detector, DetectorResult } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { resolveConfig } from './config-check.js';
import { extendRun, NO_RUN, type GrowthRun, type SharedWindows } from './shared-windows.js';

export interface ContextGrowthConfig {
  /** Consecutive requests of a session whose input tokens each grew. */
  minConsecutive: number;
  /** Input tokens of the latest request must be at least this… */
  minInputTokens: number;
  /** …and at least this multiple of the first request of the growing run. */
  minGrowthFactor: number;
  /** A session idle this long is forgotten (and starts over). */
  ttlMs: number;
  maxSubjects: number;
}

export const DEFAULT_CONTEXT_GROWTH_CONFIG: ContextGrowthConfig = {
  minConsecutive: 8,
  minInputTokens: 16_000,
  minGrowthFactor: 2.5,
  ttlMs: 30 * 60_000,
  maxSubjects: 200_000,
};

interface SessionState {
  /** This replica's own run (the fallback when the shared one is not known). */
  own: GrowthRun;
  /** Whether the last decision on this session fired (a merged run that fires is reported late only if not). */
  fired: boolean;
}

/**
 * `session.context-growth`: the silent token leak — an agent or chat loop that re-sends its whole
 * history, so every request of the session is larger than the last. Applications that trim or
 * summarise their context break the run and stay quiet. A repeated request with the same input
 * (a retry) neither extends nor breaks the run.
 *
 * With `shared` windows (replicas), a session's requests may land on any replica: its run is kept
 * in Redis (last input, run length, run start per session, extended at each 200 ms flush in flush
 * order) and decided on as a whole. A replica that has no fresh shared run for the session waits
 * for its flush (the merged run fires late); while Redis is down, it decides on its own run.
 */
export function createContextGrowthDetector(
  override?: Partial<ContextGrowthConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('session.context-growth', DEFAULT_CONTEXT_GROWTH_CONFIG, override);
  const state = new BoundedStateMap<SessionState>(cfg.ttlMs, cfg.maxSubjects);
  let fireLate: ((r: DetectorResult, nowMs: number) => void) | null = null;
  const runs =
    shared?.openRuns('session.growth', { ttlMs: cfg.ttlMs }, (sessionId, run, nowMs) => {
      const s = state.peek(sessionId, nowMs);
      if (!s || s.fired) return;
      const c = candidate(sessionId, run);
      if (c === null) return;
      s.fired = true;
      fireLate?.(c, nowMs);
    }) ?? null;

  function candidate(sessionId: string, r: GrowthRun): AlertCandidate | null {
    const input = r.last;
    if (
      r.run < cfg.minConsecutive ||
      input < cfg.minInputTokens ||
      input < cfg.minGrowthFactor * Math.max(1, r.start)
    )
      return null;
    return {
      subject: { kind: 'session', value: sessionId },
      title: `Context growing without bound in session ${sessionId}`,
      description: `Input tokens grew on ${r.run} consecutive requests, from ${r.start} to ${input}.`,
      figures: {
        observed: input,
        baseline: r.start,
        threshold: Math.max(cfg.minInputTokens, cfg.minGrowthFactor * r.start),
        window_ms: 0,
        unit: 'input_tokens',
      },
    };
  }

  return {
    id: 'session.context-growth',
    severity: 'MEDIUM',
    description: `A session whose input tokens grew on ${cfg.minConsecutive} consecutive requests to at least ${cfg.minInputTokens} tokens and ${cfg.minGrowthFactor}x its start.`,
    observe(event, ctx) {
      const sessionId = event.session_id;
      const input = event.input_tokens;
      if (sessionId === null || input === null) return null;
      const s = state.touch(sessionId, ctx.nowMs, () => ({ own: NO_RUN, fired: false }));
      s.own = extendRun(s.own, input);
      const merged = runs?.add(sessionId, input, ctx.nowMs) ?? null;
      // No fresh shared run while the shared store answers: the flush decides (late firing).
      if (merged === null && runs !== null && shared!.available()) {
        s.fired = false;
        return null;
      }
      const c = candidate(sessionId, merged ?? s.own);
      s.fired = c !== null;
      return c;
    },
    sweep: (nowMs) => state.sweep(nowMs),
    bindLateFiring: (fire) => {
      fireLate = fire;
    },
  };
}
