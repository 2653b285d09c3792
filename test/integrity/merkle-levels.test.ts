import { describe, expect, it } from 'vitest';
import { MerkleLevels } from '../../src/integrity/merkle-levels.js';
import {
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

  it('inclusion proofs for every index of every size equal inclusionProof', () => {
    for (let n = 1; n <= leaves.length; n++)
      for (let i = 0; i < n; i++)
        expect(levels.inclusion(i, n).map((h) => h.toString('hex'))).toEqual(
          inclusionProof(leaves, i, n).map((h) => h.toString('hex')),
        );
  });

  it('consistency proofs for every m ≤ n equal consistencyProof', () => {
    for (let n = 0; n <= leaves.length; n++)
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
});
