// The counter-based corruption noise (src/noise.ts) against a BigInt reference of
// the hash, and the statistics of each corruption kind.
import { describe, expect, it } from 'vitest';
import { corruptMatrix, corruptValue, noiseU32, noiseUniform, pcg } from '../src/noise.js';
import { Rng } from '../src/prng.js';

const M32 = (1n << 32n) - 1n;
function pcgRef(v: bigint): bigint {
  const s = (v * 747796405n + 2891336453n) & M32;
  const w = (((s >> ((s >> 28n) + 4n)) ^ s) * 277803737n) & M32;
  return ((w >> 22n) ^ w) & M32;
}
function noiseRef(seed: number, index: number, stream: number): bigint {
  const inner = pcgRef((BigInt(seed) ^ ((BigInt(stream) * 0x9e3779b9n) & M32)) & M32);
  return pcgRef((inner + BigInt(index)) & M32);
}

describe('noise', () => {
  it('pcg and noiseU32 match a BigInt reference, including index wrap-around', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 2000; t++) {
      const v = rng.nextU32();
      expect(pcg(v)).toBe(Number(pcgRef(BigInt(v))));
      const seed = rng.nextU32();
      const index = t < 1000 ? rng.nextU32() : rng.nextU32() + 2 ** 32 * (t % 7);
      for (const stream of [0, 1, 5]) expect(noiseU32(seed, index, stream)).toBe(Number(noiseRef(seed, index % 2 ** 32, stream)));
    }
    expect(pcg(0)).toBe(Number(pcgRef(0n)));
    expect(pcg(0xffffffff)).toBe(Number(pcgRef(0xffffffffn)));
  });

  it('noiseUniform is in [0, 1), exact in f32, and looks uniform', () => {
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = noiseUniform(7, i, 0);
      expect(u >= 0 && u < 1).toBe(true);
      expect(Math.fround(u)).toBe(u);
      sum += u;
    }
    // Mean of n uniforms: σ = √(1/12n).
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    // Streams and seeds are different sequences.
    expect(noiseUniform(7, 3, 0)).not.toBe(noiseUniform(7, 3, 1));
    expect(noiseUniform(7, 3, 0)).not.toBe(noiseUniform(8, 3, 0));
  });

  it('mask zeroes a fraction ν, salt-pepper uses low/high half each, gaussian has mean 0 and std σ', () => {
    const [rows, cols] = [400, 50];
    const n = rows * cols;
    const X = { rows, cols, data: new Float64Array(n).fill(0.5) };
    const nu = 0.3;
    const sd = 4 * Math.sqrt((nu * (1 - nu)) / n);
    const masked = corruptMatrix(X, { kind: 'mask', level: nu }, 11);
    const frac = masked.filter((v) => v === 0).length / n;
    expect(Math.abs(frac - nu)).toBeLessThan(sd);
    expect(masked.every((v) => v === 0 || v === 0.5)).toBe(true);
    const sp = corruptMatrix(X, { kind: 'salt-pepper', level: nu, low: -1, high: 2 }, 11);
    const lows = sp.filter((v) => v === -1).length / n;
    const highs = sp.filter((v) => v === 2).length / n;
    expect(sp.every((v) => v === -1 || v === 2 || v === 0.5)).toBe(true);
    expect(Math.abs(lows + highs - nu)).toBeLessThan(sd);
    expect(Math.abs(lows - nu / 2)).toBeLessThan(4 * Math.sqrt((nu / 2) * (1 - nu / 2) / n));
    // Same seed ⇒ salt-pepper picks exactly the elements mask zeroes (both use u0 < ν).
    for (let i = 0; i < n; i++) expect(sp[i] !== 0.5).toBe(masked[i] === 0);
    const sigma = 0.2;
    const g = corruptMatrix(X, { kind: 'gaussian', level: sigma }, 11);
    let m = 0;
    for (const v of g) m += v - 0.5;
    m /= n;
    let v2 = 0;
    for (const v of g) v2 += (v - 0.5 - m) ** 2;
    const std = Math.sqrt(v2 / (n - 1));
    expect(Math.abs(m)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs(std - sigma)).toBeLessThan(4 * sigma / Math.sqrt(2 * n));
    // Level 0 changes nothing.
    expect(Array.from(corruptMatrix(X, { kind: 'mask', level: 0 }, 11))).toEqual(Array.from(X.data));
  });

  it('rowOffset: a slice corrupted at its offset equals the same rows of the whole matrix; seeds differ', () => {
    const rng = new Rng(3);
    const [rows, cols] = [37, 29];
    const data = Float64Array.from({ length: rows * cols }, () => rng.range(-1, 1));
    for (const spec of [{ kind: 'mask', level: 0.4 }, { kind: 'gaussian', level: 0.1 }, { kind: 'salt-pepper', level: 0.2 }] as const) {
      const whole = corruptMatrix({ rows, cols, data }, spec, 99);
      const part = corruptMatrix({ rows: 10, cols, data: data.subarray(20 * cols, 30 * cols) }, spec, 99, 20);
      expect(Array.from(part)).toEqual(Array.from(whole.subarray(20 * cols, 30 * cols)));
      expect(whole[5 * cols + 3]).toBe(corruptValue(data[5 * cols + 3]!, spec, 99, 5 * cols + 3));
      const other = corruptMatrix({ rows, cols, data }, spec, 100);
      expect(Array.from(other)).not.toEqual(Array.from(whole));
    }
    expect(() => corruptMatrix({ rows, cols, data }, { kind: 'mask', level: 1.5 }, 1)).toThrow(/probability/);
    expect(() => corruptMatrix({ rows, cols, data }, { kind: 'gaussian', level: -1 }, 1)).toThrow(/level/);
  });
});
