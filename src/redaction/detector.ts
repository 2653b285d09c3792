/**
 * What every detector (secret or personal data) shares: a type name, used in the
 * `[REDACTED:<type>]` marker and in `event.redactions`, and a `find` that reports spans.
 */

/** Secret types: never stored in clear, whatever the content mode. */
export const SECRET_TYPES = [
  'anthropic_key',
  'openai_key',
  'aws_access_key',
  'github_token',
  'slack_token',
  'google_api_key',
  'stripe_key',
  'jwt',
  'private_key',
  'db_password',
  'password',
  'generic_secret',
] as const;

/** Personal-data types: redacted in `redacted` mode, kept in `full` and `encrypted`. */
export const PII_TYPES = ['email', 'phone', 'credit_card', 'iban', 'ipv4', 'ipv6', 'ssn'] as const;

export type SecretType = (typeof SECRET_TYPES)[number];
export type PiiType = (typeof PII_TYPES)[number];
export type DetectorType = SecretType | PiiType;

/** One span of `text` to replace; `end` is exclusive (UTF-16 offsets, like `String.slice`). */
export interface Finding {
  type: DetectorType;
  start: number;
  end: number;
}

/**
 * A compiled detector. `find` appends the spans it sees to `out` and must run in time linear
 * in `text.length` (re2js patterns, or hand-written scans with a bounded window per anchor).
 */
export interface Detector {
  readonly type: DetectorType;
  find(text: string, out: Finding[]): void;
}

export function isSecretType(type: string): type is SecretType {
  return (SECRET_TYPES as readonly string[]).includes(type);
}
