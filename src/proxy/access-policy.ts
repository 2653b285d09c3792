import type { Alert } from '../alerting/alert.js';
import { BudgetGuard } from '../access/budget-guard.js';
import { MemoryBudgetState, type BudgetState } from '../access/budget-state.js';
import { MemoryConcurrencyState, type ConcurrencyState } from '../access/concurrency-state.js';
import { KeyFingerprinter } from '../access/key-fingerprint.js';
import type { KeyStore } from '../access/key-store.js';
import { MemoryLimiterState, type LimiterState } from '../access/limiter-state.js';
import { Lockout, type LockoutGuard } from '../access/lockout.js';
import { lockoutAlert } from '../access/lockout-alert.js';
import { loadProviderKeys } from '../access/provider-keys.js';
import { RateLimiter } from '../access/rate-limiter.js';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import type { BudgetConfig, BudgetScope } from '../pricing/budgets.js';
import type { PriceCatalog } from '../pricing/catalog.js';
import { withConfigBudgets } from './budget-policy.js';
import { LimitsPolicy, type LimitConfig } from './limits-policy.js';
import { ManagedPolicy } from './managed-policy.js';
import { PassthroughPolicy } from './passthrough-policy.js';
import type { RequestPolicy } from './request-policy.js';

/** The config keys of the access policy (tollgate.config.yaml). */
export interface AccessConfig {
  /** `passthrough`: the client's provider key goes upstream. `managed`: clients use gateway-issued keys. */
  mode: 'passthrough' | 'managed';
  managed: { provider_key_file: string | null; provider_key: string | null };
  /** Several providers (docs/providers.md); in managed mode each may hold its own key (`key_file`). */
  providers?: ReadonlyArray<{ name: string; key_file?: string | null }> | null;
  lockout: { max_failures: number; window_ms: number; cool_off_ms: number };
  budgets: readonly BudgetConfig[];
  limits: readonly LimitConfig[];
  timeouts: { total_ms: number };
}

/**
 * Who may call and within which limits. Passthrough (default) fingerprints the client's key;
 * managed mode holds the provider key (file or environment, never the database), checks
 * gateway-issued keys, and enforces their rate limits, budgets and lockouts (a lockout raises
 * `auth.lockout`). Config rate limits (`limits:`) and enforced config budgets wrap either. State is shared through Redis when
 * `shared` is given, in process otherwise.
 */
export function createAccessPolicy(
  config: AccessConfig,
  deps: {
    keys: KeyStore;
    /** Managed mode's own provider key (`managedProviderKey`), read once by the caller. */
    managedKey: string | null;
    /** The fingerprint secret (keyed `api_key_id`). */
    secret: Buffer;
    catalog: PriceCatalog;
    clock: Clock;
    raiseAlert: (alert: Alert) => void;
    /** Spend of a gateway-issued key since a time (from the stored events). */
    keySpentSince: (keyId: string, startMs: number) => Promise<number>;
    /** Spend of a config budget's subject since a time (from the stored events). */
    scopeSpentSince: (scope: BudgetScope, subject: string, sinceMs: number) => Promise<number>;
    shared: {
      limiter: LimiterState;
      budgets: BudgetState;
      concurrency: ConcurrencyState;
      lockout: LockoutGuard;
    } | null;
    /** Replaces the passthrough or managed policy (tests). */
    base?: RequestPolicy | undefined;
  },
): RequestPolicy {
  const base = deps.base ?? keyPolicy(config, deps);
  // Limits inside budgets: a request refused by a limit reserves no budget.
  // Managed mode always: a gateway key's own `concurrent` limit is enforced here.
  const limited =
    config.limits.length === 0 && config.mode !== 'managed'
      ? base
      : new LimitsPolicy(base, config.limits, {
          limiter: new RateLimiter({
            state: deps.shared?.limiter ?? new MemoryLimiterState(),
            clock: deps.clock,
          }),
          concurrency: deps.shared?.concurrency ?? new MemoryConcurrencyState(),
          catalog: deps.catalog,
          clock: deps.clock,
          leaseMs: config.timeouts.total_ms,
        });
  return withConfigBudgets(limited, {
    budgets: config.budgets,
    state: deps.shared?.budgets ?? new MemoryBudgetState(),
    clock: deps.clock,
    catalog: deps.catalog,
    spentSince: deps.scopeSpentSince,
  });
}

function keyPolicy(config: AccessConfig, deps: Parameters<typeof createAccessPolicy>[1]): RequestPolicy {
  if (config.mode === 'passthrough') return new PassthroughPolicy(deps.secret);
  const { clock, managedKey: providerKey } = deps;
  return new ManagedPolicy({
    keys: deps.keys,
    fingerprinter: new KeyFingerprinter(deps.secret),
    limiter: new RateLimiter({ state: deps.shared?.limiter ?? new MemoryLimiterState(), clock }),
    budgets: new BudgetGuard({
      state: deps.shared?.budgets ?? new MemoryBudgetState(),
      clock,
      // Budgets survive restarts: a period's spend is seeded from the stored events once.
      loadSpent: deps.keySpentSince,
    }),
    lockout:
      deps.shared?.lockout ??
      new Lockout({
        clock,
        maxFailures: config.lockout.max_failures,
        windowMs: config.lockout.window_ms,
        coolOffMs: config.lockout.cool_off_ms,
      }),
    catalog: deps.catalog,
    clock,
    ...(providerKey === null ? {} : { providerKey }),
    onLockout: (subject, untilMs) =>
      deps.raiseAlert(lockoutAlert(subject, untilMs, config.lockout, clock.now())),
  });
}

/**
 * Managed mode's own provider key (`managed.provider_key_file` or `managed.provider_key`), or null
 * when every provider of the `providers:` list holds its own `key_file` and none is needed. Without
 * one while a provider has no key of its own: `TG_ERR_CONFIG_INVALID`, naming those providers.
 */
export function managedProviderKey(config: Pick<AccessConfig, 'managed' | 'providers'>): string | null {
  const m = config.managed;
  const source = m.provider_key_file
    ? { provider: 'upstream', file: m.provider_key_file }
    : m.provider_key
      ? { provider: 'upstream', value: m.provider_key }
      : null;
  if (source) return loadProviderKeys([source]).keyFor('upstream');
  const list = config.providers ?? [];
  const keyless = list.filter((p) => !p.key_file).map((p) => p.name);
  if (list.length > 0 && keyless.length === 0) return null;
  throw new TollgateError('TG_ERR_CONFIG_INVALID', {
    setting: 'managed.provider_key_file or TOLLGATE_PROVIDER_KEY',
    ...(keyless.length > 0 ? { providers_without_key_file: keyless.join(', ') } : {}),
  });
}
