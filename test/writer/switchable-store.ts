import type { AuditEvent } from '../../src/core/audit-event.js';
import { TollgateError } from '../../src/core/errors.js';
import { DelegatingEventStore } from '../support/delegating-event-store.js';

/**
 * A real store whose writes can be switched off, as a full disk does: appends and the write probe
 * fail, while an empty append still succeeds (it writes nothing), as it does on a full disk.
 */
export class SwitchableStore extends DelegatingEventStore {
  down = false;
  private refuse(): void {
    if (this.down) throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'test' });
  }
  override async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length > 0) this.refuse();
    return this.inner.append(events);
  }
  override async probeWrite(): Promise<void> {
    this.refuse();
    return this.inner.probeWrite?.();
  }
}
