import { randomUUID } from 'node:crypto';
import type { ConcurrencyState } from '../access/concurrency-state.js';
import type { LimitSubject, RateLimiter, Reservation } from '../access/rate-limiter.js';
import { worstCaseOf } from '../access/worst-case-cost.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import type { BudgetScope } from '../pricing/budgets.js';
import type { PriceCatalog } from '../pricing/catalog.js';
import type { Admission, AdmissionContext, RequestPolicy } from './request-policy.js';
import { requestSubjects } from './request-subjects.js';

/** One rate limit of config: requests per minute, tokens per minute, requests in flight. */
export interface LimitConfig {
  scope: BudgetScope;
  subject: string;
  rpm?: number | undefined;
  tpm?: number | undefined;
  concurrent?: number | undefined;
}

/** A refused or failed admission settles the inner policy's reservations with zero use. */
const NOTHING_USED = { total_tokens: 0, cost_micro_usd: 0 } as AuditEvent;

/**
 * Rate limits from config per key, user, team or feature (`limits:`): wraps the mode's policy and,
 * for every limit of the request's subjects, takes one request and its worst-case tokens from the
 * rpm / tpm buckets (all of them in one atomic take) and a lease on the in-flight slots. Refusals
 * are BLOCKED / TG_ERR_POLICY_RATE_LIMIT with `Retry-After` and a detail naming the limit
 * (`rpm team payments`). Tokens settle to the real count and the lease is released when the
 * request ends. The state is in process, or shared by replicas through Redis.
 */
export class LimitsPolicy implements RequestPolicy {
  private readonly bySubject = new Map<string, LimitConfig[]>();

  constructor(
    private readonly inner: RequestPolicy,
    limits: readonly LimitConfig[],
    private readonly o: {
      limiter: RateLimiter;
      concurrency: ConcurrencyState;
      catalog: PriceCatalog;
      clock: Clock;
      /** A lease outlives a request by no more than its total deadline (a crashed replica's slot comes back). */
      leaseMs: number;
    },
  ) {
    for (const l of limits) {
      const id = `${l.scope}:${l.subject}`;
      this.bySubject.set(id, [...(this.bySubject.get(id) ?? []), l]);
    }
  }

  async admit(ctx: AdmissionContext): Promise<Admission> {
    const admission = await this.inner.admit(ctx);
    if (admission.refusal) return admission;
    const matching: LimitConfig[] = [];
    for (const [scope, subject] of Object.entries(requestSubjects(ctx, admission)))
      if (subject) matching.push(...(this.bySubject.get(`${scope}:${subject}`) ?? []));
    // The gateway key's own in-flight limit: its slots are apart from a config limit on the same key.
    const own = admission.keyConcurrent;
    if (matching.length === 0 && own === undefined) return admission;
    const refuse = (limit: string, retryAfterSec: number): Admission => ({
      auth: admission.auth,
      ...(admission.attribution ? { attribution: admission.attribution } : {}),
      refusal: { code: 'TG_ERR_POLICY_RATE_LIMIT', kind: 'policy', retryAfterSec, detail: { limit } },
    });
    const rated: LimitSubject[] = matching
      .filter((l) => l.rpm !== undefined || l.tpm !== undefined)
      .map((l) => ({ id: `${l.scope}:${l.subject}`, rpm: l.rpm ?? null, tpm: l.tpm ?? null }));
    const tokens = rated.some((s) => s.tpm !== null)
      ? ((w) => w.inputTokens + w.outputTokens)(worstCaseOf(this.o.catalog, ctx.model, ctx.body, ctx.now))
      : 0;
    let reservations: Reservation[] = [];
    if (rated.length > 0) {
      const r = await this.o.limiter.reserveAll(rated, tokens);
      if (!r.ok) {
        admission.settle?.(NOTHING_USED);
        return refuse(`${r.limit} ${r.subjectId.replace(':', ' ')}`, r.retryAfterSeconds);
      }
      reservations = r.reservations;
    }
    const leases: Array<{ subject: string; id: string }> = [];
    const release = (): void => {
      for (const l of leases) void this.o.concurrency.release(l.subject, l.id);
    };
    const slots = matching.flatMap((l) =>
      l.concurrent === undefined
        ? []
        : [
            {
              subject: `${l.scope}:${l.subject}`,
              limit: l.concurrent,
              name: `concurrent ${l.scope} ${l.subject}`,
            },
          ],
    );
    if (own)
      slots.push({ subject: `own-key:${own.keyId}`, limit: own.limit, name: `concurrent key ${own.keyId}` });
    for (const l of slots) {
      const lease = { subject: l.subject, id: randomUUID() };
      const ok = await this.o.concurrency.acquire(
        lease.subject,
        lease.id,
        l.limit,
        this.o.leaseMs,
        this.o.clock.now(),
      );
      if (!ok) {
        release();
        for (const r of reservations) void this.o.limiter.settle(r, 0);
        admission.settle?.(NOTHING_USED);
        return refuse(l.name, 1);
      }
      leases.push(lease);
    }
    const innerSettle = admission.settle;
    return {
      ...admission,
      settle: (event: AuditEvent) => {
        innerSettle?.(event);
        release();
        for (const r of reservations) void this.o.limiter.settle(r, event.total_tokens);
      },
    };
  }
}
