import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The gateway instance's id, which is also its chain id. Kept in a file beside the data so a
 * restart continues the same chain; replicas sharing a store each have their own.
 */
export function loadOrCreateInstanceId(path: string): string {
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[A-Za-z0-9._-]{1,64}$/.test(id)) return id;
  }
  mkdirSync(dirname(path), { recursive: true });
  const id = `gw-${randomBytes(4).toString('hex')}`;
  writeFileSync(path, `${id}\n`, { mode: 0o644 });
  return id;
}
