import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { authenticateRequest } from '../access/authenticate.js';
import type { BudgetGuard } from '../access/budget-guard.js';
import type { KeyFingerprinter } from '../access/key-fingerprint.js';
import type { KeyStore } from '../access/key-store.js';
import type { LockState, LockoutGuard } from '../access/lockout.js';
import type { RateLimiter } from '../access/rate-limiter.js';

import { worstCaseOf } from '../access/worst-case-cost.js';
import type { PriceCatalog } from '../pricing/catalog.js';
import { budgetRefusal } from './budget-refusal.js';
import type { Admission, AdmissionContext, Refusal, RequestPolicy } from './request-policy.js';

export interface ManagedPolicyOptions {
  keys: KeyStore;
  fingerprinter: KeyFingerprinter;
  limiter: RateLimiter;
  budgets: BudgetGuard;
  /** In process (one replica) or shared through Redis (replicas); awaited either way. */
  lockout: LockoutGuard;
  catalog: PriceCatalog;
  clock: Clock;
  /**
   * The provider key Tollgate holds; applications never see it. Absent when every provider has its
   * own key (`providers:` with `key_file`): the router sends that one, in the provider's header.
   */
  providerKey?: string;
  /** Told when a subject (`ip:…`, `key:…`) is locked out, once per lockout: raise an alert. */
  onLockout?: (
    subject: string,
    untilMs: number,
    event: { ip: string | null; api_key_id: string | null },
  ) => void;
}

/**
 * Managed mode: applications present gateway-issued keys; Tollgate checks them, applies the key's
 * rate limits and budget atomically, and calls the provider with the key it holds. The order is
 * lockout → authentication → rate limit → budget; every refusal happens before any upstream call.
 */
export class ManagedPolicy implements RequestPolicy {
  /** The provider key's fingerprint: the provider's quota readings are kept under it. */
  private readonly providerKeyId: string | null;
  /** The held key's header; empty (still managed: no client credential goes upstream) without one. */
  private readonly upstreamHeaders: Record<string, string>;

  constructor(private readonly o: ManagedPolicyOptions) {
    this.providerKeyId = o.providerKey === undefined ? null : o.fingerprinter.fingerprint(o.providerKey);
    this.upstreamHeaders = o.providerKey === undefined ? {} : { authorization: `Bearer ${o.providerKey}` };
  }

  /**
   * A key or a budget's spend that cannot be read (the store is down: PostgreSQL unreachable) is a
   * refusal, 503 TG_ERR_STORE_UNAVAILABLE with a retry in a second, not a thrown error: a thrown
   * admission reached the client as a 502 upstream error and left the request without its event.
   */
  async admit(ctx: AdmissionContext): Promise<Admission> {
    const seen: { auth: Admission['auth'] | null } = { auth: null };
    try {
      return await this.decide(ctx, seen);
    } catch {
      return {
        auth: seen.auth ?? {
          auth_method: null,
          auth_result: null,
          api_key_id: null,
          api_key_prefix: null,
          virtual_key_id: null,
        },
        refusal: { code: 'TG_ERR_STORE_UNAVAILABLE', kind: 'policy', retryAfterSec: 1 },
      };
    }
  }

