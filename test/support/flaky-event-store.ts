import type { AuditEvent } from '../../src/core/audit-event.js';
import { DelegatingEventStore } from './delegating-event-store.js';

/** An EventStore whose writes fail while `down` is true: the store outage of the writer tests. */
export class FlakyEventStore extends DelegatingEventStore {
  down = false;
  failedAppends = 0;
  override async append(events: readonly AuditEvent[]): Promise<void> {
    if (this.down) {
      this.failedAppends++;
      throw new Error('store is down');
    }
    return this.inner.append(events);
  }
  override async probeWrite(): Promise<void> {
    if (this.down) throw new Error('store is down');
    return this.inner.probeWrite?.();
  }
}
