/**
 * The schemas of the config's structured values: budget and limit entries, the detection rules
 * (keys and defaults from each detector's DEFAULT_*_CONFIG) and the content policy's switches.
 * Used by config-schema.ts.
 */
import { z } from 'zod';
import { DEFAULT_AUTH_FAILURES_CONFIG } from '../detection/auth-repeated-failures.js';
import { DEFAULT_CONTENT_SECRET_CONFIG } from '../detection/content-secret.js';
import { DEFAULT_COST_BUDGET_CONFIG } from '../detection/cost-budget.js';
import type { DetectionConfig } from '../detection/default-detectors.js';
import { DEFAULT_ERRORS_RATE_CONFIG } from '../detection/errors-rate.js';
import { DEFAULT_NEW_NETWORK_CONFIG } from '../detection/key-new-network.js';
import { DEFAULT_CONTEXT_GROWTH_CONFIG } from '../detection/session-context-growth.js';
import { DEFAULT_TOKENS_SPIKE_CONFIG } from '../detection/tokens-spike.js';
import { DEFAULT_VOLUME_SPIKE_CONFIG } from '../detection/volume-spike.js';
import { PII_TYPES, SECRET_TYPES } from '../redaction/detector.js';
import { httpUrl, nonNegative, positive, positiveInt, setting } from './setting-schema.js';

/** One entry of `budgets`. */
/** One provider behind the gateway (src/providers/provider-router.ts). */
export const providerSchema = z.strictObject({
  name: z.string().min(1),
  api: z.enum(['openai', 'anthropic', 'gemini', 'ollama']),
  base_url: httpUrl,
  /** Model name patterns (`*` any run of characters) routed to this provider. */
  models: z.array(z.string().min(1)).default([]),
  /** Providers tried next, in order, on a connect error, timeout or 5xx before any byte was sent. */
  fallback: z.array(z.string().min(1)).default([]),
  /** Managed mode: a file holding this provider's key (never the key itself in the config). */
  key_file: z.string().min(1).nullable().default(null),
});

export const budgetSchema = z.strictObject({
  scope: z.enum(['key', 'user', 'feature', 'team']),
  /** The key id (virtual key id, else api_key_id fingerprint), user id, feature name or team. */
  subject: z.string().min(1),
  period: z.enum(['day', 'month']),
  limit_usd: positive(),
  /** Refuse requests once spend reaches the limit; otherwise only alert. */
  enforce: z.boolean(),
});

/** The schema of one threshold, from the type of its default (the detector module owns the value). */
function thresholdSchema(value: unknown): z.ZodType {
  if (typeof value === 'number') return nonNegative();
  if (typeof value === 'boolean') return z.boolean();
  if (Array.isArray(value)) return z.array(z.string());
  return z.string();
}

/**
 * One detection rule: `false` switches it off; an object overrides some of its thresholds. The
 * keys and their defaults come from the rule's DEFAULT_*_CONFIG, so a new threshold needs no edit
 * here; `fields` gives the keys whose type a default cannot tell.
 */
function ruleSchema(
  id: string,
  defaults: object,
  fields: Record<string, z.ZodType> = {},
): z.ZodOptional<z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(defaults)) {
    shape[key] = setting((fields[key] ?? thresholdSchema(value)).optional(), {
      description: '',
      shownDefault: value,
    });
  }
  return z
    .union([z.literal(false), z.strictObject(shape)])
    .optional()
    .meta({
      description: `\`${id}\`: \`false\` turns the rule off; an object overrides some thresholds (docs/detection.md)`,
    });
}

const budgetRuleSchema = budgetSchema.omit({ enforce: true });

/** One entry of `limits`. */
export const limitSchema = z
  .strictObject({
    scope: z.enum(['key', 'user', 'feature', 'team']),
    /** The key id (virtual key id, else api_key_id fingerprint), user id, feature name or team. */
    subject: z.string().min(1),
    rpm: positiveInt().optional(),
    tpm: positiveInt().optional(),
    concurrent: positiveInt().optional(),
  })
  .refine((l) => l.rpm !== undefined || l.tpm !== undefined || l.concurrent !== undefined, {
    message: 'needs at least one of rpm, tpm, concurrent',
  });

// The detector modules type their own config; the schema's shape is built from their defaults, so
// its inferred type is loose and is pinned to DetectionConfig here (the thresholds are checked again
// by each detector's resolveConfig).
export const detectionSchema = z
  .strictObject({
    'auth.repeated-failures': ruleSchema('auth.repeated-failures', DEFAULT_AUTH_FAILURES_CONFIG),
    'volume.spike': ruleSchema('volume.spike', DEFAULT_VOLUME_SPIKE_CONFIG),
    'tokens.spike': ruleSchema('tokens.spike', DEFAULT_TOKENS_SPIKE_CONFIG),
    'errors.rate': ruleSchema('errors.rate', DEFAULT_ERRORS_RATE_CONFIG),
    'session.context-growth': ruleSchema('session.context-growth', DEFAULT_CONTEXT_GROWTH_CONFIG),
    'cost.budget': ruleSchema('cost.budget', DEFAULT_COST_BUDGET_CONFIG, {
      budgets: z.array(budgetRuleSchema),
    }),
    'content.secret-in-prompt': ruleSchema('content.secret-in-prompt', DEFAULT_CONTENT_SECRET_CONFIG, {
      unattributed: z.enum(['prompt', 'both']),
    }),
    'content.secret-in-response': ruleSchema('content.secret-in-response', DEFAULT_CONTENT_SECRET_CONFIG, {
      unattributed: z.enum(['prompt', 'both']),
    }),
    'key.new-network': ruleSchema('key.new-network', DEFAULT_NEW_NETWORK_CONFIG),
    'provider.quota-exhausted': ruleSchema('provider.quota-exhausted', {}),
    'provider.quota-low': ruleSchema('provider.quota-low', { share: 0.1 }),
  })
  .prefault({})
  .meta({
    description: 'Per-rule detector settings (docs/detection.md); every rule is on with its defaults',
  }) as unknown as z.ZodType<DetectionConfig, DetectionConfig | undefined>;

/** What of prompts and responses is stored (docs/privacy.md). */
export const contentModes = z.enum(['none', 'redacted', 'full', 'encrypted']);

/** Redaction detectors by type. */
export const detectorSwitches = z
  .strictObject(
    Object.fromEntries(
      [...SECRET_TYPES, ...PII_TYPES].map((t) => [
        t,
        setting(z.boolean().optional(), {
          description: `\`${t}\` redaction detector on or off`,
          shownDefault: true,
        }),
      ]),
    ) as Record<(typeof SECRET_TYPES)[number] | (typeof PII_TYPES)[number], z.ZodOptional<z.ZodBoolean>>,
  )
  .prefault({})
  .meta({ description: 'Redaction detectors by type; an absent type stays on' });

/** What a key or a feature may change of the content policy. */
export const contentOverride = z.strictObject({
  mode: contentModes.optional(),
  detectors: detectorSwitches.optional(),
});
