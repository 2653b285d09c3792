import type { Alert, AlertChange } from '../alerting/alert.js';
import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { Log } from '../core/log.js';
import type { BudgetRule } from './cost-budget.js';
import { createDetectors, type DetectionConfig } from './default-detectors.js';
import { createDetectionEngine, type DetectionEngine } from './detection-engine.js';
import type { IncidentClaims, SharedWindows } from './shared-windows.js';

/** How often idle incidents are closed and windows aged out. */
const SWEEP_MS = 60_000;

/**
 * The config's budgets feed the `cost.budget` detector (80 % / 100 % and burn-rate alerts),
 * beside any budgets the rule lists itself.
 */
export function detectionWithBudgets(
  detection: DetectionConfig,
  budgets: readonly BudgetRule[],
): DetectionConfig {
  const rule = detection['cost.budget'];
  if (budgets.length === 0 || rule === false) return detection;
  const rules = budgets.map((b) => ({
    scope: b.scope,
    subject: b.subject,
    period: b.period,
    limit_usd: b.limit_usd,
  }));
  return { ...detection, 'cost.budget': { ...rule, budgets: [...(rule?.budgets ?? []), ...rules] } };
}

/**
 * The detection engine from config: the built-in detectors (state shared through `shared` when
 * replicas share Redis), alerts handed to `onAlert`, and a sweep every minute until close.
 */
export function createDetection(
  config: { detection: DetectionConfig; budgets: readonly BudgetRule[] },
  deps: {
    clock: Clock;
    log: Log;
    shared?: (SharedWindows & IncidentClaims) | null | undefined;
    onAlert: (alert: Alert, change: AlertChange) => void;
  },
  life: Lifetime,
): DetectionEngine {
  const shared = deps.shared ?? undefined;
  const detection = createDetectionEngine({
    detectors: createDetectors(detectionWithBudgets(config.detection, config.budgets), shared),
    clock: deps.clock,
    ...(shared ? { incidentClaims: shared } : {}),
    onAlert: deps.onAlert,
    onError: (_err, where) => deps.log.warn({ where }, 'detector error'),
  });
  const sweep = setInterval(() => detection.sweep(), SWEEP_MS);
  sweep.unref();
  life.defer('detection sweep', () => clearInterval(sweep));
  return detection;
}
