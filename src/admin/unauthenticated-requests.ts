/**
 * Unauthenticated requests to `/admin/*` and `/ui/*` (no token, a wrong token, a failed login) are
 * counted, not chained one by one: each (action, source address, minute) becomes ONE audit event
 * whose `error_message` says how many requests it stands for. A flood of refused requests costs the
 * trail a few events a minute per address instead of one per request (issue 17), and still shows
 * who knocked, how often and when. The request path is not part of the event at all.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { adminActionEvent } from '../core/admin-action-event.js';

/** Distinct (action, address) pairs kept per minute; beyond it they share one bucket without an address. */
const MAX_BUCKETS = 10_000;
const MINUTE_MS = 60_000;

interface Bucket {
  action: string;
  ip: string | null;
  minute: number;
  count: number;
  userAgent: string | null;
}

export class UnauthenticatedRequests {
  private readonly buckets = new Map<string, Bucket>();
  private oldestMinute = Number.POSITIVE_INFINITY;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly record: (event: AuditEvent) => void,
    private readonly clock: Clock,
  ) {
    // Past minutes are recorded within a minute even when no further request comes.
    this.timer = setInterval(() => this.flushBefore(this.minuteNow()), MINUTE_MS);
    this.timer.unref();
  }

  /** Counts one refused request. Records the buckets of earlier minutes first. */
  count(action: string, ip: string | null, userAgent: string | null): void {
    const minute = this.minuteNow();
    this.flushBefore(minute);
    let key = `${action}\u0000${ip ?? ''}`;
    let b = this.buckets.get(key);
    if (!b && this.buckets.size >= MAX_BUCKETS) {
      key = `${action}\u0000\u0000overflow`;
      b = this.buckets.get(key);
      ip = null;
    }
    if (b) {
      b.count++;
      return;
    }
    this.buckets.set(key, { action, ip, minute, count: 1, userAgent });
    if (minute < this.oldestMinute) this.oldestMinute = minute;
  }

  /** Records every bucket now (shutdown, tests). */
  flush(): void {
    this.flushBefore(Number.POSITIVE_INFINITY);
  }

  /** Records what is pending and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private minuteNow(): number {
    return Math.floor(this.clock.now() / MINUTE_MS);
  }

  private flushBefore(minute: number): void {
    if (this.oldestMinute >= minute) return;
    this.oldestMinute = Number.POSITIVE_INFINITY;
    for (const [key, b] of this.buckets) {
      if (b.minute >= minute) {
        if (b.minute < this.oldestMinute) this.oldestMinute = b.minute;
        continue;
      }
      this.buckets.delete(key);
      this.record(this.eventOf(b));
    }
  }

  private eventOf(b: Bucket): AuditEvent {
    const e = adminActionEvent(
      {
        action: b.action,
        actor: 'anonymous',
        subject: null,
        ok: false,
        errorCode: 'TG_ERR_ADMIN_UNAUTHORIZED',
        ip: b.ip,
      },
      this.clock,
    );
    e.user_agent = b.userAgent;
    const from = new Date(b.minute * MINUTE_MS).toISOString();
    e.error_message = `${b.count} unauthenticated request${b.count === 1 ? '' : 's'} ${b.ip === null ? 'from addresses past the first ' + MAX_BUCKETS : 'from this address'} in the minute from ${from}`;
    return e;
  }
}
