/**
 * The contract every EventStore passes (STYLE.md rule 8): SQLite, memory and PostgreSQL run this
 * same suite, so a behaviour the CLI or the verifier relies on cannot differ between them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import {
  chainLinkOf,
  chainLinks,
  parsePageCursor,
  type ChainLink,
  type EventFilter,
  type EventStore,
} from '../../src/store/event-store.js';
import { sampleEvent } from '../integrity/sample-events.js';

/** Opens a fresh, empty store; `dispose` (optional) removes what it created after `close()`. */
export type EventStoreFactory = () => Promise<{ store: EventStore; dispose?: () => Promise<void> }>;

const BASE = Date.UTC(2026, 0, 1, 12);

/** Event `i` of chain `chain` at seq `seq`, `i` seconds... apart (`sampleEvent` spaces them 250 ms). */
function chained(i: number, chain: string, seq: number, baseMs = BASE): AuditEvent {
  const e = sampleEvent(i, baseMs);
  e.chain_id = chain;
  e.seq = seq;
  e.prev_hash = seq === 1 ? '0'.repeat(64) : `prev-${chain}-${seq}`;
  e.hash = `hash-${chain}-${seq}`;
  return e;
}

/** Every page of `filter` at `size` per page: the events in page order and the number of pages. */
async function allPages(s: EventStore, filter: EventFilter, size: number): Promise<AuditEvent[][]> {
  const pages: AuditEvent[][] = [];
  let cursor: string | null = null;
  do {
    const p = await s.page({ ...filter, limit: size }, cursor);
    if (p.next !== null) expect(parsePageCursor(p.next)).not.toBeNull();
    pages.push(p.events);
    cursor = p.next;
    if (pages.length > 1000) throw new Error('paging does not end');
  } while (cursor !== null);
  return pages;
}

async function collect<T = AuditEvent>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of it) out.push(e);
  return out;
}

