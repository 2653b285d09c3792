/**
 * Requests in flight per subject (the `concurrent` limit). A slot is a lease: taken at admission,
 * released when the request ends, and dropped on its own after `leaseMs` (the request's total
 * deadline) so a replica that crashed mid-request cannot hold a slot forever. A Redis
 * implementation (src/state/redis-concurrency-state.ts) shares the slots between replicas.
 */
export interface ConcurrencyState {
  /**
   * Atomically: when `subject` holds fewer than `limit` live leases, adds lease `id` (expiring at
   * `nowMs + leaseMs`) and admits; otherwise admits nothing. Expired leases are dropped first.
   */
  acquire(subject: string, id: string, limit: number, leaseMs: number, nowMs: number): Promise<boolean>;
  /** Drops lease `id` (a no-op when it expired or was never taken). */
  release(subject: string, id: string): Promise<void>;
}

/**
 * In-process ConcurrencyState: synchronous bodies, so the check and the add cannot interleave.
 * Subjects without leases are deleted, so memory follows the requests in flight.
 */
export class MemoryConcurrencyState implements ConcurrencyState {
  private readonly leases = new Map<string, Map<string, number>>();

  async acquire(
    subject: string,
    id: string,
    limit: number,
    leaseMs: number,
    nowMs: number,
  ): Promise<boolean> {
    let held = this.leases.get(subject);
    if (held !== undefined) for (const [lease, until] of held) if (until <= nowMs) held.delete(lease);
    if ((held?.size ?? 0) >= limit) return false;
    if (held === undefined) this.leases.set(subject, (held = new Map<string, number>()));
    held.set(id, nowMs + leaseMs);
    return true;
  }

  async release(subject: string, id: string): Promise<void> {
    const held = this.leases.get(subject);
    if (held === undefined) return;
    held.delete(id);
    if (held.size === 0) this.leases.delete(subject);
  }
}
