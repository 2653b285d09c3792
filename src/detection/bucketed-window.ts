/**
 * A sliding-window sum over `buckets` equal time buckets (a ring). Memory is fixed per subject;
 * the window slides by whole buckets, so its length is exact to one bucket.
 */
export class BucketedWindow {
  private readonly values: Float64Array;
  private head = 0;
  /** Index (time / bucketMs) of the bucket at `head`; -1 before the first add. */
  headBucket = -1;
  sum = 0;

  constructor(
    readonly bucketMs: number,
    buckets: number,
  ) {
    this.values = new Float64Array(Math.max(1, buckets));
  }

  get bucketCount(): number {
    return this.values.length;
  }

  /**
   * Moves the window to the bucket of `nowMs`. For every bucket that closes, `onClose` sees the
   * window sum at that moment (at most `bucketCount` calls; a longer idle gap is reported as
   * `idleClosed`, the number of further closes whose window sum was 0).
   */
  advance(nowMs: number, onClose?: (windowSum: number) => void): number {
    const bucket = Math.floor(nowMs / this.bucketMs);
    if (this.headBucket < 0) {
      this.headBucket = bucket;
      return 0;
    }
    let steps = bucket - this.headBucket;
    if (steps <= 0) return 0; // late events land in the current bucket
    const n = this.values.length;
    const explicit = Math.min(steps, n);
    for (let i = 0; i < explicit; i++) {
      onClose?.(this.sum);
      this.head = (this.head + 1) % n;
      this.sum -= this.values[this.head]!;
      this.values[this.head] = 0;
    }
    if (explicit === n) this.sum = 0; // clear float residue after a full turn
    this.headBucket = bucket;
    steps -= explicit;
    return steps; // closes of an all-zero window not reported one by one
  }

  add(value: number): void {
    this.values[this.head] = this.values[this.head]! + value;
    this.sum += value;
  }
}
