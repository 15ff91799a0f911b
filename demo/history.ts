// A cost history of bounded size: readings fall into buckets of `width` steps,
// each keeping the min, max and last value; when the buckets run out, neighbours
// merge and the width doubles. Drawing it costs O(capacity) however long the run,
// so the page's work per reading does not grow with the run (issue 16, defect 2).

export interface Bucket {
  /** First step of the bucket (a multiple of the width). */
  step: number;
  min: number;
  max: number;
  /** The last reading in the bucket, and its step. */
  last: number;
  lastStep: number;
}

export class SeriesHistory {
  private buckets: Bucket[] = [];
  /** Steps per bucket (a power of two). */
  width = 1;

  constructor(readonly capacity = 512) {
    if (!(Number.isInteger(capacity) && capacity >= 2)) throw new RangeError(`capacity must be an integer ≥ 2, got ${capacity}`);
  }

  get length(): number {
    return this.buckets.length;
  }

  /** Buckets in step order (do not modify). */
  get all(): readonly Bucket[] {
    return this.buckets;
  }

  clear(): void {
    this.buckets = [];
    this.width = 1;
  }

  /** Adds a reading; steps must not decrease. Non-finite values are ignored (the chart marks divergence itself). */
  push(step: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const start = Math.floor(step / this.width) * this.width;
    const b = this.buckets[this.buckets.length - 1];
    if (b && b.step === start) {
      b.min = Math.min(b.min, value);
      b.max = Math.max(b.max, value);
      b.last = value;
      b.lastStep = step;
      return;
    }
    this.buckets.push({ step: start, min: value, max: value, last: value, lastStep: step });
    while (this.buckets.length > this.capacity) this.coarsen();
  }

  private coarsen(): void {
    this.width *= 2;
    const merged: Bucket[] = [];
    for (const b of this.buckets) {
      const start = Math.floor(b.step / this.width) * this.width;
      const m = merged[merged.length - 1];
      if (m && m.step === start) {
        m.min = Math.min(m.min, b.min);
        m.max = Math.max(m.max, b.max);
        m.last = b.last;
        m.lastStep = b.lastStep;
      } else merged.push({ ...b, step: start });
    }
    this.buckets = merged;
  }
}
