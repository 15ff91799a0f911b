import { describe, expect, it } from 'vitest';
import { whitenImage } from '../src/data/whiten-images.js';
import { Rng } from '../src/prng.js';

describe('whitenImage (frequency-domain whitening, UFLDL IMAGES.mat style)', () => {
  it('crops to the largest centred power-of-two square, zero mean, unit variance', () => {
    const rng = new Rng(1);
    const img = { width: 70, height: 40, data: Float64Array.from({ length: 70 * 40 }, () => rng.uniform()) };
    const w = whitenImage(img);
    expect([w.width, w.height]).toEqual([32, 32]);
    const mean = w.data.reduce((a, b) => a + b, 0) / w.data.length;
    const variance = w.data.reduce((a, b) => a + (b - mean) ** 2, 0) / w.data.length;
    expect(Math.abs(mean)).toBeLessThan(1e-9);
    expect(variance).toBeCloseTo(1, 9);
  });

  it('flattens a 1/f spectrum: a smooth image gains high-frequency contrast', () => {
    // Smooth image: a sum of low-frequency waves plus a little fine detail.
    const n = 64;
    const data = new Float64Array(n * n);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) data[y * n + x] = Math.sin((2 * Math.PI * x) / n) + 0.05 * Math.sin((2 * Math.PI * 16 * y) / n);
    const w = whitenImage({ width: n, height: n, data });
    // Project onto the two waves: the fine one must now dominate relative to before.
    const proj = (d: Float64Array, fx: number, fy: number): number => {
      let s = 0;
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) s += d[y * n + x]! * Math.sin((2 * Math.PI * (fx * x + fy * y)) / n);
      return Math.abs(s);
    };
    const before = proj(data, 0, 16) / proj(data, 1, 0);
    const after = proj(w.data, 0, 16) / proj(w.data, 1, 0);
    // R(f) = f·exp(−(f/f0)⁴): gain 16·exp(−(16/25.6)⁴) ≈ 13.7 at f = 16 against ≈ 1 at f = 1.
    expect(after / before).toBeCloseTo(16 * Math.exp(-((16 / 25.6) ** 4)), 1);
  });
});
