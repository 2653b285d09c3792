/**
 * The content policy: what of a prompt and response is stored (DESIGN.md "content").
 *
 * | mode        | prompt / response stored as                                   |
 * | ----------- | ------------------------------------------------------------- |
 * | `none`      | `sha256:<hex>:len=<n>` only (see `contentDigest`)             |
 * | `redacted`  | text with secrets and personal data replaced (the default)    |
 * | `full`      | text with secrets replaced, personal data kept                |
 * | `encrypted` | secrets replaced, then AES-256-GCM under the person's data key |
 *
 * Secrets are replaced in every mode: DESIGN.md "never store … a secret found in content".
 */
import type { CountryCode } from 'libphonenumber-js/max';
import type { ContentMode } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import { PII_TYPES, SECRET_TYPES, type DetectorType } from './detector.js';

/** Detector switches by type; an absent type keeps its default (on). */
export type DetectorSwitches = Partial<Record<DetectorType, boolean>>;

/** What a key or a feature may change. */
export interface ContentPolicyOverride {
  mode?: ContentMode;
  detectors?: DetectorSwitches;
}

export interface ContentPolicy {
  mode: ContentMode;
  detectors?: DetectorSwitches;
  /** Region for phone numbers written without +country code. Default 'US'. */
  phoneDefaultCountry?: CountryCode;
  /** By `virtual_key_id` (or `api_key_id` when there is no virtual key). Wins over `perFeature`. */
  perKey?: Record<string, ContentPolicyOverride>;
  /** By `feature_name`. */
  perFeature?: Record<string, ContentPolicyOverride>;
}

export const CONTENT_MODES: readonly ContentMode[] = ['none', 'redacted', 'full', 'encrypted'];

/** Every detector on. */
export const DEFAULT_DETECTORS: Readonly<Record<DetectorType, boolean>> = Object.fromEntries(
  [...SECRET_TYPES, ...PII_TYPES].map((t) => [t, true]),
) as Record<DetectorType, boolean>;

/** Stored redacted, every detector on. */
export const DEFAULT_CONTENT_POLICY: ContentPolicy = { mode: 'redacted' };

/** The policy for one event, after overrides. */
export interface EffectivePolicy {
  mode: ContentMode;
  detectors: Readonly<Record<DetectorType, boolean>>;
}

export function resolvePolicy(
  policy: ContentPolicy,
  keyId: string | null,
  feature: string | null,
): EffectivePolicy {
  const layers: ContentPolicyOverride[] = [policy];
  const byFeature = feature !== null ? policy.perFeature?.[feature] : undefined;
  const byKey = keyId !== null ? policy.perKey?.[keyId] : undefined;
  if (byFeature) layers.push(byFeature);
  if (byKey) layers.push(byKey);
  let mode = policy.mode;
  const detectors: Record<DetectorType, boolean> = { ...DEFAULT_DETECTORS };
  for (const l of layers) {
    if (l.mode !== undefined) mode = l.mode;
    for (const [t, on] of Object.entries(l.detectors ?? {})) {
      if (t in detectors && typeof on === 'boolean') detectors[t as DetectorType] = on;
    }
  }
  return { mode, detectors };
}

/** Rejects unknown modes and detector names (a typo must not silently turn a detector off). */
export function validateContentPolicy(policy: ContentPolicy): void {
  const check = (o: ContentPolicyOverride, where: string): void => {
    if (o.mode !== undefined && !CONTENT_MODES.includes(o.mode)) {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: `${where}.mode` });
    }
    for (const t of Object.keys(o.detectors ?? {})) {
      if (!(t in DEFAULT_DETECTORS))
        throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: `${where}.detectors.${t}` });
    }
  };
  check(policy, 'content');
  for (const [k, o] of Object.entries(policy.perKey ?? {})) check(o, `content.perKey.${k}`);
  for (const [k, o] of Object.entries(policy.perFeature ?? {})) check(o, `content.perFeature.${k}`);
}

/** True when any layer of the policy can select `encrypted`. */
export function policyUsesEncryption(policy: ContentPolicy): boolean {
  const layers = [policy, ...Object.values(policy.perKey ?? {}), ...Object.values(policy.perFeature ?? {})];
  return layers.some((l) => l.mode === 'encrypted');
}
