import type { AuditEvent } from '../../src/core/audit-event.js';
import type {
  ChainHead,
  ChainHeadPosition,
  EventFilter,
  EventPage,
  EventStore,
} from '../../src/store/event-store.js';

/**
 * An EventStore that passes everything to a real one: the base of the test stores that change how
 * writes behave (FlakyEventStore, SwitchableStore) and leave reads alone.
 */
export class DelegatingEventStore implements EventStore {
  constructor(readonly inner: EventStore) {}
  append(events: readonly AuditEvent[]): Promise<void> {
    return this.inner.append(events);
  }
  async probeWrite(): Promise<void> {
    return this.inner.probeWrite?.();
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
  chainHeads(): Promise<ChainHeadPosition[]> {
    return this.inner.chainHeads();
  }
  page(filter: EventFilter, cursor: string | null): Promise<EventPage> {
    return this.inner.page(filter, cursor);
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
