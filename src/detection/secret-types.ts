/**
 * Redaction types that name a credential (the secret types of src/redaction/detector.ts plus a
 * few a custom redactor may report; kept here so detection does not depend on redaction). The content rules fire on these; personal data types
 * (`email`, `phone`, `credit_card`, `iban`, `ipv4`, `ipv6`, `ssn`, …) are sensitive but are not
 * secrets and raise no alert.
 */
export const SECRET_REDACTION_TYPES: readonly string[] = [
  'openai_key',
  'anthropic_key',
  'aws_access_key',
  'aws_secret_key',
  'github_token',
  'slack_token',
  'google_api_key',
  'stripe_key',
  'jwt',
  'private_key',
  'db_connection_string',
  'db_password',
  'password',
  'generic_secret',
];
