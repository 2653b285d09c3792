import type { Clock } from '../core/clock.js';
import type { Alert, AlertChange } from './alert.js';

export interface AlertWriteCoalescerOptions {
  /** Stores and dispatches (the alert handler). */
  write: (alert: Alert, change: AlertChange) => Promise<void>;
  clock: Clock;
  /** An ongoing incident's updates are written at most this often; the latest is always written. */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * An incident that keeps firing updates its alert on every event; writing each update would put a
 * store write on every request of an attack. New and escalated alerts go through at once; plain
 * updates of one alert are coalesced to one write per interval, and the latest state is written
 * when the interval ends (so nothing is lost, only batched).
 */
export function createAlertWriteCoalescer(o: AlertWriteCoalescerOptions): {
  onAlert: (alert: Alert, change: AlertChange) => void;
  flush: () => Promise<void>;
} {
  const interval = o.intervalMs ?? 5_000;
  const lastWrite = new Map<string, number>();
  const pending = new Map<string, Alert>();
  let timer: NodeJS.Timeout | null = null;
  const inflight = new Set<Promise<void>>();

  const run = (alert: Alert, change: AlertChange): void => {
    lastWrite.set(alert.id, o.clock.now());
    const p = o.write(alert, change).catch((err: unknown) => o.onError?.(err));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const flushPending = (): void => {
    timer = null;
    for (const [id, alert] of pending) {
      pending.delete(id);
      run(alert, 'updated');
    }
    // Forget incidents that have been quiet for a while (bounded memory).
    const cutoff = o.clock.now() - 10 * interval;
    for (const [id, t] of lastWrite) if (t < cutoff) lastWrite.delete(id);
  };

  return {
    onAlert(alert, change) {
      const last = lastWrite.get(alert.id);
      if (change !== 'updated' || last === undefined || o.clock.now() - last >= interval) {
        pending.delete(alert.id);
        run(alert, change);
        return;
      }
      pending.set(alert.id, alert);
      if (!timer) {
        timer = setTimeout(flushPending, interval);
        timer.unref();
      }
    },
    async flush() {
      if (timer) clearTimeout(timer);
      flushPending();
      await Promise.allSettled([...inflight]);
    },
  };
}
