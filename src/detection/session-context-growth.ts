import type { Detector } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { resolveConfig } from './config-check.js';

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
  lastInput: number;
  /** Requests in the current growing run, counting its first. */
  run: number;
  runStartInput: number;
}

/**
 * `session.context-growth`: the silent token leak — an agent or chat loop that re-sends its whole
 * history, so every request of the session is larger than the last. Applications that trim or
 * summarise their context break the run and stay quiet. A repeated request with the same input
 * (a retry) neither extends nor breaks the run.
 */
export function createContextGrowthDetector(override?: Partial<ContextGrowthConfig>): Detector {
  const cfg = resolveConfig('session.context-growth', DEFAULT_CONTEXT_GROWTH_CONFIG, override);
  const state = new BoundedStateMap<SessionState>(cfg.ttlMs, cfg.maxSubjects);
  return {
    id: 'session.context-growth',
    severity: 'MEDIUM',
    description: `A session whose input tokens grew on ${cfg.minConsecutive} consecutive requests to at least ${cfg.minInputTokens} tokens and ${cfg.minGrowthFactor}x its start.`,
    observe(event, ctx) {
      const sessionId = event.session_id;
      const input = event.input_tokens;
      if (sessionId === null || input === null) return null;
      const s = state.touch(sessionId, ctx.nowMs, () => ({ lastInput: -1, run: 0, runStartInput: input }));
      if (input > s.lastInput && s.run > 0) s.run++;
      else if (input < s.lastInput || s.run === 0) {
        s.run = 1;
        s.runStartInput = input;
      }
      s.lastInput = input;
      if (
        s.run >= cfg.minConsecutive &&
        input >= cfg.minInputTokens &&
        input >= cfg.minGrowthFactor * Math.max(1, s.runStartInput)
      ) {
        return {
          subject: { kind: 'session', value: sessionId },
          title: `Context growing without bound in session ${sessionId}`,
          description: `Input tokens grew on ${s.run} consecutive requests, from ${s.runStartInput} to ${input}.`,
          figures: {
            observed: input,
            baseline: s.runStartInput,
            threshold: Math.max(cfg.minInputTokens, cfg.minGrowthFactor * s.runStartInput),
            window_ms: 0,
            unit: 'input_tokens',
          },
        };
      }
      return null;
    },
    sweep: (nowMs) => state.sweep(nowMs),
  };
}
