/**
 * The redact stage (src/core/stages.ts `Redactor`): applies the content policy to one
 * event before it reaches the store, an export, an alert or a log line.
 *
 * - prompt and response: per the effective mode (see content-policy.ts).
 *
 * The fields around the content (ids, headers, model, path, error text) are cleaned before this
 * stage, by the one field cleaning of field-cleaning.ts that the pipeline applies to every event;
 * `apply` adds its counts to the ones that cleaning recorded in `event.redactions`.
 *
 * Streamed responses reach this stage already assembled, so a secret split across SSE
 * chunks is whole again here and is redacted like any other.
 */
import type { AuditEvent, ContentMode, RedactionCount } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type { RawContent, Redactor } from '../core/stages.js';
import { contentDigest } from './content-digest.js';
import {
  DEFAULT_CONTENT_POLICY,
  policyUsesEncryption,
  resolvePolicy,
  validateContentPolicy,
  type ContentPolicy,
  type EffectivePolicy,
} from './content-policy.js';
import { PII_TYPES, SECRET_TYPES, type DetectorType } from './detector.js';
import { createFieldCleaner, type FieldCleaner } from './field-cleaning.js';
import {
  addRedactionCounts,
  createTextRedactor,
  type RedactionResult,
  type TextRedactor,
} from './text-redactor.js';

/** Encrypts stored content for one person (src/privacy `ContentCipher` implements it). */
export interface ContentEncryptor {
  /** Returns the stored form (`enc:v1:…`) of `plaintext` under the data key of `userId` (null: anonymous). */
  encryptFor(userId: string | null, plaintext: string): string;
}

export interface RedactorDeps {
  /** Required when any layer of the policy uses `encrypted`. */
  encryptor?: ContentEncryptor;
}

/** The redact stage plus text helpers for other callers (alerts, logs, exports). */
export interface TollgateRedactor extends Redactor {
  /** Secrets and personal data replaced, per the deployment's detector switches. */
  redactText(text: string): RedactionResult;
  /** Secrets only (for free text that is not content: error messages, headers). */
  redactSecrets(text: string): RedactionResult;
  /** The field cleaning for the same policy (the pipeline's `fieldCleaner`). */
  readonly fields: FieldCleaner;
}

interface Compiled {
  mode: ContentMode;
  /** Secrets and personal data. */
  all: TextRedactor;
  /** Secrets only. */
  secrets: TextRedactor;
}

export function createRedactor(
  policy: ContentPolicy = DEFAULT_CONTENT_POLICY,
  deps: RedactorDeps = {},
): TollgateRedactor {
  validateContentPolicy(policy);
  if (policyUsesEncryption(policy) && deps.encryptor === undefined)
    throw new TollgateError('TG_ERR_CRYPTO_KEY_MISSING');
  const options =
    policy.phoneDefaultCountry !== undefined ? { phoneDefaultCountry: policy.phoneDefaultCountry } : {};

  // Compiled once per distinct detector set; overrides are few and named in config.
  const byDetectors = new Map<string, TextRedactor>();
  const compile = (types: DetectorType[]): TextRedactor => {
    const key = types.join(',');
    let r = byDetectors.get(key);
    if (r === undefined) {
      r = createTextRedactor(new Set(types), options);
      byDetectors.set(key, r);
    }
    return r;
  };
  const compileEffective = (e: EffectivePolicy): Compiled => {
    const secrets = SECRET_TYPES.filter((t) => e.detectors[t]);
    const pii = PII_TYPES.filter((t) => e.detectors[t]);
    return { mode: e.mode, all: compile([...secrets, ...pii]), secrets: compile(secrets) };
  };

  const base = compileEffective(resolvePolicy(policy, null, null));
  const layered = new Map<string, Compiled>();
  for (const k of Object.keys(policy.perKey ?? {}))
    layered.set(`${k}\u0000`, compileEffective(resolvePolicy(policy, k, null)));
  for (const f of Object.keys(policy.perFeature ?? {})) {
    layered.set(`\u0000${f}`, compileEffective(resolvePolicy(policy, null, f)));
    for (const k of Object.keys(policy.perKey ?? {}))
      layered.set(`${k}\u0000${f}`, compileEffective(resolvePolicy(policy, k, f)));
  }
  const forEvent = (event: AuditEvent): Compiled => {
    if (layered.size === 0) return base;
    const key = event.virtual_key_id ?? event.api_key_id;
    const k = key !== null && policy.perKey?.[key] ? key : '';
    const f =
      event.feature_name !== null && policy.perFeature?.[event.feature_name] ? event.feature_name : '';
    return layered.get(`${k}\u0000${f}`) ?? base;
  };

  const encryptor = deps.encryptor;

  return {
    redactText: (text) => base.all.redact(text),
    redactSecrets: (text) => base.secrets.redact(text),
    fields: createFieldCleaner(policy),

    apply(event: AuditEvent, raw: RawContent): void {
      // What the field cleaning already redacted around the content (the cleaned user_id is
      // the erasure subject).
      let counts: RedactionCount[] = event.redactions;
      const c = forEvent(event);
      let mode = c.mode;
      const store = (value: string | null): string | null => {
        if (value === null) return null;
        switch (mode) {
          case 'redacted': {
            const r = c.all.redact(value);
            counts = addRedactionCounts(counts, r.redactions);
            return r.text;
          }
          case 'none': {
            const r = c.all.redact(value);
            counts = addRedactionCounts(counts, r.redactions);
            return contentDigest(r.text, value);
          }
          case 'full': {
            const r = c.secrets.redact(value);
            counts = addRedactionCounts(counts, r.redactions);
            return r.text;
          }
          case 'encrypted': {
            const r = c.secrets.redact(value);
            counts = addRedactionCounts(counts, r.redactions);
            return encryptor!.encryptFor(event.user_id, r.text);
          }
        }
      };
      const counted = counts;
      try {
        event.prompt = store(raw.prompt);
        event.response = store(raw.response);
      } catch {
        // The data path never throws (a key store that cannot answer must not lose the
        // event); store what `none` would, and say so in content_mode.
        counts = counted;
        mode = 'none';
        event.prompt = store(raw.prompt);
        event.response = store(raw.response);
      }
      event.content_mode = mode;
      event.redactions = counts;
    },
  };
}
