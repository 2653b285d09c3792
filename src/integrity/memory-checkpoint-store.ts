import type { CheckpointStore, StoredCheckpoint } from '../store/checkpoint-store.js';

/** Checkpoints in memory, in append order; for tests, benchmarks and storeless SDK use. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly rows: StoredCheckpoint[] = [];

  async append(checkpoint: StoredCheckpoint): Promise<void> {
    this.rows.push(copy(checkpoint));
  }

  async list(chainId: string): Promise<StoredCheckpoint[]> {
    return this.rows.filter((r) => r.chain_id === chainId).map(copy);
  }

  async latest(chainId: string): Promise<StoredCheckpoint | null> {
    let best: StoredCheckpoint | null = null;
    for (const r of this.rows)
      if (r.chain_id === chainId && (best === null || r.tree_size >= best.tree_size)) best = r;
    return best ? copy(best) : null;
  }

  async chains(): Promise<string[]> {
    return [...new Set(this.rows.map((r) => r.chain_id))].sort();
  }

  /** The stored rows themselves, for tests that play an attacker with direct storage access. */
  unsafeRows(): StoredCheckpoint[] {
    return this.rows;
  }
}

function copy(c: StoredCheckpoint): StoredCheckpoint {
  return { ...c, frontier: c.frontier ? [...c.frontier] : null };
}
