/**
 * RFC 6962 §2.1 Merkle tree hash over a chain, with inclusion and consistency proofs
 * (generation per RFC 6962 §2.1.1/§2.1.2, verification per RFC 9162 §2.1.3.2/§2.1.4.2).
 *
 * Leaf hash: SHA-256(0x00 || d); node hash: SHA-256(0x01 || left || right); empty tree:
 * SHA-256(""). For a Tollgate chain, the leaf data `d` of the event with seq k is the 32 raw
 * bytes of its `hash` field, and it is leaf index k - 1.
 */
import { hash as oneShotHash } from 'node:crypto';
import { TollgateError } from '../core/errors.js';

export type Hash = Buffer;

/** MTH({}) = SHA-256 of the empty string (RFC 6962 §2.1). */
export const EMPTY_ROOT: Hash = oneShotHash('sha256', Buffer.alloc(0), 'buffer');

/** SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Hash {
  const buf = Buffer.allocUnsafe(data.length + 1);
  buf[0] = 0x00;
  buf.set(data, 1);
  return oneShotHash('sha256', buf, 'buffer');
}

/** SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Hash {
  const buf = Buffer.allocUnsafe(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return oneShotHash('sha256', buf, 'buffer');
}

/**
 * Leaf hasher for chain events that reuses one buffer: the leaf data is always a 32-byte event
 * hash given in hex, so the hot loops of chaining and verifying allocate only the digest.
 */
export class EventLeafHasher {
  private readonly buf = Buffer.alloc(33);
  /** SHA-256(0x00 || bytes(eventHashHex)). `eventHashHex` must be 64 hex characters. */
  hash(eventHashHex: string): Hash {
    // buf[0] stays 0x00.
    this.buf.write(eventHashHex, 1, 32, 'hex');
    return oneShotHash('sha256', this.buf, 'buffer');
  }
}

/**
 * The compact range [0, size) of a growing tree: the roots of its perfect subtrees, one per set
 * bit of `size`, largest first (the "frontier"). Appending and computing the root are O(log n).
 */
export class CompactRange {
  private nodes: Hash[];
  private count: number;

  constructor(size = 0, nodes: readonly Hash[] = []) {
    if (!Number.isSafeInteger(size) || size < 0 || popcount(size) !== nodes.length) {
      throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { reason: 'compact range shape', size });
    }
    this.count = size;
    this.nodes = [...nodes];
  }

  get size(): number {
    return this.count;
  }

  /** Appends one leaf hash (already SHA-256(0x00 || d)). */
  append(leafHash: Hash): void {
    let h = leafHash;
    // Merge while the lowest bits of the size are set: each set bit is a perfect subtree to fold in.
    let s = this.count;
    while (s % 2 === 1) {
      h = hashChildren(this.nodes.pop()!, h);
      s = Math.floor(s / 2);
    }
    this.nodes.push(h);
    this.count += 1;
  }

  /**
   * Appends `n` copies of one leaf hash in O(log² n) rather than O(n): a run of events the writer
   * could not store is a run of identical placeholder leaves (see gap-record.ts).
   */
  appendRepeated(leafHash: Hash, n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(this.count + n)) {
      throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { reason: 'repeated leaf count', n });
    }
    // perfect[k]: root of a perfect subtree of 2^k copies.
    const perfect: Hash[] = [leafHash];
    let left = n;
    while (left > 0) {
      // The largest perfect subtree that fits and starts at the current size (aligned to it).
      let level = 0;
      let width = 1;
      while (width * 2 <= left && this.count % (width * 2) === 0) {
        width *= 2;
        level++;
      }
      while (perfect.length <= level) {
        const p = perfect[perfect.length - 1]!;
        perfect.push(hashChildren(p, p));
      }
      // As in append, one level up: fold in the frontier subtrees of the same width.
      let h = perfect[level]!;
      let s = this.count / width;
      while (s % 2 === 1) {
        h = hashChildren(this.nodes.pop()!, h);
        s = Math.floor(s / 2);
      }
      this.nodes.push(h);
      this.count += width;
      left -= width;
    }
  }

  /** MTH of the leaves appended so far. */
  root(): Hash {
    const n = this.nodes.length;
    if (n === 0) return EMPTY_ROOT;
    let h = this.nodes[n - 1]!;
    for (let i = n - 2; i >= 0; i--) h = hashChildren(this.nodes[i]!, h);
    return h;
  }

  /** The frontier, largest subtree first, for storing beside a checkpoint. */
  frontier(): Hash[] {
    return [...this.nodes];
  }

  clone(): CompactRange {
    return new CompactRange(this.count, this.nodes);
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** Largest power of two strictly less than n (n ≥ 2), the split point k of RFC 6962 §2.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[start:end]) from stored leaf hashes (RFC 6962 §2.1). */
export function rootFromLeafHashes(leaves: readonly Hash[], start = 0, end = leaves.length): Hash {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[start]!;
  const range = new CompactRange();
  for (let i = start; i < end; i++) range.append(leaves[i]!);
  return range.root();
}

