import { ADMIN_METHOD } from '../core/admin-action-event.js';
import type { AuditEvent, EventStatus } from '../core/audit-event.js';
import type { RetentionLock, RetentionLockHolder } from './retention-lock.js';

/** Filters of `tollgate events` (DESIGN.md "Command line"); all optional, combined with AND. */
export interface EventFilter {
  /** Inclusive lower bound on `timestamp`, epoch ms. */
  sinceMs?: number;
  /** Exclusive upper bound on `timestamp`, epoch ms. */
  untilMs?: number;
  user?: string;
  session?: string;
  feature?: string;
  /** Matches `api_key_id`, `api_key_prefix` or `virtual_key_id`. */
  key?: string;
  status?: EventStatus;
  model?: string;
  chainId?: string;
  /** Newest first by default; `asc` for oldest first (used by --follow and exports). */
  order?: 'asc' | 'desc';
  limit?: number;
  /** Only rows written after this store cursor (see `EventStore.cursor`), for --follow. */
  afterCursor?: number;
}

/**
 * One link of a chain as `iterateChainLinks` reads it: what resuming a checkpoint needs, without
 * the event's content. Administrative events (http_method ADMIN, rare: gap records among them)
 * come whole, since their fields say what they record.
 */
export interface ChainLink {
  seq: number;
  hash: string | null;
  prev_hash: string | null;
  /** The whole event when it is an administrative one, otherwise null. */
  admin: AuditEvent | null;
}

/** A ChainLink of a whole event (stores without a narrower read, and the tests' reference). */
export function chainLinkOf(e: AuditEvent): ChainLink {
  return {
    seq: e.seq ?? 0,
    hash: e.hash,
    prev_hash: e.prev_hash,
    admin: e.http_method === ADMIN_METHOD ? e : null,
  };
}

/** A chain's links through the store's narrow read, or its events when it has none. */
export async function* chainLinks(store: EventStore, chainId: string, fromSeq = 1): AsyncIterable<ChainLink> {
  if (store.iterateChainLinks) yield* store.iterateChainLinks(chainId, fromSeq);
  else for await (const e of store.iterateChain(chainId, fromSeq)) yield chainLinkOf(e);
}

/** Head of one hash chain as stored. */
export interface ChainHead {
  chain_id: string;
  seq: number;
  hash: string;
  count: number;
}

/** Head (highest seq, its hash) and event count of each chain among `events`, sorted by chain id. */
export function chainHeadsOf(events: Iterable<AuditEvent>): ChainHead[] {
  const heads = new Map<string, ChainHead>();
  for (const e of events) {
    if (e.chain_id === null || e.seq === null) continue;
    const h = heads.get(e.chain_id);
    if (!h) heads.set(e.chain_id, { chain_id: e.chain_id, seq: e.seq, hash: e.hash ?? '', count: 1 });
    else {
      h.count += 1;
      if (e.seq > h.seq) {
        h.seq = e.seq;
        h.hash = e.hash ?? '';
      }
    }
  }
  return [...heads.values()].sort((a, b) => (a.chain_id < b.chain_id ? -1 : a.chain_id > b.chain_id ? 1 : 0));
}

/** A chain's head without its count: what `EventStore.chainHeads` reads (one index seek per chain). */
export type ChainHeadPosition = Omit<ChainHead, 'count'>;

/** One page of `EventStore.page`, newest first. */
export interface EventPage {
  events: AuditEvent[];
  /** The cursor of the next (older) page, or null when this page is the last. */
  next: string | null;
}

/**
 * A position in the page order of `EventStore.page`: the event's time in epoch microseconds and
 * its store position (SQLite rowid, PostgreSQL `cursor_`, the memory store's append index). The
 * written form, `<time µs>.<position>`, is the one cursor format of every store; callers treat it
 * as opaque and hand back what `next` gave them.
 */
export interface PageCursor {
  tsUs: number;
  position: number;
}

export function formatPageCursor(c: PageCursor): string {
  return `${c.tsUs}.${c.position}`;
}

/** The cursor a string holds, or null when it is not one (`<digits>.<digits>`, each at most 16). */
export function parsePageCursor(s: string): PageCursor | null {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(s);
  if (!m) return null;
  const c = { tsUs: Number(m[1]), position: Number(m[2]) };
  return Number.isSafeInteger(c.tsUs) && Number.isSafeInteger(c.position) ? c : null;
}

/** The cursor argument of `page` parsed; a malformed one is a caller's bug (validate with parsePageCursor). */
export function pageCursorArg(cursor: string | null): PageCursor | null {
  if (cursor === null) return null;
  const c = parsePageCursor(cursor);
  if (!c) throw new RangeError('malformed page cursor (expected <time µs>.<position>)');
  return c;
}

/** The page size `page` reads: `filter.limit`, 50 by default, at least 1. */
export function pageSize(filter: EventFilter): number {
  return Math.max(1, Math.floor(filter.limit ?? 50));
}

/**
 * Append-only storage of audit events. Implementations: SQLite (default), PostgreSQL, memory.
 * All of them pass `test/contract/event-store.contract.ts`.
 */