  private async decide(ctx: AdmissionContext, seen: { auth: Admission['auth'] | null }): Promise<Admission> {
    const { o } = this;
    const ipSubject = ctx.ip ? `ip:${ctx.ip}` : null;
    const ipLock = ipSubject ? await o.lockout.check(ipSubject) : null;
    if (ipLock?.locked) return this.lockedOut(ipLock);
    const decision = await authenticateRequest(
      ctx.headers,
      o.keys,
      o.clock,
      ctx.model,
      o.fingerprinter,
      ctx.query,
    );
    const fields = decision.fields;
    seen.auth = fields;
    const keySubject = fields.api_key_id ? `key:${fields.api_key_id}` : null;
    const keyLock = keySubject ? await o.lockout.check(keySubject) : null;
    if (keyLock?.locked)
      return { auth: { ...fields, auth_result: 'FAILED' }, refusal: this.lockRefusal(keyLock) };
    if (!decision.ok) {
      if (decision.status === 'AUTH_FAILED') await this.failure(ctx, fields.api_key_id);
      return {
        auth: fields,
        refusal: { code: decision.errorCode, kind: decision.status === 'BLOCKED' ? 'policy' : 'auth' },
      };
    }
    const key = decision.key;
    // The key's user and team are the event's: a header cannot speak for someone else's key,
    // unless the key allows it (then a header wins where sent, the key's values fill the rest).
    const sent = key.allowAttributionOverride ? ctx.attribution : undefined;
    const user = sent?.user ?? key.user;
    const team = sent?.team ?? key.team;
    const attribution = {
      ...(user === null ? {} : { user }),
      ...(team === null ? {} : { team }),
    };
    // The worst case is computed only when a tpm limit or a budget needs it (it runs the tokenizer).
    const worst = (): ReturnType<typeof worstCaseOf> => worstCaseOf(o.catalog, ctx.model, ctx.body, ctx.now);
    const limit = await o.limiter.reserve(
      { id: key.id, rpm: key.rpm, tpm: key.tpm },
      key.tpm === null ? 0 : worst().inputTokens + worst().outputTokens,
    );
    if (!limit.ok)
      return {
        auth: fields,
        attribution,
        refusal: { code: limit.errorCode, kind: 'policy', retryAfterSec: limit.retryAfterSeconds },
      };
    const budget = await o.budgets.reserve(
      { id: key.id, budgetMicroUsd: key.budgetMicroUsd, budgetPeriod: key.budgetPeriod },
      key.budgetMicroUsd === null ? 0 : (worst().costMicroUsd ?? 0),
    );
    if (!budget.ok) {
      await o.limiter.settle(limit.reservation, 0);
      return { auth: fields, attribution, refusal: budgetRefusal(`key ${key.id}`, key.budgetPeriod, budget) };
    }
    return {
      auth: fields,
      attribution,
      refusal: null,
      upstreamHeaders: this.upstreamHeaders,
      ...(this.providerKeyId === null ? {} : { providerKeyId: this.providerKeyId }),
      ...(key.concurrent === null ? {} : { keyConcurrent: { keyId: key.id, limit: key.concurrent } }),
      settle: (event: AuditEvent) => {
        void o.limiter.settle(limit.reservation, event.total_tokens);
        void o.budgets.settle(budget.reservation, event.cost_micro_usd);
      },
    };
  }

  /** Counts the failure for the IP and the key (awaited: the next request must see the count, on any replica). */
  private async failure(ctx: AdmissionContext, apiKeyId: string | null): Promise<void> {
    for (const subject of [ctx.ip ? `ip:${ctx.ip}` : null, apiKeyId ? `key:${apiKeyId}` : null]) {
      if (!subject) continue;
      const r = await this.o.lockout.recordFailure(subject);
      if (r.justLocked && r.until !== null)
        this.o.onLockout?.(subject, r.until, { ip: ctx.ip, api_key_id: apiKeyId });
    }
  }

  private lockedOut(lock: LockState): Admission {
    return {
      auth: {
        auth_method: null,
        auth_result: 'FAILED',
        api_key_id: null,
        api_key_prefix: null,
        virtual_key_id: null,
      },
      refusal: this.lockRefusal(lock),
    };
  }

  /** Locked: TG_ERR_AUTH_LOCKED_OUT until the cool-off ends. Shared state down under fail-closed: TG_ERR_STATE_UNAVAILABLE, retry in a second. */
  private lockRefusal(lock: LockState): Refusal {
    const retryAfterSec =
      lock.until === null ? 1 : Math.max(1, Math.ceil((lock.until - this.o.clock.now()) / 1000));
    if (lock.unavailable === true) return { code: 'TG_ERR_STATE_UNAVAILABLE', kind: 'policy', retryAfterSec };
    // A locked-out address or key is a refused credential: AUTH_FAILED (DESIGN.md), answered 429.
    return { code: 'TG_ERR_AUTH_LOCKED_OUT', kind: 'auth', retryAfterSec };
  }
}
