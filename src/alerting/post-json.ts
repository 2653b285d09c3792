import { fetch as undiciFetch } from 'undici';
import type { SinkResult } from './alert-sink.js';

/** The slice of `fetch` the HTTP sinks use; undici's (default) and the global one both fit. Injectable for tests. */
export type FetchLike = (
  url: string,
  init: {
    method: 'POST';
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
    redirect: 'manual';
  },
) => Promise<{ status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

export const defaultFetch: FetchLike = (url, init) => undiciFetch(url, init);

/**
 * POSTs a JSON body once and classifies the outcome: 2xx delivered; 408, 429 and 5xx, timeouts
 * and network errors worth a retry; other statuses (including redirects, which are not followed:
 * a webhook URL that moves must be reconfigured, not chased) final.
 */
export async function postJson(
  fetchFn: FetchLike,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SinkResult> {
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    // Read the body so the connection is reused; its content is never recorded.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, reason: `http_${res.status}`, retryable };
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError')
      return { ok: false, reason: 'timeout', retryable: true };
    return { ok: false, reason: 'network', retryable: true };
  }
}
