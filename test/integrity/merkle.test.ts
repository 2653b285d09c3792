import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  EMPTY_ROOT,
  consistencyProof,
  hashChildren,
  hashLeaf,
  inclusionProof,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/integrity/merkle.js';

// Published vectors: transparency-dev/merkle testonly/constants.go and proof/verify_test.go.
const hd = (h: string): Buffer => Buffer.from(h, 'hex');
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hd);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(hd);
const LEVEL0 = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
].map(hd);
// {leaf (1-based, as in the Go vectors), size, proof}
const INCLUSION_VECTORS: [number, number, string[]][] = [
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CONSISTENCY_VECTORS: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

/** Textbook recursive MTH (RFC 6962 §2.1), independent of CompactRange. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const leafHashes = (n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) =>
    hashLeaf(i < LEAF_INPUTS.length ? LEAF_INPUTS[i]! : Buffer.from(`leaf-${i}`)),
  );

const flip = (h: Uint8Array, bit: number): Buffer => {
  const c = Buffer.from(h);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('RFC 6962 Merkle tree', () => {
  it('hashes the published leaves', () => {
    LEAF_INPUTS.forEach((d, i) => expect(hashLeaf(d).toString('hex')).toBe(LEVEL0[i]!.toString('hex')));
    expect(EMPTY_ROOT.toString('hex')).toBe(ROOTS[0]!.toString('hex'));
  });

  it('computes the published roots for sizes 0..8, incrementally and from stored leaves', () => {
    const range = new CompactRange();
    const leaves = leafHashes(8);
    for (let n = 0; n <= 8; n++) {
      expect(range.root().toString('hex'), `size ${n}`).toBe(ROOTS[n]!.toString('hex'));
      expect(rootFromLeafHashes(leaves, 0, n).toString('hex')).toBe(ROOTS[n]!.toString('hex'));
      expect(range.size).toBe(n);
      if (n < 8) range.append(leaves[n]!);
    }
  });

  it('resumes a compact range from its stored frontier', () => {
    const leaves = leafHashes(64);
    const a = new CompactRange();
    for (let i = 0; i < 64; i++) {
      const b = new CompactRange(a.size, a.frontier());
      b.append(leaves[i]!);
      a.append(leaves[i]!);
      expect(b.root().equals(a.root())).toBe(true);
      expect(a.root().equals(referenceRoot(leaves.slice(0, i + 1)))).toBe(true);
    }
    expect(() => new CompactRange(3, [leaves[0]!])).toThrow(/TG_ERR_INTEGRITY_PROOF_INVALID/);
  });

  it('generates and verifies the published inclusion proofs', () => {
    const leaves = leafHashes(8);
    for (const [leaf, size, proofHex] of INCLUSION_VECTORS) {
      const proof = inclusionProof(leaves, leaf - 1, size);
      expect(proof.map((p) => p.toString('hex'))).toEqual(proofHex);
      expect(verifyInclusion(leaf - 1, size, leaves[leaf - 1]!, proofHex.map(hd), ROOTS[size]!)).toBe(true);
    }
  });

  it('generates and verifies the published consistency proofs', () => {
    const leaves = leafHashes(8);
    for (const [m, n, proofHex] of CONSISTENCY_VECTORS) {
      expect(consistencyProof(leaves, m, n).map((p) => p.toString('hex'))).toEqual(proofHex);
      expect(verifyConsistency(m, n, proofHex.map(hd), ROOTS[m]!, ROOTS[n]!)).toBe(true);
    }
  });

  it('verifies an inclusion proof for every index of every tree up to 64 leaves, and rejects any corruption', () => {
    const leaves = leafHashes(64);
    const wrongRoot = hd('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (let n = 1; n <= 64; n++) {
      const root = referenceRoot(leaves.slice(0, n));
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i, n);
        const leaf = leaves[i]!;
        expect(rootFromInclusionProof(i, n, leaf, proof)?.equals(root)).toBe(true);
        expect(verifyInclusion(i, n, leaf, proof, root)).toBe(true);
        const bad: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
          [i - 1, n, leaf, proof, root],
          [i + 1, n, leaf, proof, root],
          [i ^ 2, n, leaf, proof, root],
          [i, n * 2, leaf, proof, root],
          [i, Math.floor(n / 2), leaf, proof, root],
          [i, n, flip(leaf, 0), proof, root],
          [i, n, leaf, proof, EMPTY_ROOT],
          [i, n, leaf, proof, wrongRoot],
          [i, n, leaf, [...proof, root], root],
          [i, n, leaf, [root, ...proof], root],
          [i, n, leaf, [...proof, Buffer.alloc(0)], root],
        ];
        if (proof.length > 0) bad.push([i, n, leaf, proof.slice(0, -1), root]);
        for (let j = 0; j < proof.length; j++) {
          for (const bit of [0, 3, 100, 255]) {
            const p = [...proof];
            p[j] = flip(p[j]!, bit);
            bad.push([i, n, leaf, p, root]);
          }
        }
        for (const [bi, bn, bl, bp, br] of bad) {
          // A changed index can still be valid when it names the same leaf in the same position (never here: leaves differ).
          expect(verifyInclusion(bi, bn, bl, bp, br), `index ${i} size ${n} probe ${bi}/${bn}`).toBe(false);
        }
      }
    }
  });

  it('verifies a consistency proof for every m <= n <= 64, and rejects any corruption', () => {
    const leaves = leafHashes(64);
    const roots = Array.from({ length: 65 }, (_, n) => referenceRoot(leaves.slice(0, n)));
    for (let n = 0; n <= 64; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(leaves, m, n);
        expect(verifyConsistency(m, n, proof, roots[m]!, roots[n]!), `${m}..${n}`).toBe(true);
        if (m === 0 || m === n) {
          expect(proof).toEqual([]);
          continue;
        }
        const bad: [number, number, Uint8Array[], Uint8Array, Uint8Array][] = [
          [m - 1, n, proof, roots[m]!, roots[n]!],
          [m + 1, n, proof, roots[m]!, roots[n]!],
          [m ^ 2, n, proof, roots[m]!, roots[n]!],
          [m, n * 2, proof, roots[m]!, roots[n]!],
          [m, Math.floor(n / 2), proof, roots[m]!, roots[n]!],
          [m, n, proof, flip(roots[m]!, 7), roots[n]!],
          [m, n, proof, roots[m]!, flip(roots[n]!, 7)],
          [m, n, proof, roots[n]!, roots[m]!],
          [m, n, [], roots[m]!, roots[n]!],
          [m, n, [...proof, roots[m]!], roots[m]!, roots[n]!],
          [m, n, [...proof, roots[n]!], roots[m]!, roots[n]!],
          [m, n, [roots[m]!, ...proof], roots[m]!, roots[n]!],
          [m, n, [roots[n]!, ...proof], roots[m]!, roots[n]!],
          [m, n, [proof[0]!, ...proof], roots[m]!, roots[n]!],
          [m, n, proof.slice(0, -1), roots[m]!, roots[n]!],
        ];
        for (let j = 0; j < proof.length; j++) {
          for (const bit of [4, 77, 200]) {
            const p = [...proof];
            p[j] = flip(p[j]!, bit);
            bad.push([m, n, p, roots[m]!, roots[n]!]);
          }
        }
        for (const [bm, bn, bp, r1, r2] of bad) {
          // m ^ 2 or n / 2 can coincide with the honest sizes; those probes are not corruptions.
          if (bm === m && bn === n && bp === proof && r1 === roots[m] && r2 === roots[n]) continue;
          if (bm > bn) continue;
          expect(verifyConsistency(bm, bn, bp, r1, r2), `${m}..${n} probe ${bm}/${bn}`).toBe(false);
        }
      }
    }
  });
});
