import type { AuditEvent } from '../../src/core/audit-event.js';
import { TollgateError } from '../../src/core/errors.js';
import type { ChainHead, EventFilter, EventStore } from '../../src/store/event-store.js';

/**
 * A real store whose writes can be switched off, as a full disk does: appends and the write probe
 * fail, while an empty append still succeeds (it writes nothing), as it does on a full disk.
 */
export class SwitchableStore implements EventStore {
  down = false;
  constructor(readonly inner: EventStore) {}
  private refuse(): void {
    if (this.down) throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'test' });
  }
  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length > 0) this.refuse();
    return this.inner.append(events);
  }
  async probeWrite(): Promise<void> {
    this.refuse();
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
