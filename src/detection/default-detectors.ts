import type { Detector } from './detector.js';
import type { AuthFailuresConfig } from './auth-repeated-failures.js';
import { createAuthFailuresDetector } from './auth-repeated-failures.js';
import type { ContentSecretConfig } from './content-secret.js';
import { createSecretInPromptDetector, createSecretInResponseDetector } from './content-secret.js';
import type { CostBudgetConfig } from './cost-budget.js';
import { createCostBudgetDetector } from './cost-budget.js';
import type { ErrorsRateConfig } from './errors-rate.js';
import { createErrorsRateDetector } from './errors-rate.js';
import type { NewNetworkConfig } from './key-new-network.js';
import { createNewNetworkDetector } from './key-new-network.js';
import type { ContextGrowthConfig } from './session-context-growth.js';
import { createContextGrowthDetector } from './session-context-growth.js';
import type { TokensSpikeConfig } from './tokens-spike.js';
import { createTokensSpikeDetector } from './tokens-spike.js';
import type { VolumeSpikeConfig } from './volume-spike.js';
import { createVolumeSpikeDetector } from './volume-spike.js';
import { createQuotaExhaustedDetector } from './provider-quota-exhausted.js';
import type { SharedWindows } from './shared-windows.js';

/**
 * Detection settings (the `detection:` section of tollgate.config.yaml). Every rule is on with
 * its defaults; `false` switches one off, an object overrides some of its thresholds.
 */
export interface DetectionConfig {
  'auth.repeated-failures'?: Partial<AuthFailuresConfig> | false;
  'volume.spike'?: Partial<VolumeSpikeConfig> | false;
  'tokens.spike'?: Partial<TokensSpikeConfig> | false;
  'errors.rate'?: Partial<ErrorsRateConfig> | false;
  'session.context-growth'?: Partial<ContextGrowthConfig> | false;
  'cost.budget'?: Partial<CostBudgetConfig> | false;
  'content.secret-in-prompt'?: Partial<ContentSecretConfig> | false;
  'content.secret-in-response'?: Partial<ContentSecretConfig> | false;
  'key.new-network'?: Partial<NewNetworkConfig> | false;
  'provider.quota-exhausted'?: Record<string, never> | false;
  /** Not an event rule: read from provider answers' headers (src/access/provider-quota-tracker.ts). */
  'provider.quota-low'?: { share?: number } | false;
}

/** Rule ids of the built-in detectors, in evaluation order. */
export const RULE_IDS = [
  'auth.repeated-failures',
  'volume.spike',
  'tokens.spike',
  'errors.rate',
  'session.context-growth',
  'cost.budget',
  'content.secret-in-prompt',
  'content.secret-in-response',
  'key.new-network',
  'provider.quota-exhausted',
] as const;

/**
 * Builds the built-in detectors from config. Throws TG_ERR_CONFIG_INVALID on a bad threshold.
 * With `shared` windows (replicas on Redis), every stateful rule decides over every replica:
 * `auth.repeated-failures`, `volume.spike`, `tokens.spike`, `errors.rate` and `cost.budget` on
 * counts summed in Redis, `session.context-growth` on each session's run kept in Redis and
 * `key.new-network` on each key's networks kept in Redis; the content rules need no state
 * (see docs/detection.md "Several replicas").
 */
export function createDetectors(config: DetectionConfig = {}, shared?: SharedWindows): Detector[] {
  const out: Detector[] = [];
  const add = <T>(c: Partial<T> | false | undefined, make: (o: Partial<T> | undefined) => Detector): void => {
    if (c !== false) out.push(make(c));
  };
  add(config['auth.repeated-failures'], (o) => createAuthFailuresDetector(o, shared));
  add(config['volume.spike'], (o) => createVolumeSpikeDetector(o, shared));
  add(config['tokens.spike'], (o) => createTokensSpikeDetector(o, shared));
  add(config['errors.rate'], (o) => createErrorsRateDetector(o, shared));
  add(config['session.context-growth'], (o) => createContextGrowthDetector(o, shared));
  add(config['cost.budget'], (o) => createCostBudgetDetector(o, shared));
  add(config['content.secret-in-prompt'], createSecretInPromptDetector);
  add(config['content.secret-in-response'], createSecretInResponseDetector);
  add(config['key.new-network'], (o) => createNewNetworkDetector(o, shared));
  add(config['provider.quota-exhausted'], createQuotaExhaustedDetector);
  return out;
}
