/**
 * What the prune records in a store say (prune-record.ts), for the prune itself and for verify:
 * each chain's signed records, the boundary up to which it was pruned, and the signed frontier
 * from which the Merkle tree goes on past the boundary.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { EventStore } from '../store/event-store.js';
import { eventHash } from './canonical-json.js';
import { DEFAULT_ORIGIN_PREFIX, checkpointOrigin, openCheckpoint } from './checkpoint.js';
import { CompactRange } from './merkle.js';
import {
  isContentPruneRecord,
  isPruneRecord,
  parseContentPruneRecord,
  parsePruneRecord,
  type ContentPruneRecord,
  type PruneRecord,
} from './prune-record.js';
import type { NoteVerifier } from './signed-note.js';

/** A record-shaped event that is not a valid record: unsigned, by an untrusted key, edited. */
export interface RejectedRecord {
  chain_id: string | null;
  seq: number | null;
  event_id: string;
  why: string;
}

export interface PruneState {
  /** Valid events prune records by pruned chain, in range order (identical copies once). */
  events: Map<string, PruneRecord[]>;
  /** Valid content prune records by chain, in range order. */
  content: Map<string, ContentPruneRecord[]>;
  rejected: RejectedRecord[];
}

/** The administrative events of a store, oldest first (records, holds, erasures, gaps). */
export async function adminEvents(events: EventStore): Promise<AuditEvent[]> {
  return events.query({ feature: 'admin', order: 'asc' });
}

/** Reads every prune record of the store; `keys` are the trusted checkpoint keys. */
export async function readPruneState(
  events: EventStore,
  keys: readonly NoteVerifier[],
  admin?: readonly AuditEvent[],
): Promise<PruneState> {
  const state: PruneState = { events: new Map(), content: new Map(), rejected: [] };
  const seen = new Set<string>();
  for (const e of admin ?? (await adminEvents(events))) {
    if (!isPruneRecord(e) && !isContentPruneRecord(e)) continue;
    const reject = (why: string): void => {
      state.rejected.push({ chain_id: e.chain_id, seq: e.seq, event_id: e.id, why });
    };
    // A record edited in place is the chain walk's to report; it proves nothing here.
    if (e.hash === null || eventHash(e) !== e.hash) {
      reject('its recomputed hash differs from the stored hash');
      continue;
    }
    const body = e.error_message ?? '';
    if (seen.has(body)) continue;
    seen.add(body);
    if (isPruneRecord(e)) {
      const p = parsePruneRecord(e, keys);
      if (!p.ok) reject(p.why);
      else push(state.events, p.record.chain_id, p.record);
    } else {
      const p = parseContentPruneRecord(e, keys);
      if (!p.ok) reject(p.why);
      else push(state.content, p.record.chain_id, p.record);
    }
  }
  for (const list of state.events.values())
    list.sort((a, b) => a.first_seq - b.first_seq || a.last_seq - b.last_seq);
  for (const list of state.content.values())
    list.sort((a, b) => a.first_seq - b.first_seq || a.last_seq - b.last_seq);
  return state;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/** The seq up to which a chain was pruned (the largest `last_seq` of its records), 0 when never. */
export function pruneBoundary(records: readonly PruneRecord[] | undefined): number {
  return (records ?? []).reduce((n, r) => Math.max(n, r.last_seq), 0);
}

/**
 * The compact range of a chain at `size` from a stored checkpoint of that size whose signature a
 * trusted key verifies and whose stored frontier gives its signed root; null when there is none.
 */
export async function signedFrontierAt(
  checkpoints: CheckpointStore,
  chainId: string,
  size: number,
  keys: readonly NoteVerifier[],
  prefix = DEFAULT_ORIGIN_PREFIX,
): Promise<CompactRange | null> {
  if (size === 0) return new CompactRange();
  const origin = checkpointOrigin(chainId, prefix);
  for (const s of await checkpoints.list(chainId)) {
    if (s.tree_size !== size || s.frontier === null) continue;
    const opened = openCheckpoint(s.note, keys);
    if (!opened.ok || opened.checkpoint.origin !== origin || opened.checkpoint.treeSize !== size) continue;
    let range: CompactRange;
    try {
      range = new CompactRange(
        size,
        s.frontier.map((h) => Buffer.from(h, 'hex')),
      );
    } catch {
      continue;
    }
    if (range.root().equals(opened.checkpoint.rootHash)) return range;
  }
  return null;
}
