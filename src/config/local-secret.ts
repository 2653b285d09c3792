import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Reads a local secret file, creating it with 32 random bytes (hex) and mode 0600 on first run.
 * Returns the secret and whether it was just created (so the CLI can say so once).
 */
export function loadOrCreateSecret(path: string): { secret: Buffer; created: boolean } {
  if (existsSync(path)) {
    // Tighten a file someone loosened: the secret keys every fingerprint.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { secret: Buffer.from(readFileSync(path, 'utf8').trim(), 'hex'), created: false };
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  writeFileSync(path, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, created: true };
}
