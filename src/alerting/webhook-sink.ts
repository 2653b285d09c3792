import type { Clock } from '../core/clock.js';
import type { AlertSink } from './alert-sink.js';
import type { FetchLike } from './post-json.js';
import { defaultFetch, postJson } from './post-json.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export interface WebhookSinkOptions {
  url: string;
  /** HMAC key shared with the receiver. */
  secret: string;
  clock: Clock;
  name?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/**
 * Generic webhook: POSTs `{"type": "tollgate.alert", "change", "alert"}` as JSON, signed in the
 * `x-tollgate-signature` header (see webhook-signature.ts). The alert carries ids and figures
 * only, so the body holds no prompt content or secrets.
 */
export function createWebhookSink(options: WebhookSinkOptions): AlertSink {
  const fetchFn = options.fetch ?? defaultFetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: options.name ?? 'webhook',
    async send(alert, change) {
      const body = JSON.stringify({ type: 'tollgate.alert', change, alert });
      const t = Math.floor(options.clock.now() / 1000);
      return postJson(
        fetchFn,
        options.url,
        body,
        { [SIGNATURE_HEADER]: signWebhook(options.secret, body, t) },
        timeoutMs,
      );
    },
  };
}
