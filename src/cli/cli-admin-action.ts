import type { AuditEvent } from '../core/audit-event.js';
import { adminActionEvent, type AdminAction } from '../core/admin-action-event.js';
import type { Clock } from '../core/clock.js';
import { createChainer } from '../integrity/hash-chain.js';
import type { EventStore } from '../store/event-store.js';

/** Chain of the administrative actions taken from the command line (keys, erasure). */
export const CLI_ADMIN_CHAIN = 'admin-cli';

/** Appends an admin action from the CLI to its own chain (the gateway's chains are not touched). */
export async function recordCliAdminAction(
  store: EventStore,
  a: AdminAction,
  clock: Clock,
): Promise<AuditEvent> {
  const heads = await store.chains();
  const head = heads.find((h) => h.chain_id === CLI_ADMIN_CHAIN) ?? null;
  const event = adminActionEvent(a, clock);
  event.instance_id = CLI_ADMIN_CHAIN;
  createChainer({ chainId: CLI_ADMIN_CHAIN, head }).link(event);
  await store.append([event]);
  return event;
}
