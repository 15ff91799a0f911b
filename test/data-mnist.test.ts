import { describe, expect, it } from 'vitest';
import { loadMnist, mnistDigits } from '../src/data/mnist.js';
import { classCounts, filterClasses, oneHot, selectRows } from '../src/data/labels.js';

// vitest's toEqual walks big typed arrays slowly; compare them directly.
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('loadMnist (the mnist package’s 10 000 digits)', () => {
  const t0 = performance.now();
  const { train, test } = loadMnist();
  const ms = performance.now() - t0;

  it('splits 8000 / 2000 with 784 pixels in [0, 1] and all ten digits', () => {
    expect(ms).toBeLessThan(10_000);
    expect(train.X.rows).toBe(8000);
    expect(test.X.rows).toBe(2000);
    expect(train.X.cols).toBe(784);
    expect(train.X.data.length).toBe(8000 * 784);
    expect(train.labels.length).toBe(8000);
    expect(train.classes).toBe(10);
    for (const set of [train, test]) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of set.X.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBe(0);
      expect(hi).toBe(1);
      const counts = classCounts(set);
      expect(counts.every((c) => c > 0.05 * set.X.rows)).toBe(true);
    }
    // Pixels are bytes / 255, as in the IDX files.
    let worst = 0;
    for (const v of train.X.data) worst = Math.max(worst, Math.abs(v * 255 - Math.round(v * 255)));
    expect(worst).toBeLessThan(1e-9);
  });

  it('is a partition of all 10 000 digits', () => {
    const all = mnistDigits();
    expect(all.count).toBe(10_000);
    const total = classCounts(train).map((c, d) => c + classCounts(test)[d]!);
    const pkg = new Array(10).fill(0);
    for (const l of all.labels) pkg[l]++;
    expect(total).toEqual(pkg);
    // Pixel sums identify images well enough to see that train and test do not overlap.
    const sums = (X: Float64Array | Float32Array, rows: number): number[] =>
      Array.from({ length: rows }, (_, i) => Array.from(X.subarray(i * 784, (i + 1) * 784)).reduce((a, b) => a + b, 0));
    const trainSums = sums(train.X.data, train.X.rows).reduce((a, b) => a + b, 0);
    const testSums = sums(test.X.data, test.X.rows).reduce((a, b) => a + b, 0);
    const allSum = all.pixels.reduce((a, b) => a + b, 0) / 255;
    expect(trainSums + testSums).toBeCloseTo(allSum, 3);
  });

  it('gives the same split for the same seed and another for another seed', () => {
    const again = loadMnist();
    expect(same(again.train.labels, train.labels)).toBe(true);
    expect(same(again.test.X.data, test.X.data)).toBe(true);
    const other = loadMnist({ seed: 2, testFraction: 0.25, dtype: 'float32' });
    expect(other.test.X.rows).toBe(2500);
    expect(other.train.X.data).toBeInstanceOf(Float32Array);
    expect(same(other.train.labels, train.labels.subarray(0, 7500))).toBe(false);
    expect(() => loadMnist({ testFraction: 1 })).toThrow(/testFraction must be in \(0, 1\), got 1/);
  });

  it('filters classes for self-taught learning and one-hot encodes labels', () => {
    const unlabeled = filterClasses(train, [5, 6, 7, 8, 9]);
    const labeled = filterClasses(train, [0, 1, 2, 3, 4]);
    expect(unlabeled.X.rows + labeled.X.rows).toBe(8000);
    expect(Array.from(new Set(unlabeled.labels)).sort()).toEqual([5, 6, 7, 8, 9]);
    const re = filterClasses(train, [5, 6, 7, 8, 9], { relabel: true });
    expect(re.classes).toBe(5);
    expect(Array.from(new Set(re.labels)).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(same(re.X.data, unlabeled.X.data)).toBe(true);
    // The first kept row is the first training row with a label ≥ 5.
    const first = train.labels.findIndex((l) => l >= 5);
    expect(same(unlabeled.X.data.subarray(0, 784), train.X.data.subarray(first * 784, (first + 1) * 784))).toBe(true);
    expect(() => filterClasses(train, [3, 3])).toThrow(/class 3 is listed twice/);
    expect(() => filterClasses(train, [10])).toThrow(/class 10 is not an integer in \[0, 10\)/);

    const Y = oneHot(Uint8Array.from([2, 0, 1]), 3);
    expect(Y).toEqual({ rows: 3, cols: 3, data: Float64Array.from([0, 0, 1, 1, 0, 0, 0, 1, 0]) });
    expect(() => oneHot([0, 3], 3)).toThrow(/label 3 of example 1 is not an integer in \[0, 3\)/);
    const sub = selectRows(test, [1, 0]);
    expect(sub.labels[0]).toBe(test.labels[1]);
  });
});
