/**
 * Exponentially weighted mean and variance (West 1979; Finch, "Incremental calculation of
 * weighted mean and variance", 2009 §9): robust enough for rate baselines, O(1) memory.
 */
export class EwmaBaseline {
  mean = 0;
  variance = 0;
  samples = 0;

  /**
   * `alpha` is the weight of the new sample, in (0, 1]. Until 1/alpha samples have been seen the
   * weight is 1/n instead (a plain running mean), so the first samples do not bias the baseline.
   */
  update(x: number, alpha: number): void {
    if (this.samples === 0) {
      this.mean = x;
      this.variance = 0;
    } else {
      const a = Math.max(alpha, 1 / (this.samples + 1));
      const diff = x - this.mean;
      const incr = a * diff;
      this.mean += incr;
      this.variance = (1 - a) * (this.variance + diff * incr);
    }
    this.samples++;
  }

  /** Applies `n` zero samples at once (an idle stretch), in closed form for the mean. */
  decay(n: number, alpha: number): void {
    if (n <= 0 || this.samples === 0) return;
    if (n <= 8) {
      for (let i = 0; i < n; i++) this.update(0, alpha);
      return;
    }
    const keep = Math.pow(1 - alpha, n);
    // Variance of a run of zeros: approximately the old spread decayed plus the mean's drop.
    this.variance = this.variance * keep + this.mean * this.mean * (1 - keep) * keep;
    this.mean *= keep;
    this.samples += n;
  }

  get stdDev(): number {
    return Math.sqrt(Math.max(0, this.variance));
  }
}

/** The weight per sample that halves a sample's influence after `halfLifeSamples` samples. */
export function alphaForHalfLife(halfLifeSamples: number): number {
  return 1 - Math.pow(0.5, 1 / Math.max(1, halfLifeSamples));
}
