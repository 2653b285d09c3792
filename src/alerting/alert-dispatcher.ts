import type { Clock } from '../core/clock.js';
import { deliveryName, type Alert, type AlertChange, type AlertDelivery } from './alert.js';
import type { AlertSink } from './alert-sink.js';
import type { AlertStore } from './alert-store.js';

export interface AlertDispatcherOptions {
  sinks: readonly AlertSink[];
  clock: Clock;
  /** Delivery status is recorded here per alert and sink (pending, delivered, failed, dropped). */
  store?: AlertStore;
  /**
   * Which changes are sent (default `new`, `escalated`, `resolved`); updates of an ongoing incident
   * are stored but not re-sent by default.
   */
  notifyOn?: readonly AlertChange[];
  /** Alerts waiting per sink; past it new alerts for that sink are dropped (counted, status recorded). */
  queueCapacity?: number;
  /** Attempts per alert and sink, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Uniform [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  /** Waits between attempts; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Called on every delivery status change. */
  onDelivery?: (alertId: string, delivery: AlertDelivery) => void;
  /** Called when recording a delivery status fails. */
  onError?: (err: unknown) => void;
}

export interface SinkStats {
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

/**
 * Sends alerts to sinks off the caller's path. Each sink has its own bounded queue and worker,
 * so a slow or failing sink never delays another sink, the detection engine or the audit trail.
 */
export interface AlertDispatcher {
  /** Queues the alert for every sink; returns at once and never throws. */
  dispatch(alert: Alert, change: AlertChange): void;
  /** Resolves when every queue is empty and nothing is in flight. */
  drain(): Promise<void>;
  stats(): Record<string, SinkStats>;
}

interface Lane {
  sink: AlertSink;
  queue: { alert: Alert; change: AlertChange }[];
  running: boolean;
  idle: (() => void)[];
  stats: SinkStats;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the dispatcher. Retries use exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015). */
export function createAlertDispatcher(options: AlertDispatcherOptions): AlertDispatcher {
  const notifyOn = new Set(options.notifyOn ?? ['new', 'escalated', 'resolved']);
  const capacity = options.queueCapacity ?? 1000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const lanes: Lane[] = options.sinks.map((sink) => ({
    sink,
    queue: [],
    running: false,
    idle: [],
    stats: { queued: 0, delivered: 0, failed: 0, dropped: 0, retries: 0 },
  }));

  function record(
    alertId: string,
    sink: string,
    status: AlertDelivery['status'],
    attempts: number,
    lastError: string | null,
  ): void {
    const delivery: AlertDelivery = {
      sink,
      status,
      attempts,
      last_error: lastError,
      updated_at: new Date(options.clock.now()).toISOString(),
    };
    try {
      options.onDelivery?.(alertId, delivery);
    } catch (err) {
      options.onError?.(err);
    }
    if (options.store) {
      options.store.recordDelivery(alertId, delivery).catch((err: unknown) => options.onError?.(err));
    }
  }

  async function deliver(lane: Lane, alert: Alert, change: AlertChange): Promise<void> {
    const name = deliveryName(lane.sink.name, change);
    let lastError = 'unknown';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let result;
      try {
        result = await lane.sink.send(alert, change);
      } catch {
        result = { ok: false as const, reason: 'sink_threw', retryable: true };
      }
      if (result.ok) {
        lane.stats.delivered++;
        record(alert.id, name, 'delivered', attempt, null);
        return;
      }
      lastError = result.reason;
      if (!result.retryable || attempt === maxAttempts) {
        lane.stats.failed++;
        record(alert.id, name, 'failed', attempt, lastError);
        return;
      }
      lane.stats.retries++;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * ceiling));
    }
  }

  async function run(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      for (let next = lane.queue.shift(); next; next = lane.queue.shift()) {
        lane.stats.queued = lane.queue.length;
        await deliver(lane, next.alert, next.change);
      }
    } finally {
      lane.running = false;
      lane.stats.queued = 0;
      for (const resolve of lane.idle.splice(0)) resolve();
    }
  }

  return {
    dispatch(alert, change) {
      if (!notifyOn.has(change)) return;
      for (const lane of lanes) {
        try {
          // A resolved notice never merges into a page still waiting (nor the reverse): whoever is
          // paged must get both, in order.
          const resolved = change === 'resolved';
          const waiting = lane.queue.find(
            (q) => q.alert.id === alert.id && (q.change === 'resolved') === resolved,
          );
          if (waiting) {
            // Not sent yet: send the newest state once instead of twice.
            waiting.alert = alert;
            if (waiting.change !== 'new' && change === 'escalated') waiting.change = 'escalated';
            continue;
          }
          if (lane.queue.length >= capacity) {
            lane.stats.dropped++;
            record(alert.id, deliveryName(lane.sink.name, change), 'dropped', 0, 'queue_full');
            continue;
          }
          lane.queue.push({ alert, change });
          lane.stats.queued = lane.queue.length;
          record(alert.id, deliveryName(lane.sink.name, change), 'pending', 0, null);
          if (!lane.running) void run(lane);
        } catch (err) {
          options.onError?.(err);
        }
      }
    },

    async drain() {
      const busy = lanes.filter((lane) => lane.running || lane.queue.length > 0);
      await Promise.all(busy.map((lane) => new Promise<void>((resolve) => lane.idle.push(resolve))));
    },

    stats() {
      return Object.fromEntries(lanes.map((l) => [l.sink.name, { ...l.stats, queued: l.queue.length }]));
    },
  };
}
