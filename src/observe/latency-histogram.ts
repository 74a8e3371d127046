/** Each bin's upper bound is 15 % above the one before: percentiles within 15 %. */
const GROWTH = 1.15;
const LOG_GROWTH = Math.log(GROWTH);
/** From 1 ms to a little over an hour. */
const BINS = Math.ceil(Math.log(3_600_000) / LOG_GROWTH) + 1;

/**
 * Counts of durations in logarithmic bins: fixed memory (under 1 KB) whatever the traffic, and
 * percentiles of several merged together. Good enough for a page a person reads; Prometheus
 * has the exact histograms.
 */
export class LatencyHistogram {
  readonly counts = new Uint32Array(BINS);
  total = 0;

  observe(ms: number): void {
    const bin = ms <= 1 ? 0 : Math.min(BINS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH));
    this.counts[bin] = (this.counts[bin] as number) + 1;
    this.total += 1;
  }

  add(other: LatencyHistogram): void {
    for (let i = 0; i < BINS; i++) {
      this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
    }
    this.total += other.total;
  }

  /** The upper bound (ms, rounded) of the bin holding the q-th quantile; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.round(GROWTH ** i);
    }
    return Math.round(GROWTH ** (BINS - 1));
  }
}
