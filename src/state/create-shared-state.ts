import type { Alert, AlertChange } from '../alerting/alert.js';
import type { BudgetState } from '../access/budget-state.js';
import type { ConcurrencyState } from '../access/concurrency-state.js';
import type { LimiterState } from '../access/limiter-state.js';
import type { LockoutGuard } from '../access/lockout.js';
import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { Log } from '../core/log.js';
import { loadOptional, REDIS_PACKAGES } from '../core/optional-dependency.js';
import type { IncidentClaims, SharedWindows } from '../detection/shared-windows.js';
import type { StatePolicy } from './redis-connection.js';

/** The config keys of shared state (tollgate.config.yaml). */
export interface SharedStateConfig {
  /** `redis://…`; null keeps limits, budgets, lockouts and detector windows in process (one replica). */
  redis_url: string | null;
  redis_failure_policy: StatePolicy;
  lockout: { max_failures: number; window_ms: number; cool_off_ms: number };
}

/** Rate limits, budgets, lockouts and detector windows shared by every replica through Redis. */
export interface SharedState {
  limiter: LimiterState;
  budgets: BudgetState;
  /** In-flight slots of `concurrent` limits. */
  concurrency: ConcurrencyState;
  lockout: LockoutGuard;
  /** Detector state of every stateful rule, and alert claims, across replicas. */
  windows: SharedWindows & IncidentClaims & { close(): Promise<void> };
}

/** The Redis client and shared-state modules, loaded only when Redis is configured. */
async function loadRedisState() {
  // ioredis is an optional peer: a missing one is named (TG_ERR_DEPENDENCY_MISSING).
  const [connection, limiter, budgets, concurrency, lockout, health, windows] = await loadOptional(
    REDIS_PACKAGES,
    () =>
      Promise.all([
        import('./redis-connection.js'),
        import('./redis-limiter-state.js'),
        import('./redis-budget-state.js'),
        import('./redis-concurrency-state.js'),
        import('./redis-lockout.js'),
        import('./shared-state-health.js'),
        import('./redis-shared-windows.js'),
      ]),
  );
  return { ...connection, ...limiter, ...budgets, ...concurrency, ...lockout, ...health, ...windows };
}

/**
 * Shared state when `redis_url` is set, null otherwise (the in-process classes apply). Redis
 * modules load only then: ioredis costs ~20 MB of memory at import, which a single replica should
 * not carry. Failed calls raise one `state.unavailable` alert per outage (shared-state-health.ts).
 * Commands fail fast while disconnected (no offline queue), so this connects before taking
 * traffic; a Redis that is down now is left to `redis_failure_policy`, not a failed start.
 */
export async function createSharedState(
  config: SharedStateConfig,
  deps: {
    /** The fingerprint secret, shared by every replica: it also names the Redis keys (HMAC of subjects). */
    secret: Buffer;
    clock: Clock;
    instanceId: string;
    raiseAlert: (alert: Alert, change: AlertChange) => void;
    log: Log;
  },
  life: Lifetime,
): Promise<SharedState | null> {
  if (!config.redis_url) return null;
  const r = await loadRedisState();
  const { clock } = deps;
  const at = r.redisKeyPrefix(config.redis_url);
  const client = life.own('redis', r.createRedisClient(at.url, { onError: () => undefined }), (c) =>
    c.disconnect(),
  );
  const health = life.own(
    'shared state health',
    r.createSharedStateHealth({
      ping: () => client.ping(),
      clock,
      instanceId: deps.instanceId,
      policy: config.redis_failure_policy,
      alert: deps.raiseAlert,
      log: (fields, msg) => deps.log.error(fields, msg),
    }),
    (h) => h.close(),
  );
  const options = {
    client,
    prefix: at.prefix,
    keySecret: deps.secret,
    policy: config.redis_failure_policy,
    onUnavailable: (err: Parameters<typeof health.onUnavailable>[0]) => health.onUnavailable(err),
  };
  const shared: SharedState = {
    limiter: new r.RedisLimiterState(options),
    budgets: new r.RedisBudgetState(options),
    concurrency: new r.RedisConcurrencyState(options),
    lockout: new r.RedisLockout({
      ...options,
      clock,
      maxFailures: config.lockout.max_failures,
      windowMs: config.lockout.window_ms,
      coolOffMs: config.lockout.cool_off_ms,
    }),
    // The last flush of shared windows may raise alerts: closed before alerting is (acquired after it).
    windows: life.own('shared windows', new r.RedisSharedWindows({ ...options, clock }), (w) => w.close()),
  };
  if (!(await r.waitForRedis(client, 5000))) health.onUnavailable(r.stateUnavailable('connect', null));
  return shared;
}
