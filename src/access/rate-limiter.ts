/**
 * Per-key requests-per-minute and tokens-per-minute at the gateway.
 *
 * A request first `reserve`s one request and an estimate of its tokens (max_tokens plus the
 * prompt estimate, or a default), in one atomic all-or-nothing take; when it ends, `settle`
 * replaces the estimate by the tokens actually used (refunding or debiting the difference).
 * Token buckets refill continuously, so a refusal says exactly when to retry.
 */
import type { Clock } from '../core/clock.js';
import type { LimiterState, TakeRequest } from './limiter-state.js';

const MINUTE_MS = 60_000;

/** Whose limits: a virtual key id (or any stable subject) and its per-minute limits (null = none). */
export interface LimitSubject {
  id: string;
  rpm: number | null;
  tpm: number | null;
}

/** An admitted request's hold on the token bucket, to settle when the request ends. */
export interface Reservation {
  readonly subjectId: string;
  readonly tpm: number | null;
  readonly reservedTokens: number;
  settled: boolean;
}

export type LimitDecision =
  | { ok: true; reservation: Reservation }
  | {
      ok: false;
      limit: 'rpm' | 'tpm';
      /** For the `Retry-After` header: whole seconds, at least 1 (RFC 9110 §10.2.3). */
      retryAfterSeconds: number;
      errorCode: 'TG_ERR_POLICY_RATE_LIMIT';
      httpStatus: 429;
      /** Tollgate refused, so the event status is BLOCKED (RATE_LIMITED is for upstream 429s). */
      status: 'BLOCKED';
    };

export class RateLimiter {
  private readonly state: LimiterState;
  private readonly clock: Clock;

  constructor(options: { state: LimiterState; clock: Clock }) {
    this.state = options.state;
    this.clock = options.clock;
  }

  /**
   * Reserves one request and `estimatedTokens` tokens. An estimate larger than the whole tpm
   * allowance is capped at it: such a request may run when the bucket is full (and then drives it
   * into debt on settle) instead of being refused forever.
   */
  async reserve(subject: LimitSubject, estimatedTokens: number): Promise<LimitDecision> {
    const d = await this.reserveAll([subject], estimatedTokens);
    if (!d.ok) {
      const { subjectId: _one, ...refusal } = d;
      return refusal;
    }
    return { ok: true, reservation: d.reservations[0]! };
  }

  /**
   * {@link reserve} for several subjects at once (a request's key, user, team and feature limits):
   * one atomic all-or-nothing take over all their buckets, so a refusal by one takes nothing from
   * the others. A refusal names the subject (`subjectId`) whose bucket was short.
   */
  async reserveAll(
    subjects: readonly LimitSubject[],
    estimatedTokens: number,
  ): Promise<
    | { ok: true; reservations: Reservation[] }
    | (Extract<LimitDecision, { ok: false }> & { subjectId: string })
  > {
    const takes: TakeRequest[] = [];
    const reservations: Reservation[] = [];
    for (const subject of subjects) {
      if (subject.rpm !== null)
        takes.push({ bucket: `rpm:${subject.id}`, capacity: subject.rpm, refillMs: MINUTE_MS, cost: 1 });
      let reservedTokens = 0;
      if (subject.tpm !== null) {
        reservedTokens = Math.min(Math.max(0, Math.ceil(estimatedTokens)), subject.tpm);
        takes.push({
          bucket: `tpm:${subject.id}`,
          capacity: subject.tpm,
          refillMs: MINUTE_MS,
          cost: reservedTokens,
        });
      }
      reservations.push({ subjectId: subject.id, tpm: subject.tpm, reservedTokens, settled: false });
    }
    if (takes.length === 0) return { ok: true, reservations };
    const result = await this.state.take(takes, this.clock.now());
    if (result.admitted) return { ok: true, reservations };
    return {
      ok: false,
      limit: result.bucket.startsWith('rpm:') ? 'rpm' : 'tpm',
      subjectId: result.bucket.slice(4),
      retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)),
      errorCode: 'TG_ERR_POLICY_RATE_LIMIT',
      httpStatus: 429,
      status: 'BLOCKED',
    };
  }

  /**
   * Replaces the token estimate by `actualTokens` (total tokens used). `null` (usage unknown,
   * e.g. the client went away before usage arrived) keeps the estimate. Settling twice is a no-op.
   */
  async settle(reservation: Reservation, actualTokens: number | null): Promise<void> {
    if (reservation.settled) return;
    reservation.settled = true;
    if (reservation.tpm === null || actualTokens === null) return;
    const delta = reservation.reservedTokens - Math.max(0, Math.ceil(actualTokens));
    if (delta === 0) return;
    await this.state.adjust(
      `tpm:${reservation.subjectId}`,
      reservation.tpm,
      MINUTE_MS,
      delta,
      this.clock.now(),
    );
  }
}
