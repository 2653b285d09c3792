import type { AuditEvent } from '../core/audit-event.js';
import { GENESIS_PREV_HASH, type ChainPosition } from '../integrity/hash-chain.js';
import type { GapRange } from '../integrity/gap-record.js';
import type { EventStore } from '../store/event-store.js';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import type { DiskSpool } from './disk-spool.js';
import type { EventWriter } from './event-writer.js';
import type { GapJournal } from './gap-journal.js';
import type { SeqReservation } from './seq-reservation.js';

export interface ResumeOptions {
  chainId: string;
  store: EventStore;
  writer: EventWriter;
  spool?: DiskSpool | undefined;
  journal?: GapJournal | undefined;
  reservation?: SeqReservation | undefined;
  /** False for a chain that is new by construction (an SDK process with a random id). */
  continueStored?: boolean;
  log?: ((msg: string, fields?: Record<string, unknown>) => void) | undefined;
}

export interface ResumedChain {
  /** Where the chainer continues from (null: a new chain). */
  head: ChainPosition | null;
  /** Gaps to chain as records before new events: the journal's and a crash gap, if any. */
  carried: GapRange[];
}

/**
 * Where a restarted writer's chain continues (docs/reliability.md "Crash"). What an earlier run
 * spooled is replayed first (or, if the store still refuses it, the chain continues after the
 * spool's last event); gaps it journaled are carried; and when its seq mark is above everything
 * stored, spooled or journaled, the process died holding events: the reserved seqs are skipped
 * (a client may hold the id of an event that had one) and named by a crash gap. Never reuses a
 * seq that may have been handed out.
 */
export async function resumeChain(o: ResumeOptions): Promise<ResumedChain> {
  // Replayed before the head is read, or new events would reuse the spooled seqs and fork the chain.
  await o.writer.replaySpool();
  let head: ChainPosition | null = null;
  let last: AuditEvent | null = null;
  if (o.continueStored !== false) {
    const heads = await o.store.chains();
    head = heads.find((h) => h.chain_id === o.chainId) ?? null;
    const stored = head?.seq ?? 0;
    const inSpool = o.spool?.read().events.filter((e) => e.chain_id === o.chainId) ?? [];
    const spooled = inSpool.at(-1);
    if (spooled?.seq != null && spooled.hash !== null && spooled.seq > (head?.seq ?? 0))
      head = { seq: spooled.seq, hash: spooled.hash };
    last = await lastAnswered(o.store, o.chainId, stored, inSpool);
  }
  try {
    // Allocated now, while the disk has room: it is rewritten in place when a gap closes.
    o.journal?.allocate();
  } catch (err) {
    o.log?.('gap journal could not be created', { err: err instanceof Error ? err.name : 'unknown' });
  }
  const carried =
    o.continueStored === false ? [] : (o.journal?.load() ?? []).filter((g) => g.chain_id === o.chainId);
  for (const g of carried) if (g.last_seq > (head?.seq ?? 0)) head = { seq: g.last_seq, hash: g.last_hash };
  const crash = o.continueStored === false ? null : crashGap(o.chainId, head, last, o.reservation);
  if (crash) {
    carried.push(crash);
    head = { seq: crash.last_seq, hash: crash.last_hash };
  }
  o.reservation?.start(head?.seq ?? 0);
  if (carried.length > 0) {
    o.log?.('events an earlier run lost are chained as gap records', {
      gaps: carried.map((g) => ({
        reason: g.reason,
        first_seq: g.first_seq,
        last_seq: g.last_seq,
        count: g.count,
      })),
    });
  }
  return { head, carried };
}

/** Stored events read back from the head to find the last answered exchange. */
const ANSWERED_WINDOW = 64;

/**
 * The last stored or spooled exchange event of the chain (not an admin event: those are chained
 * when they happen, not when an answer ends), or the last event of any kind when the window holds
 * no exchange; null for an empty chain.
 */
async function lastAnswered(
  store: EventStore,
  chainId: string,
  storedHead: number,
  spooled: readonly AuditEvent[],
): Promise<AuditEvent | null> {
  const isExchange = (e: AuditEvent): boolean => e.http_method !== ADMIN_METHOD;
  const fromSpool = [...spooled].reverse().find(isExchange);
  if (fromSpool) return fromSpool;
  let exchange: AuditEvent | null = null;
  let any: AuditEvent | null = null;
  if (storedHead > 0) {
    for await (const e of store.iterateChain(
      chainId,
      Math.max(1, storedHead - ANSWERED_WINDOW + 1),
      ANSWERED_WINDOW,
    )) {
      if (e.seq === null || e.seq > storedHead) break;
      any = e;
      if (isExchange(e)) exchange = e;
    }
  }
  return exchange ?? spooled.at(-1) ?? any;
}

/**
 * The seqs a crashed run reserved past the last event stored, spooled or journaled: they may have
 * been handed out (their events answered) and lost. Null after a clean stop (the mark is the head).
 * `at` is a lower bound on when the lost events were answered: the end of the last stored exchange,
 * since exchanges are chained in the order they are answered (fail-open: `recordSoon` is FIFO).
 */
function crashGap(
  chainId: string,
  head: ChainPosition | null,
  last: AuditEvent | null,
  reservation: SeqReservation | undefined,
): GapRange | null {
  const mark = reservation?.previous?.reserved ?? null;
  const from = head?.seq ?? 0;
  if (mark === null || mark <= from) return null;
  const endMs = last ? Date.parse(last.timestamp) + (last.latency_ms ?? 0) - 1 : 0;
  return {
    chain_id: chainId,
    first_seq: from + 1,
    last_seq: mark,
    count: mark - from,
    reason: 'crash',
    at: new Date(Number.isFinite(endMs) ? Math.max(0, endMs) : 0).toISOString(),
    // The chain resumes from the last known hash (the lost events' hashes are not known).
    last_hash: head?.hash ?? GENESIS_PREV_HASH,
  };
}
