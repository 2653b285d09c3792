/** Where signed checkpoints are kept beside the events (SQLite table, memory, …). */

/** One signed checkpoint as stored. Only `note` is trusted (by its signature); the rest is an index. */
export interface StoredCheckpoint {
  chain_id: string;
  tree_size: number;
  /** Clock time the checkpoint was made, epoch ms (also inside the note as the `time` line). */
  created_ms: number;
  /** The full C2SP signed note. */
  note: string;
  /**
   * The compact range (frontier) at `tree_size`, hex hashes largest subtree first, so a
   * restarted writer continues without re-reading the whole chain. Untrusted: checked against
   * the signed root before use.
   */
  frontier: string[] | null;
}

/** Append-only storage of checkpoints. */
export interface CheckpointStore {
  append(checkpoint: StoredCheckpoint): Promise<void>;
  /** Checkpoints of one chain, oldest first. */
  list(chainId: string): Promise<StoredCheckpoint[]>;
  /** The newest checkpoint of a chain (largest tree size, then latest), or null. */
  latest(chainId: string): Promise<StoredCheckpoint | null>;
  /** Ids of the chains that have checkpoints. */
  chains(): Promise<string[]>;
}
