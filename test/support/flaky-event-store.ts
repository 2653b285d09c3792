import type { AuditEvent } from '../../src/core/audit-event.js';
import type { ChainHead, EventFilter, EventStore } from '../../src/store/event-store.js';

/** An EventStore whose writes fail while `down` is true: the store outage of the writer tests. */
export class FlakyEventStore implements EventStore {
  down = false;
  failedAppends = 0;
  constructor(private readonly inner: EventStore) {}
  async append(events: readonly AuditEvent[]): Promise<void> {
    if (this.down) {
      this.failedAppends++;
      throw new Error('store is down');
    }
    return this.inner.append(events);
  }
  query(filter: EventFilter): Promise<AuditEvent[]> {
    return this.inner.query(filter);
  }
  get(id: string): Promise<AuditEvent | null> {
    return this.inner.get(id);
  }
  iterateChain(chainId: string, fromSeq?: number, pageSize?: number): AsyncIterable<AuditEvent> {
    return this.inner.iterateChain(chainId, fromSeq, pageSize);
  }
  chains(): Promise<ChainHead[]> {
    return this.inner.chains();
  }
  count(filter?: EventFilter): Promise<number> {
    return this.inner.count(filter);
  }
  cursor(): Promise<number> {
    return this.inner.cursor();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