export interface EventStore {
  /** Appends a batch atomically. Idempotent on `id`: re-appending a stored event is a no-op. */
  append(events: readonly AuditEvent[]): Promise<void>;
  query(filter: EventFilter): Promise<AuditEvent[]>;
  get(id: string): Promise<AuditEvent | null>;
  /** Events of one chain in `seq` order, from `fromSeq` (inclusive), in pages. */
  iterateChain(chainId: string, fromSeq?: number, pageSize?: number): AsyncIterable<AuditEvent>;
  /**
   * The same chain as links only (seq, hash, prev_hash; administrative events whole), a narrow
   * read for resuming checkpoints on a large chain: no content is read or decoded. Optional: a
   * store without it is read through iterateChain (see chainLinks).
   */
  iterateChainLinks?(chainId: string, fromSeq?: number): AsyncIterable<ChainLink>;
  /** Each chain's head and exact event count (`tollgate verify` compares the count with the chain). */
  chains(): Promise<ChainHead[]>;
  /**
   * Each chain's head (highest seq, its hash) without counting rows, sorted by chain id: the admin
   * and dashboard views read it on every load, so it must cost about one index seek per chain.
   */
  chainHeads(): Promise<ChainHeadPosition[]>;
  /**
   * One page of the events matching `filter` (`order` ignored, `limit` the page size, 50 by
   * default), newest first in a total order (time, then store position), starting strictly after
   * `cursor` (null: the newest). Keyset paging: exact under concurrent writes (no event repeated
   * or skipped among those stored before the first page was read), no OFFSET.
   */
  page(filter: EventFilter, cursor: string | null): Promise<EventPage>;
  /**
   * A chain's rows with seq in [firstSeq, lastSeq], seq ascending, as column arrays (no event
   * objects): `verify` confirms intact segments from them with a serializer specialised for the
   * columns (integrity/canonical-columns.ts). Optional: a store without it is walked event by event.
   */
  readChainColumns?(chainId: string, firstSeq: number, lastSeq: number): Promise<ChainColumns>;
  /**
   * The SQLite file holding the events (null in memory), for the writer's append thread, which
   * writes through a connection of its own. Other stores have none.
   */
  sqliteFile?(): string | null;
  /**
   * How a worker thread reaches the events with a connection of its own, so `verify` reads and
   * hashes chain segments in worker threads (integrity/verify-pool.ts); null when it cannot (SQLite
   * in memory, a PostgreSQL store on a pool its caller made).
   */
  readerSource?(): ReaderSource | null;
  count(filter?: EventFilter): Promise<number>;
  /** An opaque, increasing position of the last stored row (SQLite rowid, PostgreSQL bigserial). */
  cursor(): Promise<number>;
  /**
   * A small real write in its own transaction (one probe row, upserted), which fails when the
   * store cannot take writes (read-only, disk full). The writer probes with it, about once a
   * second, before it calls an unavailable store available again. An empty `append` would not do:
   * it writes nothing, so it succeeds on a read-only or full disk.
   */
  probeWrite?(): Promise<void>;
  /**
   * Retention (src/retention/prune.ts): deletes the chain's events with seq in [firstSeq, lastSeq]
   * except those whose seq is in `keepSeqs`, in one transaction; returns how many were deleted. Only
   * the prune calls it, after chaining the signed prune record that names the range. Optional: a
   * store without it cannot prune.
   */
  deleteChainRange?(
    chainId: string,
    firstSeq: number,
    lastSeq: number,
    keepSeqs: readonly number[],
  ): Promise<number>;
  /**
   * Retention: replaces the stored `prompt` and `response` of events (content pruning: by their
   * digest), in one transaction, and drops the old content from any search index; returns how many
   * rows changed.
   */
  replaceContent?(updates: readonly ContentUpdate[]): Promise<number>;
  /**
   * Retention: takes the store's prune lock for `holder` (one prune at a time across processes and
   * replicas), or says who holds it. The prune releases it when done; a holder that dies frees it.
   */
  lockRetention?(holder: string): Promise<{ lock: RetentionLock } | { heldBy: RetentionLockHolder }>;
  close(): Promise<void>;
}

/**
 * Where a worker thread opens its own read connection: a SQLite file, or a PostgreSQL URL and the
 * schema of the tables. The URL may carry a password: it is handed to the worker, never logged.
 */
export type ReaderSource =
  { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string };

/** Rows of `EventStore.readChainColumns`. */
export interface ChainColumns {
  /** One array per row, the columns in AUDIT_EVENT_FIELDS order as the driver returns them. */
  rows: unknown[][];
  /** How the values are encoded: SQLite (booleans 0/1, JSON as text) or PostgreSQL (jsonb as text, bigint as text). */
  codec: 'sqlite' | 'postgres';
  /** The event the store decodes from such a row: what `iterateChain` gives for it. */
  decode(values: readonly unknown[]): AuditEvent;
}

/** New content of one event (retention's content pruning). */
export interface ContentUpdate {
  id: string;
  prompt: string | null;
  response: string | null;
}
