import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A per-process instance id for the SDK, which is also its chain id: `sdk-<host>-<pid>-<random>`.
 * One chain per process keeps a single writer per chain (src/integrity/hash-chain.ts) even when many
 * app instances ship to one store. Limited to the characters and length the gateway accepts for
 * instance ids (`[A-Za-z0-9._-]{1,64}`).
 */
export function sdkInstanceId(host: string = hostname(), pid: number = process.pid): string {
  const h = host.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 32) || 'host';
  return `sdk-${h}-${pid}-${randomBytes(4).toString('hex')}`;
}
