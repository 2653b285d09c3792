/**
 * One prune at a time per store. Two prunes of one chain at once (the gateway's scheduled prune
 * and `tollgate prune` from the CLI, or two replicas) would each store a signed record for the same
 * range; the lock makes the second one wait for the next run instead.
 */

/** A held lock; `release` is idempotent. */
export interface RetentionLock {
  release(): Promise<void>;
}

/** Who holds a lock, as the refusal names it. */
export interface RetentionLockHolder {
  holder: string;
  pid: number | null;
  host: string | null;
  since: string;
}
