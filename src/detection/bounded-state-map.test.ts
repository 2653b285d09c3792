import { describe, expect, it } from 'vitest';
import { BoundedStateMap } from './bounded-state-map.js';

describe('BoundedStateMap', () => {
  it('expires idle entries and recreates them fresh', () => {
    const m = new BoundedStateMap<{ n: number }>(1000, 10);
    m.touch('a', 0, () => ({ n: 0 })).n++;
    expect(m.touch('a', 900, () => ({ n: 0 })).n).toBe(1);
    expect(m.touch('a', 2000, () => ({ n: 0 })).n).toBe(0);
    expect(m.stats.expired).toBe(1);
  });

  it('evicts the least recently used entry past the cap (exact for small maps: the sample covers them)', () => {
    const m = new BoundedStateMap<number>(1e9, 3);
    for (const k of ['a', 'b', 'c']) m.touch(k, 0, () => 1);
    m.touch('a', 1, () => 1); // a is now the most recent
    m.touch('d', 2, () => 1);
    expect(m.peek('b', 3)).toBeUndefined();
    expect(m.peek('a', 3)).toBe(1);
    expect(m.size).toBe(3);
    expect(m.stats.evicted).toBe(1);
  });

  it('sweep drops every idle entry', () => {
    const m = new BoundedStateMap<number>(100, 1000);
    for (let i = 0; i < 500; i++) m.touch(`k${i}`, i, () => i);
    expect(m.size).toBeLessThan(500); // touches already expire some as the cursor passes
    expect(m.sweep(550)).toBe(50);
    expect(m.sweep(10_000)).toBe(0);
  });
});
