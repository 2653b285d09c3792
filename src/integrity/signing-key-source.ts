/**
 * Where the checkpoint signing key comes from. Whoever can write the store's folder should not be
 * able to sign as the gateway, so the key can live elsewhere: a file of its own (mode 0600, e.g. on
 * another volume), an environment variable, or a command that prints it (a secrets manager's CLI).
 * Without any of them it is `checkpoint-signing.key` in the data folder, as before (doctor warns).
 */
import { execFileSync } from 'node:child_process';
import { TollgateError } from '../core/errors.js';
import { loadOrCreateSigningKey, parseSigningKey, type SigningKey } from './signing-key.js';

/** The `checkpoints.signing_key*` settings. */
export interface SigningKeySettings {
  /** A key file outside the data folder (created 0600 on first start when missing). */
  signing_key_file: string | null;
  /** The key itself in the PRIVATE+KEY form (set it with TOLLGATE_SIGNING_KEY, never in a file). */
  signing_key: string | null;
  /** A command whose standard output is the key (run with /bin/sh -c, 10 s timeout). */
  signing_key_command: string | null;
}

export type SigningKeySourceKind = 'file' | 'env' | 'command' | 'data-folder';

/** The loaded key, where it came from, and the key file whose keyring (`.verifiers`) to use. */
export interface LoadedSigningKey {
  key: SigningKey;
  source: SigningKeySourceKind;
  /** The key file (a configured one, or the data folder's); its keyring sits beside it. */
  keyPath: string;
}

/**
 * Loads the configured key: the variable, else the command, else the key file, else the data
 * folder's file (created on first run). Errors never contain the key or the command's output.
 */
export function loadConfiguredSigningKey(
  settings: SigningKeySettings,
  defaults: { path: string; name: string },
): LoadedSigningKey {
  if (settings.signing_key) {
    return {
      key: parseSigningKey(settings.signing_key),
      source: 'env',
      keyPath: settings.signing_key_file ?? defaults.path,
    };
  }
  if (settings.signing_key_command) {
    let out: string;
    try {
      out = execFileSync('/bin/sh', ['-c', settings.signing_key_command], {
        encoding: 'utf8',
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      // Not chained as a cause: the child's error carries its output, which may hold the key.
      throw new TollgateError('TG_ERR_INTEGRITY_KEY_INVALID', { reason: 'signing key command failed' });
    }
    return {
      key: parseSigningKey(out),
      source: 'command',
      keyPath: settings.signing_key_file ?? defaults.path,
    };
  }
  if (settings.signing_key_file) {
    return {
      key: loadOrCreateSigningKey({ path: settings.signing_key_file, name: defaults.name }),
      source: 'file',
      keyPath: settings.signing_key_file,
    };
  }
  return { key: loadOrCreateSigningKey(defaults), source: 'data-folder', keyPath: defaults.path };
}
