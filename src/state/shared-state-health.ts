import { newAlert, type Alert, type AlertChange } from '../alerting/alert.js';
import type { Clock } from '../core/clock.js';
import type { TollgateError } from '../core/errors.js';
import type { StatePolicy } from './redis-connection.js';

export interface SharedStateHealthOptions {
  /** Answers a PING when Redis is back (the shared-state client). */
  ping: () => Promise<unknown>;
  clock: Clock;
  /** This replica: the alert's subject. */
  instanceId: string;
  policy: StatePolicy;
  /** Stores, counts and dispatches the alert ('new' when an outage starts, 'resolved' when it ends). */
  alert: (alert: Alert, change: AlertChange) => void;
  /** Error-level log line (codes and counts only, never a key or subject). */
  log: (fields: Record<string, unknown>, msg: string) => void;
  /** How often Redis is probed while it is down (default 1 s). */
  probeMs?: number;
}

export interface SharedStateHealth {
  /** Hand every shared-state module this as `onUnavailable`. */
  onUnavailable(err: TollgateError): void;
  readonly down: boolean;
  /** Calls that failed since the current (or last) outage began. */
  readonly failedCalls: number;
  close(): void;
}

/**
 * Turns failed shared-state calls into one alert per outage: the first failure raises
 * `state.unavailable` (HIGH under fail-open, where limits, budgets and lockouts go unenforced;
 * CRITICAL under fail-closed, where requests are refused), Redis is then probed every second, and
 * the first answer closes the outage: the alert is updated with its length and the failed calls
 * and sent again as `resolved`, so the sinks that paged someone for the outage say it is over (the
 * next outage raises a new alert). Each replica raises its own: the subject is the instance.
 */
export function createSharedStateHealth(o: SharedStateHealthOptions): SharedStateHealth {
  let current: { alert: Alert; sinceMs: number } | null = null;
  let failed = 0;
  let probe: NodeJS.Timeout | null = null;
  let probing = false;

  const recover = (): void => {
    if (!current) return;
    const { alert, sinceMs } = current;
    current = null;
    if (probe) clearInterval(probe);
    probe = null;
    const now = o.clock.now();
    const seconds = Math.max(0, Math.round((now - sinceMs) / 1000));
    alert.last_seen = new Date(now).toISOString();
    alert.count = failed;
    alert.evidence.figures = { ...alert.evidence.figures, observed: failed };
    alert.evidence.peak_observed = failed;
    alert.description = `Redis answered again after ${seconds} s; ${failed} shared-state calls failed meanwhile (redis_failure_policy: ${o.policy}). Sharing has resumed.`;
    o.log(
      { code: 'TG_ERR_STATE_UNAVAILABLE', failed_calls: failed, outage_s: seconds },
      'shared state (Redis) reachable again',
    );
    o.alert(
      { ...alert, evidence: { ...alert.evidence, figures: { ...alert.evidence.figures } } },
      'resolved',
    );
  };

  const check = (): void => {
    if (probing) return;
    probing = true;
    o.ping()
      .then(recover, () => undefined)
      .finally(() => (probing = false));
  };

  return {
    onUnavailable(err: TollgateError): void {
      if (current) {
        failed++;
        return;
      }
      failed = 1;
      const now = o.clock.now();
      const open = o.policy === 'fail-open';
      const alert = newAlert(
        {
          rule_id: 'state.unavailable',
          severity: open ? 'HIGH' : 'CRITICAL',
          subject: { kind: 'instance', value: o.instanceId },
          title: `Shared state (Redis) unreachable from ${o.instanceId}`,
          description: open
            ? 'fail-open: requests are admitted without the shared rate limits, budgets and lockouts, and detector windows count on this replica only, until Redis answers.'
            : 'fail-closed: managed-mode requests are refused (TG_ERR_STATE_UNAVAILABLE) until Redis answers.',
          figures: { observed: 1, baseline: null, threshold: 1, window_ms: 0, unit: 'failed_calls' },
        },
        now,
      );
      current = { alert, sinceMs: now };
      o.log(
        { code: err.code, operation: err.detail?.operation ?? null, policy: o.policy },
        'shared state (Redis) unavailable',
      );
      o.alert({ ...alert, evidence: { ...alert.evidence, figures: { ...alert.evidence.figures } } }, 'new');
      probe = setInterval(check, o.probeMs ?? 1000);
      probe.unref();
    },
    get down() {
      return current !== null;
    },
    get failedCalls() {
      return failed;
    },
    close(): void {
      if (probe) clearInterval(probe);
      probe = null;
    },
  };
}
