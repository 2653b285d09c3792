import { Redis } from 'ioredis';
import { TollgateError } from '../core/errors.js';

/** What a shared-state call does when Redis does not answer: admit (and tell) or refuse. */
export type StatePolicy = 'fail-open' | 'fail-closed';

export interface SharedStateOptions {
  client: Redis;
  /** Prefix of every key (default `tg:`); tests and tenants sharing a Redis use their own. */
  prefix?: string;
  /**
   * The deployment's fingerprint secret (`fingerprint.key`, the same on every replica): key names
   * carry an HMAC of their subject under a subkey of it, never an IP or fingerprint in clear
   * (state-key-names.ts).
   */
  keySecret: Buffer;
  policy: StatePolicy;
  /** Told about every call that failed (fail-open: the decision was made without Redis). Never throws. */
  onUnavailable?: (err: TollgateError) => void;
}

/**
 * A Redis client for shared state on the request path. Commands fail fast instead of queueing
 * while disconnected (`enableOfflineQueue: false`, a command timeout), so an outage costs each
 * request a few milliseconds and the configured policy, not a hang; the client keeps reconnecting
 * in the background. Connection errors are swallowed here (an unhandled 'error' event would
 * crash the process) and reported per call instead.
 *
 * The command timeout (default 2 s) only matters for a Redis that accepts connections but does
 * not answer; it is not shorter because a timed-out script may still run on the server (the
 * debit happens, the caller applies its policy anyway), and a CPU-starved gateway can see its own
 * event loop delay a prompt reply past a tight timeout.
 */
export function createRedisClient(
  url: string,
  options: { commandTimeoutMs?: number; onError?: (err: Error) => void } = {},
): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  client.on('error', (err: Error) => options.onError?.(err));
  return client;
}

/** Waits until the client is ready, up to `timeoutMs`; false if Redis did not answer (not an error). */
export async function waitForRedis(client: Redis, timeoutMs = 2000): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}

/** The error handed to `onUnavailable`: a code and the operation, never a key or subject. */
export function stateUnavailable(operation: string, cause: unknown): TollgateError {
  return new TollgateError('TG_ERR_STATE_UNAVAILABLE', { store: 'redis', operation }, { cause });
}

/**
 * Splits the `?prefix=NAME` parameter off a Redis URL: every shared-state key of this gateway
 * starts with it (default `tg:`), so several deployments or test runs can share one Redis. The
 * rest of the URL goes to the client unchanged.
 */
export function redisKeyPrefix(url: string): { url: string; prefix: string } {
  const u = new URL(url);
  const prefix = u.searchParams.get('prefix');
  if (prefix === null) return { url, prefix: 'tg:' };
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix))
    throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'redis_url prefix' });
  u.searchParams.delete('prefix');
  return { url: u.toString(), prefix: prefix.endsWith(':') ? prefix : `${prefix}:` };
}
