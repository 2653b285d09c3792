import { describe, expect, it } from 'vitest';
import { MerkleLevels } from '../../src/integrity/merkle-levels.js';
import {
  CompactRange,
  consistencyProof,
  hashLeaf,
  inclusionProof,
  rootFromLeafHashes,
} from '../../src/integrity/merkle.js';

const leaves = Array.from({ length: 70 }, (_, i) => hashLeaf(Buffer.from([i, i >> 8])));

describe('MerkleLevels: the same proofs as merkle.ts, from precomputed levels', () => {
  const levels = new MerkleLevels(Buffer.concat(leaves), leaves.length);

  it('roots of every size equal rootFromLeafHashes', () => {
    for (let n = 0; n <= leaves.length; n++)
      expect(levels.root(n).equals(rootFromLeafHashes(leaves, 0, n))).toBe(true);
  });

  it('inclusion proofs for every index of sizes 1..70 (powers of two and their neighbours) equal inclusionProof', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 16, 17, 31, 33, 64, 70])
      for (let i = 0; i < n; i++)
        expect(levels.inclusion(i, n).map((h) => h.toString('hex'))).toEqual(
          inclusionProof(leaves, i, n).map((h) => h.toString('hex')),
        );
  });

  it('consistency proofs for every m ≤ n of those sizes equal consistencyProof', () => {
    for (const n of [0, 1, 2, 3, 5, 8, 13, 16, 17, 31, 33, 64, 70])
      for (let m = 0; m <= n; m++)
        expect(levels.consistency(m, n).map((h) => h.toString('hex'))).toEqual(
          consistencyProof(leaves, m, n).map((h) => h.toString('hex')),
        );
  });

  it('refuses positions outside the tree', () => {
    expect(() => levels.inclusion(70, 70)).toThrow();
    expect(() => levels.consistency(3, 71)).toThrow();
    expect(() => levels.root(71)).toThrow();
  });

  it('with the leaves before m gone and the frontier at m: proofs of every leaf ≥ m and consistency from m are unchanged', () => {
    for (const m of [1, 3, 4, 7, 8, 13, 20, 33]) {
      const range = new CompactRange();
      for (const l of leaves.slice(0, m)) range.append(l);
      const pruned = Buffer.concat([Buffer.alloc(m * 32, 0xee), ...leaves.slice(m)]);
      const after = new MerkleLevels(pruned, leaves.length, { size: m, nodes: range.frontier() });
      for (let n = m; n <= leaves.length; n += 7) {
        expect(after.root(n).equals(rootFromLeafHashes(leaves, 0, n))).toBe(true);
        expect(after.consistency(m, n).map((h) => h.toString('hex'))).toEqual(
          consistencyProof(leaves, m, n).map((h) => h.toString('hex')),
        );
        for (let i = m; i < n; i++)
          expect(after.inclusion(i, n).map((h) => h.toString('hex'))).toEqual(
            inclusionProof(leaves, i, n).map((h) => h.toString('hex')),
          );
      }
    }
  });
});