export function eventStoreContract(name: string, factory: EventStoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    const opened: { store: EventStore; dispose?: () => Promise<void> }[] = [];
    const open = async (): Promise<EventStore> => {
      const o = await factory();
      opened.push(o);
      return o.store;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.store.close();
        await o.dispose?.();
      }
    });

    it('stores every field and returns it unchanged (get, query)', async () => {
      const s = await open();
      const events = [chained(0, 'a', 1), chained(13, 'a', 2), chained(22, 'a', 3)];
      events[1]!.stream = null;
      events[1]!.latency_ms = null;
      events[1]!.cost_micro_usd = null;
      events[2]!.is_anomalous = true;
      events[2]!.cost_micro_usd = 9_007_199_254; // beyond int32: bigint columns must round-trip
      await s.append(events);
      for (const e of events) expect(await s.get(e.id)).toEqual(e);
      expect(await s.get('0194b2c0-0000-7000-8000-ffffffffffff')).toBeNull();
      expect(await s.query({ order: 'asc' })).toEqual(events);
    });

    it('is idempotent on id: re-appending stored events, or duplicates within a batch, stores each once', async () => {
      const s = await open();
      const events = Array.from({ length: 5 }, (_, i) => chained(i, 'a', i + 1));
      await s.append(events.slice(0, 3));
      await s.append(events); // a replay overlapping what is stored
      await s.append([events[4]!, events[4]!]);
      await s.append([]);
      expect(await s.count()).toBe(5);
      expect((await s.query({ order: 'asc' })).map((e) => e.id)).toEqual(events.map((e) => e.id));
      expect(await s.chains()).toEqual([{ chain_id: 'a', seq: 5, hash: 'hash-a-5', count: 5 }]);
    });

    it('keeps the first stored version when a replay carries the same id', async () => {
      const s = await open();
      const e = chained(1, 'a', 1);
      await s.append([e]);
      await s.append([{ ...e, response: 'changed on replay' }]);
      expect((await s.get(e.id))!.response).toBe(e.response);
    });

    it('filters by time, user, session, feature, key, status, model and chain, combined with AND', async () => {
      const s = await open();
      const events = Array.from({ length: 60 }, (_, i) =>
        chained(i, i % 2 === 0 ? 'even' : 'odd', Math.floor(i / 2) + 1),
      );
      events[7]!.virtual_key_id = 'vk_7';
      events[8]!.model_used = 'gpt-4.1-2025-04-14';
      await s.append(events);
      const ids = async (f: Parameters<EventStore['query']>[0]): Promise<string[]> =>
        (await s.query({ ...f, order: 'asc' })).map((e) => e.id);
      const expectIds = (pred: (e: AuditEvent, i: number) => boolean): string[] =>
        events.filter(pred).map((e) => e.id);
      const at = (i: number): number => BASE + i * 250;

      expect(await ids({ sinceMs: at(10) })).toEqual(expectIds((_, i) => i >= 10));
      expect(await ids({ untilMs: at(10) })).toEqual(expectIds((_, i) => i < 10));
      expect(await ids({ sinceMs: at(10), untilMs: at(20) })).toEqual(expectIds((_, i) => i >= 10 && i < 20));
      expect(await ids({ user: 'user-3' })).toEqual(expectIds((e) => e.user_id === 'user-3'));
      expect(await ids({ session: 'sess-2' })).toEqual(expectIds((e) => e.session_id === 'sess-2'));
      expect(await ids({ feature: 'support-bot' })).toHaveLength(60);
      expect(await ids({ feature: 'other' })).toEqual([]);
      expect(await ids({ key: 'kf_3' })).toEqual(expectIds((e) => e.api_key_id === 'kf_3'));
      expect(await ids({ key: 'sk-proj-' })).toHaveLength(60);
      expect(await ids({ key: 'vk_7' })).toEqual([events[7]!.id]);
      expect(await ids({ status: 'RATE_LIMITED' })).toEqual(expectIds((e) => e.status === 'RATE_LIMITED'));
      expect(await ids({ model: 'gpt-4o-mini' })).toEqual(
        expectIds((e) => e.model_requested === 'gpt-4o-mini'),
      );
      expect(await ids({ model: 'gpt-4.1-2025-04-14' })).toEqual([events[8]!.id]);
      expect(await ids({ chainId: 'odd' })).toEqual(expectIds((e) => e.chain_id === 'odd'));
      expect(await ids({ chainId: 'odd', user: 'user-3', sinceMs: at(20) })).toEqual(
        expectIds((e, i) => e.chain_id === 'odd' && e.user_id === 'user-3' && i >= 20),
      );
      expect(await s.count({ chainId: 'even', status: 'SUCCESS' })).toBe(
        events.filter((e) => e.chain_id === 'even' && e.status === 'SUCCESS').length,
      );
    });

    it('orders by write order, newest first by default, and applies the limit after the order', async () => {
      const s = await open();
      // Written in an order that differs from timestamp order: the store orders by write, not by time.
      const events = [chained(5, 'a', 1), chained(1, 'b', 1), chained(9, 'a', 2), chained(3, 'b', 2)];
      for (const e of events) await s.append([e]);
      const all = events.map((e) => e.id);
      expect((await s.query({})).map((e) => e.id)).toEqual([...all].reverse());
      expect((await s.query({ order: 'asc' })).map((e) => e.id)).toEqual(all);
      expect((await s.query({ limit: 2 })).map((e) => e.id)).toEqual([all[3], all[2]]);
      expect((await s.query({ order: 'asc', limit: 3, chainId: 'a' })).map((e) => e.id)).toEqual([
        all[0],
        all[2],
      ]);
      expect(await s.query({ limit: 0 })).toEqual([]);
    });

    it('has an increasing cursor, and afterCursor returns only what was written later', async () => {
      const s = await open();
      expect(await s.cursor()).toBe(0);
      await s.append([chained(0, 'a', 1), chained(1, 'a', 2)]);
      const c1 = await s.cursor();
      expect(c1).toBeGreaterThan(0);
      await s.append([chained(0, 'a', 1)]); // a replay stores nothing and moves nothing
      expect(await s.cursor()).toBe(c1);
      expect(await s.query({ afterCursor: c1 })).toEqual([]);
      const later = [chained(2, 'a', 3), chained(3, 'a', 4)];
      await s.append(later);
      const c2 = await s.cursor();
      expect(c2).toBeGreaterThan(c1);
      expect((await s.query({ afterCursor: c1, order: 'asc' })).map((e) => e.id)).toEqual(
        later.map((e) => e.id),
      );
      expect(await s.count({ afterCursor: c1 })).toBe(2);
      expect(await s.query({ afterCursor: c2 })).toEqual([]);
    });

    it('iterates one chain in seq order from a given seq, across pages', async () => {
      const s = await open();
      // Seqs written out of order, interleaved with another chain.
      const order = [3, 1, 2, 7, 5, 4, 6, 9, 8, 10, 11];
      await s.append(order.map((seq) => chained(seq, 'c', seq)));
      await s.append([chained(100, 'other', 1), chained(101, 'other', 2)]);
      const seqs = (await collect(s.iterateChain('c', 1, 3))).map((e) => e.seq);
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect((await collect(s.iterateChain('c', 5, 2))).map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11]);
      expect((await collect(s.iterateChain('c'))).map((e) => e.seq)).toHaveLength(11);
      expect((await collect(s.iterateChain('c', 12))).length).toBe(0);
      expect(await collect(s.iterateChain('missing'))).toEqual([]);
      // A page size that divides the chain exactly still ends.
      expect((await collect(s.iterateChain('other', 1, 2))).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('reads chain links (seq, hash, prev_hash; administrative events whole) equal to the events', async () => {
      const s = await open();
      const events = [3, 1, 2, 5, 4, 6].map((seq) => chained(seq, 'c', seq));
      events[2]!.http_method = 'ADMIN'; // seq 2: an administrative event (a gap record, say)
      events[2]!.endpoint = 'admin:writer.gap';
      await s.append(events);
      await s.append([chained(100, 'other', 1)]);
      const want = (await collect(s.iterateChain('c', 2))).map(chainLinkOf);
      expect(want.map((l) => l.seq)).toEqual([2, 3, 4, 5, 6]);
      expect(want[0]!.admin).toMatchObject({ http_method: 'ADMIN', endpoint: 'admin:writer.gap', seq: 2 });
      expect(await collect<ChainLink>(chainLinks(s, 'c', 2))).toEqual(want);
      if (s.iterateChainLinks) expect(await collect(s.iterateChainLinks('c', 2))).toEqual(want);
      expect(await collect<ChainLink>(chainLinks(s, 'missing'))).toEqual([]);
    });

    it('reports each chain head (highest seq, its hash, the count) sorted by chain id', async () => {
      const s = await open();
      expect(await s.chains()).toEqual([]);
      await s.append([chained(0, 'gw-b', 1), chained(1, 'gw-a', 1), chained(2, 'gw-b', 2)]);
      await s.append([chained(3, 'gw-b', 3), chained(4, 'gw-a', 2), chained(5, 'gw-a', 3)]);
      const unchained = sampleEvent(99, BASE);
      await s.append([unchained]);
      expect(await s.chains()).toEqual([
        { chain_id: 'gw-a', seq: 3, hash: 'hash-gw-a-3', count: 3 },
        { chain_id: 'gw-b', seq: 3, hash: 'hash-gw-b-3', count: 3 },
      ]);
      expect(await s.count()).toBe(7);
    });

    it('pages newest first with a keyset cursor: every match once, across many events of one millisecond', async () => {
      const s = await open();
      // 150 events in one millisecond (more than any "fetch a few extra rows" scheme steps over),
      // between events of other times, written out of time order, in several batches.
      const same = Array.from({ length: 150 }, (_, i) => {
        const e = chained(i, 'a', i + 1);
        e.timestamp = new Date(BASE + 5000).toISOString();
        e.user_id = i % 3 === 0 ? 'carol' : 'dave';
        return e;
      });
      const other = Array.from({ length: 40 }, (_, i) => {
        const e = chained(200 + i, 'b', i + 1);
        e.user_id = i % 3 === 0 ? 'carol' : 'dave';
        return e;
      });
      await s.append(other.slice(20));
      await s.append(same.slice(0, 70));
      await s.append(other.slice(0, 20));
      await s.append(same.slice(70));
      const everything = [...same, ...other];
      for (const [filter, size] of [
        [{}, 7],
        [{}, 150],
        [{ user: 'carol' }, 4],
        [{ user: 'carol', sinceMs: BASE + 5000 }, 9],
        [{ chainId: 'b', untilMs: BASE + 60_000 }, 3],
      ] as [EventFilter, number][]) {
        const pages = await allPages(s, filter, size);
        const seen = pages.flat();
        const want = (await s.query({ ...filter, order: 'asc' })).map((e) => e.id);
        expect(seen.map((e) => e.id).sort()).toEqual([...want].sort());
        expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
        // Newest first by time; the last page alone may be short, and only the last is.
        const times = seen.map((e) => Date.parse(e.timestamp));
        expect(times).toEqual([...times].sort((x, y) => y - x));
        pages.slice(0, -1).forEach((p) => expect(p).toHaveLength(size));
        expect(pages[pages.length - 1]!.length).toBeLessThanOrEqual(size);
        for (const e of seen) expect(e).toEqual(everything.find((x) => x.id === e.id));
      }
    });

    it('pages exactly while events are written: nothing repeated, nothing stored before skipped', async () => {
      const s = await open();
      // Six events in each of five milliseconds.
      const at = (i: number, chain: string, seq: number, ms: number): AuditEvent => ({
        ...chained(i, chain, seq),
        timestamp: new Date(BASE + ms * 250).toISOString(),
      });
      const first = Array.from({ length: 30 }, (_, i) => at(i, 'a', i + 1, i % 5));
      await s.append(first);
      const p1 = await s.page({ limit: 10 }, null);
      expect(p1.events).toHaveLength(10);
      // New events, newer and as old as those shown, arrive between two pages.
      const newer = at(50, 'a', 31, 50);
      await s.append([newer, at(51, 'b', 1, 0), at(52, 'b', 2, 4)]);
      const rest: AuditEvent[] = [];
      let cursor = p1.next;
      while (cursor !== null) {
        const p = await s.page({ limit: 10 }, cursor);
        rest.push(...p.events);
        cursor = p.next;
      }
      const ids = [...p1.events, ...rest].map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const e of first) expect(ids).toContain(e.id);
      expect(ids).not.toContain(newer.id);
    });

    it('answers an empty page and a page that ends exactly at its size without a next cursor', async () => {
      const s = await open();
      expect(await s.page({}, null)).toEqual({ events: [], next: null });
      await s.append([chained(0, 'a', 1), chained(1, 'a', 2), chained(2, 'a', 3)]);
      const whole = await s.page({ limit: 3 }, null);
      expect(whole.events.map((e) => e.seq)).toEqual([3, 2, 1]);
      expect(whole.next).toBeNull();
      const head = await s.page({ limit: 2 }, null);
      expect(head.events.map((e) => e.seq)).toEqual([3, 2]);
      expect((await s.page({ limit: 2 }, head.next)).events.map((e) => e.seq)).toEqual([1]);
      expect((await s.page({ user: 'nobody' }, null)).events).toEqual([]);
      await expect(s.page({}, 'not-a-cursor')).rejects.toThrow(/cursor/);
    });

    it('reads chain heads without counts equal to the counted ones', async () => {
      const s = await open();
      expect(await s.chainHeads()).toEqual([]);
      await s.append([chained(0, 'gw-b', 1), chained(1, 'gw-a', 1), chained(2, 'gw-b', 2)]);
      await s.append([chained(3, 'gw-b', 3), sampleEvent(98, BASE), chained(4, 'gw-a', 2)]);
      expect(await s.chainHeads()).toEqual(
        (await s.chains()).map(({ chain_id, seq, hash }) => ({ chain_id, seq, hash })),
      );
      expect(await s.chainHeads()).toEqual([
        { chain_id: 'gw-a', seq: 2, hash: 'hash-gw-a-2' },
        { chain_id: 'gw-b', seq: 3, hash: 'hash-gw-b-3' },
      ]);
    });

    it('stores events that span several days (and partitions, where a store has them)', async () => {
      const s = await open();
      const day = 24 * 3600_000;
      const events = [0, 1, 2, 40].map((d, i) => chained(i, 'a', i + 1, BASE + d * day));
      await s.append(events);
      expect(await s.count()).toBe(4);
      expect(
        (await s.query({ sinceMs: BASE + day, untilMs: BASE + 3 * day, order: 'asc' })).map((e) => e.seq),
      ).toEqual([2, 3]);
      expect((await collect(s.iterateChain('a'))).map((e) => e.id)).toEqual(events.map((e) => e.id));
      await s.append(events); // replay across partitions
      expect(await s.count()).toBe(4);
    });

    it('appends a batch atomically: a batch that fails stores nothing', async () => {
      const s = await open();
      const good = chained(0, 'a', 1);
      const bad = { ...chained(1, 'a', 2), timestamp: 'not a time' } as AuditEvent;
      bad.status = undefined as unknown as AuditEvent['status'];
      const broken = { ...bad, redactions: undefined as unknown as AuditEvent['redactions'] };
      // A store may accept odd values; what it must not do is keep half a batch it rejected.
      let rejected = false;
      try {
        await s.append([good, broken]);
      } catch {
        rejected = true;
      }
      if (rejected) expect(await s.count()).toBe(0);
      else expect(await s.count()).toBe(2);
    });
  });
}
