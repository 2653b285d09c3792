import { describe, expect, it } from 'vitest';
import type { CheckpointStore, StoredCheckpoint } from '../../src/store/checkpoint-store.js';

const cp = (chain: string, size: number, ms: number): StoredCheckpoint => ({
  chain_id: chain,
  tree_size: size,
  created_ms: ms,
  note: `tollgate/${chain}\n${size}\nAAAA\n\n— k AAAA\n`,
  frontier: size === 0 ? [] : ['ab'.repeat(32)],
});

/** The contract every CheckpointStore passes. */
export function checkpointStoreContract(name: string, make: () => CheckpointStore): void {
  describe(`CheckpointStore contract: ${name}`, () => {
    it('lists checkpoints of a chain oldest first and finds the latest', async () => {
      const s = make();
      expect(await s.latest('a')).toBeNull();
      await s.append(cp('a', 0, 1));
      await s.append(cp('a', 10, 2));
      await s.append(cp('b', 5, 3));
      await s.append(cp('a', 10, 4));
      expect((await s.list('a')).map((c) => [c.tree_size, c.created_ms])).toEqual([
        [0, 1],
        [10, 2],
        [10, 4],
      ]);
      expect(await s.latest('a')).toEqual(cp('a', 10, 4));
      expect(await s.chains()).toEqual(['a', 'b']);
      expect((await s.list('b'))[0]).toEqual(cp('b', 5, 3));
    });

    it('returns copies that callers cannot use to change what is stored', async () => {
      const s = make();
      await s.append(cp('a', 1, 1));
      const got = (await s.list('a'))[0]!;
      got.note = 'changed';
      got.frontier!.push('x');
      expect((await s.list('a'))[0]).toEqual(cp('a', 1, 1));
    });
  });
}
