import type { AuditEvent } from '../core/audit-event.js';
import { createChainer } from '../integrity/hash-chain.js';
import type { EventStore } from '../store/event-store.js';

/**
 * Links an administrative event (a prune or hold record) at the head of `chainId` and stores it,
 * resolving once it is stored. For a chain whose only writer is the caller: the command line's
 * `admin-cli` chain (the gateway's chains are not touched).
 */
export async function appendAdminEvent(
  store: EventStore,
  chainId: string,
  event: AuditEvent,
): Promise<AuditEvent> {
  const heads = await store.chains();
  const head = heads.find((h) => h.chain_id === chainId) ?? null;
  event.instance_id = chainId;
  createChainer({ chainId, head }).link(event);
  await store.append([event]);
  return event;
}
