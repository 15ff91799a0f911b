import { describe, expect, it } from 'vitest';
import { normalizePatches, removeRowMeans, samplePatches } from '../src/data/patches.js';
import type { GrayImage } from '../src/data/gray.js';
import { Rng } from '../src/prng.js';

// Pixel value = its index, so a patch shows where it was cut.
function indexImage(width: number, height: number): GrayImage {
  return { width, height, data: Float64Array.from({ length: width * height }, (_, i) => i) };
}

function noiseImage(width: number, height: number, seed: number): GrayImage {
  const rng = new Rng(seed);
  // Smooth-ish image: sum of a gradient and noise, like a photograph's statistics roughly.
  return { width, height, data: Float64Array.from({ length: width * height }, (_, i) => 0.3 + 0.2 * ((i % width) / width) + 0.1 * rng.normal()) };
}

describe('samplePatches', () => {
  it('cuts count × size² contiguous square patches, row-major, inside the images', () => {
    const imgs = [indexImage(20, 15), indexImage(9, 30)];
    const P = samplePatches(imgs, { count: 500, size: 8, seed: 3 });
    expect(P.rows).toBe(500);
    expect(P.cols).toBe(64);
    let fromSecond = 0;
    for (let p = 0; p < P.rows; p++) {
      const row = P.data.subarray(p * 64, (p + 1) * 64);
      const first = row[0]!;
      // Which image: the pixel-index pattern must match one width exactly.
      const fits = (w: number, h: number): boolean => {
        const r0 = Math.floor(first / w);
        const c0 = first % w;
        if (r0 + 8 > h || c0 + 8 > w) return false;
        for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) if (row[r * 8 + c] !== first + r * w + c) return false;
        return true;
      };
      const a = fits(20, 15);
      const b = fits(9, 30);
      expect(a || b).toBe(true);
      if (b && !a) fromSecond++;
    }
    // Images are chosen uniformly: about half the patches come from each.
    expect(fromSecond).toBeGreaterThan(200);
    expect(fromSecond).toBeLessThan(300);
  });

  it('is reproducible from its seed and skips images smaller than a patch', () => {
    const imgs = [indexImage(30, 30), indexImage(4, 4)];
    const a = samplePatches(imgs, { count: 50, size: 6, seed: 11 });
    const b = samplePatches(imgs, { count: 50, size: 6, seed: 11 });
    const c = samplePatches(imgs, { count: 50, size: 6, seed: 12 });
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    expect(() => samplePatches([indexImage(4, 4)], { count: 1, size: 6, seed: 1 })).toThrow(/no image is at least 6 × 6 pixels/);
    expect(() => samplePatches(imgs, { count: 0, size: 6, seed: 1 })).toThrow(/count must be a positive integer, got 0/);
  });
});

describe('normalizePatches (UFLDL sampleIMAGES normalization)', () => {
  const P = samplePatches([noiseImage(64, 64, 1), noiseImage(50, 40, 2)], { count: 2000, size: 8, seed: 5 });
  const N = normalizePatches(P);

  it('lands in [0.1, 0.9], with truncation at ±3 standard deviations', () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of N.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0.1 - 1e-15);
    expect(hi).toBeLessThanOrEqual(0.9 + 1e-15);
    // Gaussian-like data: a few values lie beyond 3σ and are clipped to the ends exactly.
    const clipped = N.data.filter((v) => v === 0.1 || Math.abs(v - 0.9) < 1e-15).length;
    expect(clipped).toBeGreaterThan(0);
    expect(clipped).toBeLessThan(0.01 * N.data.length);
  });

  it('matches the formula (x − mean) clipped at pstd, /pstd, then (x + 1)·0.4 + 0.1', () => {
    const C = removeRowMeans(P);
    let ss = 0;
    for (const v of C.data) ss += v * v; // mean of all centered values is 0
    const pstd = 3 * Math.sqrt(ss / (C.data.length - 1));
    for (let i = 0; i < 1000; i++) {
      const x = Math.max(-pstd, Math.min(pstd, C.data[i]!)) / pstd;
      expect(N.data[i]).toBeCloseTo((x + 1) * 0.4 + 0.1, 12);
    }
  });

  it('gives each patch mean 0.5 unless truncation moved it (then only slightly)', () => {
    let exact = 0;
    let maxDev = 0;
    let total = 0;
    for (let p = 0; p < N.rows; p++) {
      const row = N.data.subarray(p * 64, (p + 1) * 64);
      const mean = Array.from(row).reduce((a, b) => a + b, 0) / 64;
      total += mean;
      const touched = row.some((v) => v <= 0.1 + 1e-15 || v >= 0.9 - 1e-15);
      if (!touched) {
        expect(mean).toBeCloseTo(0.5, 12);
        exact++;
      } else {
        maxDev = Math.max(maxDev, Math.abs(mean - 0.5));
      }
    }
    expect(exact).toBeGreaterThan(N.rows * 0.5);
    expect(maxDev).toBeLessThan(0.05);
    expect(total / N.rows).toBeCloseTo(0.5, 3);
  });

  it('maps a hand-computed example and constant patches', () => {
    // Rows [0, 2] and [1, 1]: centered [-1, 1] and [0, 0]; std of [-1, 1, 0, 0] (N−1) = √(2/3), pstd = 3√(2/3) ≈ 2.449.
    const out = normalizePatches({ rows: 2, cols: 2, data: Float64Array.from([0, 2, 1, 1]) });
    const x = 1 / (3 * Math.sqrt(2 / 3));
    expect(Array.from(out.data)).toEqual([(1 - x) * 0.4 + 0.1, (x + 1) * 0.4 + 0.1, 0.5, 0.5].map((v) => expect.closeTo(v, 14)));
    expect(Array.from(normalizePatches({ rows: 2, cols: 3, data: new Float64Array(6).fill(0.7) }).data)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });
});
