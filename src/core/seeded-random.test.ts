import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';

describe('seededRandom (mulberry32)', () => {
  it('replays the same sequence from a seed, and the pinned one', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    // Pinned: seeds printed by failed stress runs and evaluation baselines must keep their meaning.
    const r = seededRandom(1);
    expect([r(), r(), r()].map((x) => Math.round(x * 4294967296))).toEqual([
      2693262067, 11749833, 2265367787,
    ]);
  });
  it('stays in [0, 1)', () => {
    const r = seededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
