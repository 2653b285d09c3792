import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { Log } from '../core/log.js';
import type { Alert, AlertChange } from './alert.js';
import { createAlertDispatcher, type AlertDispatcher } from './alert-dispatcher.js';
import { createAlertHandler } from './alert-handler.js';
import type { AlertSink } from './alert-sink.js';
import type { AlertStore } from './alert-store.js';
import { createAlertWriteCoalescer } from './alert-write-coalescer.js';
import { createLogSink } from './log-sink.js';
import { createSlackSink } from './slack-sink.js';
import { createWebhookSink } from './webhook-sink.js';

/** The `alerts` section of the config (tollgate.config.yaml). */
export interface AlertingConfig {
  webhook_url?: string | null | undefined;
  webhook_secret?: string | null | undefined;
  slack_url?: string | null | undefined;
}

/** Alerts, stored first and then sent to every sink off the request path. */
export interface Alerting {
  dispatcher: AlertDispatcher;
  store: AlertStore;
  /** An alert raised outside the detectors (a lockout, shared state down): stored, then sent. */
  readonly raise: (alert: Alert, change?: AlertChange) => void;
  /** The detectors' `onAlert`: new alerts at once, updates of an ongoing incident coalesced. */
  readonly detected: (alert: Alert, change: AlertChange) => void;
  /** Writes the coalesced updates now and waits until every alert is stored and sent. */
  readonly flush: () => Promise<void>;
}

/**
 * Builds alerting from its config: the log sink always, a signed webhook when both URL and secret
 * are set, Slack when set, plus `extraSinks` (tests, the demo). At close, coalesced updates are
 * written and deliveries drained.
 */
export function createAlerting(
  config: AlertingConfig,
  deps: {
    store: AlertStore;
    clock: Clock;
    log: Log;
    extraSinks?: AlertSink[] | undefined;
    /** Told once per new alert, whoever raised it (the `alerts_raised` metric). */
    onRaised?: (alert: Alert) => void;
  },
  life: Lifetime,
): Alerting {
  const { store, clock, log } = deps;
  const sinks: AlertSink[] = [
    createLogSink({ write: (line) => log.warn({ alert: true }, line) }),
    ...(deps.extraSinks ?? []),
  ];
  if (config.webhook_url && config.webhook_secret)
    sinks.push(createWebhookSink({ url: config.webhook_url, secret: config.webhook_secret, clock }));
  if (config.slack_url) sinks.push(createSlackSink({ url: config.slack_url }));
  const dispatcher = createAlertDispatcher({
    sinks,
    clock,
    store,
    onError: () => log.warn({}, 'alert delivery status not recorded'),
  });
  const write = createAlertHandler({ store, dispatcher });
  const writes = createAlertWriteCoalescer({
    write,
    clock,
    onError: () => log.warn({}, 'alert could not be stored'),
  });
  const flush = async (): Promise<void> => {
    await writes.flush();
    await dispatcher.drain();
  };
  life.defer('alerts', flush);
  return {
    dispatcher,
    store,
    raise: (alert, change = 'new') => {
      if (change === 'new') deps.onRaised?.(alert);
      write(alert, change).catch(() => log.warn({}, 'alert could not be stored'));
    },
    detected: (alert, change) => {
      if (change === 'new') deps.onRaised?.(alert);
      writes.onAlert(alert, change);
    },
    flush,
  };
}
