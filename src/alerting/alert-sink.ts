import type { Alert, AlertChange } from './alert.js';

/** Outcome of one delivery attempt. `reason` is a short code, never a response body. */
export type SinkResult = { ok: true } | { ok: false; reason: string; retryable: boolean };

/** Somewhere alerts go: a webhook, Slack, the log. Retries and queueing belong to the dispatcher. */
export interface AlertSink {
  /** Unique per dispatcher; recorded in `Alert.deliveries[].sink`. */
  readonly name: string;
  /** One attempt. Resolves with the outcome; does not throw. */
  send(alert: Alert, change: AlertChange): Promise<SinkResult>;
}