/** Inclusion proof PATH(m, D[0:size]) (RFC 6962 §2.1.1) from the first `size` stored leaf hashes. */
export function inclusionProof(leaves: readonly Hash[], index: number, size: number): Hash[] {
  if (
    !Number.isSafeInteger(index) ||
    !Number.isSafeInteger(size) ||
    index < 0 ||
    index >= size ||
    size > leaves.length
  ) {
    throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { index, size });
  }
  const path: Hash[] = [];
  // Iterative form of PATH: descend from the root, remembering siblings, then reverse (leaf first).
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      path.push(rootFromLeafHashes(leaves, start + k, end));
      end = start + k;
    } else {
      path.push(rootFromLeafHashes(leaves, start, start + k));
      start += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** Consistency proof PROOF(m, D[0:n]) (RFC 6962 §2.1.2) from the first n stored leaf hashes. */
export function consistencyProof(leaves: readonly Hash[], m: number, n: number): Hash[] {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n || n > leaves.length) {
    throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { m, n });
  }
  if (m === 0 || m === n) return [];
  return subproof(leaves, m, 0, n, true);
}

/** SUBPROOF(m, D[start:end], b) of RFC 6962 §2.1.2. */
function subproof(leaves: readonly Hash[], m: number, start: number, end: number, b: boolean): Hash[] {
  const n = end - start;
  if (m === n) return b ? [] : [rootFromLeafHashes(leaves, start, end)];
  const k = splitPoint(n);
  if (m <= k)
    return [...subproof(leaves, m, start, start + k, b), rootFromLeafHashes(leaves, start + k, end)];
  return [...subproof(leaves, m - k, start + k, end, false), rootFromLeafHashes(leaves, start, start + k)];
}

function isHash(h: Uint8Array): boolean {
  return h.length === 32;
}

/** Root implied by an inclusion proof (RFC 9162 §2.1.3.2), or null when the proof is malformed. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Hash | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  if (!isHash(leafHash) || !proof.every(isHash)) return null;
  let fn = index;
  let sn = size - 1;
  let r: Hash = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** Verifies an inclusion proof against a root (RFC 9162 §2.1.3.2). */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const r = rootFromInclusionProof(index, size, leafHash, proof);
  return r !== null && isHash(root) && r.equals(root);
}

/** Verifies a consistency proof between two tree heads (RFC 9162 §2.1.4.2). */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1)
    return false;
  if (!proof.every(isHash)) return false;
  if (size1 === size2) return proof.length === 0 && Buffer.from(root1).equals(Buffer.from(root2));
  // Any tree is consistent with the empty tree.
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0 || !isHash(root1) || !isHash(root2)) return false;
  // Step 1: if first is an exact power of 2, prepend first_hash to the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  // Step 3: while LSB(fn) is set, right-shift both.
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Hash = Buffer.from(path[0]!);
  let sr: Hash = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(Buffer.from(root1)) && sr.equals(Buffer.from(root2));
}

function isPowerOfTwo(n: number): boolean {
  // Arithmetic, not bitwise: tree sizes may exceed 2^31.
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
