import type { AuditEvent } from '../../core/audit-event.js';
import {
  chainHeadsOf,
  chainLinkOf,
  formatPageCursor,
  pageCursorArg,
  pageSize,
  type ChainHead,
  type ChainHeadPosition,
  type ChainLink,
  type EventFilter,
  type EventPage,
  type EventStore,
} from '../event-store.js';

/**
 * An in-memory EventStore for tests, benchmarks and the in-process SDK without a database.
 * Rows are kept in append order (like SQLite's rowid); `iterateChain` orders them by `seq`,
 * ties in append order, as `ORDER BY seq` over a rowid table does.
 */
export class MemoryEventStore implements EventStore {
  private readonly rows: AuditEvent[] = [];
  private readonly ids = new Map<string, AuditEvent>();

  async append(events: readonly AuditEvent[]): Promise<void> {
    // Atomic: nothing is stored unless the whole batch is accepted (duplicate ids are no-ops).
    const batch: AuditEvent[] = [];
    const seen = new Set<string>();
    for (const e of events) {
      if (this.ids.has(e.id) || seen.has(e.id)) continue;
      seen.add(e.id);
      batch.push(copyEvent(e));
    }
    for (const e of batch) {
      this.rows.push(e);
      this.ids.set(e.id, e);
    }
  }

  async query(filter: EventFilter): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    const asc = filter.order === 'asc';
    const n = this.rows.length;
    for (let k = 0; k < n; k++) {
      if (filter.limit !== undefined && out.length >= filter.limit) break; // limit 0 returns nothing
      const i = asc ? k : n - 1 - k;
      const e = this.rows[i]!;
      if (filter.afterCursor !== undefined && i + 1 <= filter.afterCursor) continue;
      if (!matches(e, filter)) continue;
      out.push(copyEvent(e));
    }
    return out;
  }

  async get(id: string): Promise<AuditEvent | null> {
    const e = this.ids.get(id);
    return e ? copyEvent(e) : null;
  }

  async *iterateChain(chainId: string, fromSeq = 1, pageSize = 5000): AsyncIterable<AuditEvent> {
    const chain = this.rows.filter((e) => e.chain_id === chainId && e.seq !== null && e.seq >= fromSeq);
    // Array.prototype.sort is stable, so equal seqs keep append order.
    chain.sort((a, b) => a.seq! - b.seq!);
    for (let i = 0; i < chain.length; i += pageSize) {
      const page = chain.slice(i, i + pageSize);
      for (const e of page) yield copyEvent(e);
    }
  }

  async *iterateChainLinks(chainId: string, fromSeq = 1): AsyncIterable<ChainLink> {
    for await (const e of this.iterateChain(chainId, fromSeq)) yield chainLinkOf(e);
  }

  async chains(): Promise<ChainHead[]> {
    return chainHeadsOf(this.rows);
  }

  async chainHeads(): Promise<ChainHeadPosition[]> {
    return chainHeadsOf(this.rows).map(({ chain_id, seq, hash }) => ({ chain_id, seq, hash }));
  }

  /** Pages in (time in ms, append position) order, newest first; positions count from 1 like `cursor()`. */
  async page(filter: EventFilter, cursor: string | null): Promise<EventPage> {
    const after = pageCursorArg(cursor);
    const size = pageSize(filter);
    const keyed: { us: number; pos: number; e: AuditEvent }[] = [];
    this.rows.forEach((e, i) => {
      if (filter.afterCursor !== undefined && i + 1 <= filter.afterCursor) return;
      if (matches(e, filter)) keyed.push({ us: Date.parse(e.timestamp) * 1000, pos: i + 1, e });
    });
    keyed.sort((a, b) => b.us - a.us || b.pos - a.pos);
    const from = after
      ? keyed.filter((k) => k.us < after.tsUs || (k.us === after.tsUs && k.pos < after.position))
      : keyed;
    const shown = from.slice(0, size);
    const last = shown[shown.length - 1];
    return {
      events: shown.map((k) => copyEvent(k.e)),
      next: from.length > size && last ? formatPageCursor({ tsUs: last.us, position: last.pos }) : null,
    };
  }

  async count(filter: EventFilter = {}): Promise<number> {
    let n = 0;
    this.rows.forEach((e, i) => {
      if (filter.afterCursor !== undefined && i + 1 <= filter.afterCursor) return;
      if (matches(e, filter)) n++;
    });
    return n;
  }

  async cursor(): Promise<number> {
    return this.rows.length;
  }

  async close(): Promise<void> {}

  /**
   * The stored rows themselves, in append order, for tests that play an attacker with direct
   * access to the storage (the memory equivalent of raw SQL). Mutating them bypasses every check.
   */
  unsafeRows(): AuditEvent[] {
    return this.rows;
  }

  /** Re-indexes ids after `unsafeRows()` was edited. */
  unsafeReindex(): void {
    this.ids.clear();
    for (const e of this.rows) this.ids.set(e.id, e);
  }
}

/** Copies in and out so callers can't change stored rows; arrays are the only nested values. */
function copyEvent(e: AuditEvent): AuditEvent {
  const c = { ...e };
  if (Array.isArray(e.redactions)) c.redactions = e.redactions.map((r) => ({ ...r }));
  if (Array.isArray(e.threat_indicators)) c.threat_indicators = [...e.threat_indicators];
  return c;
}

function matches(e: AuditEvent, f: EventFilter): boolean {
  const ts = Date.parse(e.timestamp);
  if (f.sinceMs !== undefined && ts < f.sinceMs) return false;
  if (f.untilMs !== undefined && ts >= f.untilMs) return false;
  if (f.user !== undefined && e.user_id !== f.user) return false;
  if (f.session !== undefined && e.session_id !== f.session) return false;
  if (f.feature !== undefined && e.feature_name !== f.feature) return false;
  if (
    f.key !== undefined &&
    e.api_key_id !== f.key &&
    e.api_key_prefix !== f.key &&
    e.virtual_key_id !== f.key
  )
    return false;
  if (f.status !== undefined && e.status !== f.status) return false;
  if (f.model !== undefined && e.model_requested !== f.model && e.model_used !== f.model) return false;
  if (f.chainId !== undefined && e.chain_id !== f.chainId) return false;
  return true;
}
