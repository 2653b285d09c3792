import type { AuditEvent } from '../core/audit-event.js';
import type { EventFilter, EventStore } from '../store/event-store.js';

export interface PageOptions {
  /** Inclusive lower bound, epoch ms. */
  sinceMs: number;
  /** Exclusive upper bound, epoch ms. */
  untilMs: number;
  /** Most events held in memory per page (default 2000); one millisecond with more is read whole. */
  pageSize?: number;
  /** Further filters (user, model, status …); their time bounds are ignored. */
  filter?: Omit<EventFilter, 'sinceMs' | 'untilMs' | 'limit' | 'order' | 'afterCursor'>;
}

/**
 * Reads events of a time range in bounded pages, oldest first, each event once, with only the
 * `EventStore.query` every store has: the range is walked in consecutive time windows that halve
 * when a window holds more than a page and double while they hold little. Stores return rows in
 * write order, so each window is sorted by timestamp before it is yielded.
 */
export async function* timeWindowPages(store: EventStore, o: PageOptions): AsyncGenerator<AuditEvent[]> {
  const pageSize = Math.max(1, o.pageSize ?? 2000);
  let from = o.sinceMs;
  let width = 60_000;
  while (from < o.untilMs) {
    const to = Math.min(o.untilMs, from + width);
    const page = await store.query({
      ...o.filter,
      sinceMs: from,
      untilMs: to,
      order: 'asc',
      limit: pageSize + 1,
    });
    if (page.length > pageSize && to - from > 1) {
      width = Math.max(1, Math.floor((to - from) / 2));
      continue;
    }
    // A single millisecond with more than a page: it cannot be split further, so it is read whole.
    const events =
      page.length > pageSize
        ? await store.query({ ...o.filter, sinceMs: from, untilMs: to, order: 'asc' })
        : page;
    if (events.length > 0)
      yield events.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    from = to;
    if (page.length < pageSize / 4) width = Math.min(width * 2, 366 * 86_400_000);
  }
}
