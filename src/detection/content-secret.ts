import type { AuditEvent, RedactionCount } from '../core/audit-event.js';
import type { AlertSubject } from '../alerting/alert.js';
import type { DetectionContext, Detector } from './detector.js';
import { SECRET_REDACTION_TYPES } from './secret-types.js';

export interface ContentSecretConfig {
  /** Redaction types that count as credentials. */
  secretTypes: readonly string[];
  /**
   * Without the `redactionsByPart` hint the event cannot say where a secret was. `prompt`
   * (default) reports it as `content.secret-in-prompt`; `both` raises both rules.
   */
  unattributed: 'prompt' | 'both';
}

export const DEFAULT_CONTENT_SECRET_CONFIG: ContentSecretConfig = {
  secretTypes: SECRET_REDACTION_TYPES,
  unattributed: 'prompt',
};

function subjectOf(event: AuditEvent): AlertSubject {
  if (event.user_id !== null) return { kind: 'user', value: event.user_id };
  if (event.api_key_id !== null) return { kind: 'api_key', value: event.api_key_id };
  return { kind: 'ip', value: event.ip_address ?? 'unknown' };
}

function createContentSecretDetector(
  part: 'prompt' | 'response',
  override?: Partial<ContentSecretConfig>,
): Detector {
  const cfg = { ...DEFAULT_CONTENT_SECRET_CONFIG, ...(override ?? {}) };
  const secret = new Set(cfg.secretTypes);
  const id = part === 'prompt' ? 'content.secret-in-prompt' : 'content.secret-in-response';
  return {
    id,
    severity: 'HIGH',
    description:
      part === 'prompt'
        ? 'The redactor found a credential (API key, token, private key, connection string) in a prompt.'
        : 'The redactor found a credential in a model response.',
    observe(event: AuditEvent, ctx: DetectionContext) {
      const byPart = ctx.hints.redactionsByPart;
      let found: readonly RedactionCount[];
      let located = true;
      if (byPart) found = byPart[part];
      else if (part === 'prompt' || cfg.unattributed === 'both') {
        found = event.redactions;
        located = false;
      } else return null;
      const types: string[] = [];
      let count = 0;
      for (const r of found) {
        if (r.count > 0 && secret.has(r.type)) {
          types.push(r.type);
          count += r.count;
        }
      }
      if (count === 0) return null;
      const subject = subjectOf(event);
      return {
        subject,
        title: `Credential in ${part}: ${types.join(', ')} (${subject.kind} ${subject.value})`,
        description: `${count} credential(s) of type ${types.join(', ')} redacted from the ${located ? part : 'prompt or response (location not reported)'}.`,
        figures: { observed: count, baseline: null, threshold: 1, window_ms: 0, unit: 'secrets' },
      };
    },
    sweep: () => 0,
  };
}

/** `content.secret-in-prompt`: a credential was pasted into a prompt. */
export function createSecretInPromptDetector(override?: Partial<ContentSecretConfig>): Detector {
  return createContentSecretDetector('prompt', override);
}

/** `content.secret-in-response`: a credential came back in a response. */
export function createSecretInResponseDetector(override?: Partial<ContentSecretConfig>): Detector {
  return createContentSecretDetector('response', override);
}
