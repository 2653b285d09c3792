import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type {
  ChainHead,
  ChainHeadPosition,
  EventFilter,
  EventPage,
  EventStore,
} from '../store/event-store.js';

export interface HttpEventSinkOptions {
  /** The ingest endpoint of a running `tollgate serve`, e.g. `http://127.0.0.1:8787/ingest`. */
  url: string;
  /** The bearer token the ingest route expects (the gateway's admin token). */
  token: string;
  /** Longest wait for one batch, ms. */
  timeoutMs?: number;
  /** The transport; a plain (never the audited) fetch. */
  fetch?: typeof fetch;
}

/**
 * Ships events to a running gateway (`POST` of a JSON array with a bearer token) so that many app
 * instances can feed one audit store. It is the store behind the SDK's writer, so batching, the
 * bounded queue, the spool and retries are the writer's; a refused or failed POST throws
 * `TG_ERR_STORE_WRITE` and the writer's failure policy applies. It only writes.
 */
export class HttpEventSink implements EventStore {
  private readonly url: URL;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: HttpEventSinkOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'sink.url' });
    }
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Posts the batch; an empty batch is posted too, as a health probe (the writer probes that way). */
  async append(events: readonly AuditEvent[]): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(events),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'http', batch: events.length }, { cause: err });
    }
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok)
      throw new TollgateError('TG_ERR_STORE_WRITE', {
        store: 'http',
        batch: events.length,
        status: res.status,
      });
  }

  query(_filter: EventFilter): Promise<AuditEvent[]> {
    return writeOnly();
  }
  get(_id: string): Promise<AuditEvent | null> {
    return writeOnly();
  }
  // eslint-disable-next-line require-yield
  async *iterateChain(_chainId: string): AsyncIterable<AuditEvent> {
    throw new TollgateError('TG_ERR_STORE_WRITE_ONLY', { store: 'http' });
  }
  chains(): Promise<ChainHead[]> {
    return writeOnly();
  }
  chainHeads(): Promise<ChainHeadPosition[]> {
    return writeOnly();
  }
  page(_filter: EventFilter, _cursor: string | null): Promise<EventPage> {
    return writeOnly();
  }
  count(_filter?: EventFilter): Promise<number> {
    return writeOnly();
  }
  cursor(): Promise<number> {
    return writeOnly();
  }
  async close(): Promise<void> {}
}

function writeOnly<T>(): Promise<T> {
  return Promise.reject(new TollgateError('TG_ERR_STORE_WRITE_ONLY', { store: 'http' }));
}
