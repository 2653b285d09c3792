/**
 * The configuration as an auditor may read it (the evidence bundle's `config` section): every
 * setting, with each secret replaced by `[removed]` (null stays null, so "not set" still shows),
 * and URLs cut to their scheme, host and port when they may carry a credential in their user
 * info, path or query (a Slack or webhook URL is itself the secret).
 */

/** Settings whose value is a secret, by key name (anywhere in the tree). */
const SECRET_KEYS = new Set([
  'admin_token',
  'master_key',
  'provider_key',
  'signing_key',
  // A command line may hold a token for the secrets manager it calls.
  'signing_key_command',
  'webhook_secret',
]);

/** URLs whose path itself may be the credential (a Slack incoming webhook, a collector token). */
const SECRET_PATH_URLS = new Set(['webhook_url', 'slack_url', 'witness_url']);

const REMOVED = '[removed]';

/** A deep copy of `config` with the secrets removed. */
export function configWithoutSecrets(config: unknown): Record<string, unknown> {
  const out = strip(config, '');
  return out !== null && typeof out === 'object' && !Array.isArray(out)
    ? (out as Record<string, unknown>)
    : {};
}

function strip(value: unknown, key: string): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => strip(v, key));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = strip(v, k);
    return out;
  }
  if (SECRET_KEYS.has(key) || /(secret|token|password)$/.test(key)) return REMOVED;
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    return withoutCredentials(value, SECRET_PATH_URLS.has(key));
  return value;
}

/**
 * The URL without user info and query (`[removed]` when there was one), and without its path when
 * the path may be the secret.
 */
function withoutCredentials(text: string, secretPath: boolean): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return REMOVED;
  }
  const base = `${u.protocol}//${u.username || u.password ? `${REMOVED}@` : ''}${u.host}`;
  const path = secretPath && u.pathname !== '/' ? `/${REMOVED}` : u.pathname;
  return `${base}${path}${u.search ? `?${REMOVED}` : ''}`;
}
