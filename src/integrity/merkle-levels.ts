/**
 * Every level of an RFC 6962 tree kept in memory, so that many inclusion and consistency proofs
 * over one chain cost O(log² n) each instead of the O(n) of merkle.ts `inclusionProof` (which
 * rehashes the subtrees from the leaves on every call). Used by the evidence bundle, which proves
 * hundreds of events and checkpoints of a chain at once. Level k holds the roots of the complete,
 * aligned subtrees of 2^k leaves, packed 32 bytes each in one Buffer (a million leaves: 64 MB).
 */
import { TollgateError } from '../core/errors.js';
import { EMPTY_ROOT, hashChildren, type Hash } from './merkle.js';

const H = 32;

export class MerkleLevels {
  private readonly levels: Buffer[] = [];

  /**
   * `leafHashes`: the first `size` leaf hashes, packed (32 bytes each). `frontier`: the compact
   * range at a smaller size m (its subtree roots, largest first), for a tree whose leaves before m
   * are gone (pruned): each subtree root replaces the node the missing leaves would give. Every
   * proof of a leaf at or after m, and every consistency proof from m on, uses only those roots and
   * the later leaves (a node that straddles m has a frontier root as its left part), never a node
   * strictly inside a frontier subtree, which stays wrong.
   */
  constructor(
    leafHashes: Buffer,
    readonly size: number,
    frontier: { size: number; nodes: readonly Hash[] } | null = null,
  ) {
    if (leafHashes.length < size * H || (frontier !== null && frontier.size > size))
      throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { reason: 'leaf buffer', size });
    const patches = frontier
      ? frontierNodes(frontier.size, frontier.nodes)
      : new Map<number, [number, Hash]>();
    let level = Buffer.from(leafHashes.subarray(0, size * H));
    this.levels.push(level);
    for (;;) {
      const patch = patches.get(this.levels.length - 1);
      if (patch) patch[1].copy(level, patch[0] * H);
      if (level.length / H < 2) break;
      const n = Math.floor(level.length / H / 2);
      const next = Buffer.alloc(n * H);
      for (let i = 0; i < n; i++)
        hashChildren(
          level.subarray(2 * i * H, (2 * i + 1) * H),
          level.subarray((2 * i + 1) * H, (2 * i + 2) * H),
        ).copy(next, i * H);
      this.levels.push(next);
      level = next;
    }
  }

  /** MTH(D[0:size]). */
  root(size = this.size): Hash {
    this.check(size <= this.size && size >= 0, { size });
    return size === 0 ? EMPTY_ROOT : this.rangeRoot(0, size);
  }

  /** PATH(index, D[0:size]) (RFC 6962 §2.1.1). */
  inclusion(index: number, size: number): Hash[] {
    this.check(Number.isSafeInteger(index) && index >= 0 && index < size && size <= this.size, {
      index,
      size,
    });
    const path: Hash[] = [];
    let start = 0;
    let end = size;
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (index < start + k) {
        path.push(this.rangeRoot(start + k, end));
        end = start + k;
      } else {
        path.push(this.rangeRoot(start, start + k));
        start += k;
      }
    }
    return path.reverse();
  }

  /** PROOF(m, D[0:n]) (RFC 6962 §2.1.2). */
  consistency(m: number, n: number): Hash[] {
    this.check(Number.isSafeInteger(m) && m >= 0 && m <= n && n <= this.size, { m, n });
    if (m === 0 || m === n) return [];
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, start: number, end: number, b: boolean): Hash[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.rangeRoot(start, end)];
    const k = splitPoint(n);
    if (m <= k) return [...this.subproof(m, start, start + k, b), this.rangeRoot(start + k, end)];
    return [...this.subproof(m - k, start + k, end, false), this.rangeRoot(start, start + k)];
  }

  /**
   * MTH(D[start:end]) for the ranges RFC 6962's recursion visits: a complete aligned subtree is
   * read from its level; a right-edge range is split at its largest power of two below its size.
   */
  private rangeRoot(start: number, end: number): Hash {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const level = Math.log2(n);
      const i = start / n;
      return Buffer.from(this.levels[level]!.subarray(i * H, (i + 1) * H));
    }
    const k = splitPoint(n);
    return hashChildren(this.rangeRoot(start, start + k), this.rangeRoot(start + k, end));
  }

  private check(ok: boolean, details: Record<string, number>): void {
    if (!ok) throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', details);
  }
}

/** Level → [index in that level, root] of each subtree of the compact range at `size`. */
function frontierNodes(size: number, nodes: readonly Hash[]): Map<number, [number, Hash]> {
  const out = new Map<number, [number, Hash]>();
  let start = 0;
  let i = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))); level >= 0; level--) {
    const width = 2 ** level;
    if ((size & width) === 0) continue;
    const node = nodes[i++];
    if (node === undefined || node.length !== H)
      throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { reason: 'frontier shape', size });
    out.set(level, [start / width, node]);
    start += width;
  }
  if (i !== nodes.length)
    throw new TollgateError('TG_ERR_INTEGRITY_PROOF_INVALID', { reason: 'frontier shape', size });
  return out;
}

/** Largest power of two smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
