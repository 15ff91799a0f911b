// The buffer pool's size classes (poolSize, sizeClass): pure functions, no GPU.
import { describe, expect, it } from 'vitest';
import { POOL_POW2_MAX, poolSize, sizeClass } from '../src/gpu/buffers.js';
import { Rng } from '../src/prng.js';

const GiB = 2 ** 30;
const big = { maxBufferSize: 2 ** 52 };

/** Requests of awkward sizes across 1 B … 4 GiB, seeded. */
function requests(): number[] {
  const rng = new Rng(11);
  const out = [1, 3, 4, 255, 256, 257, 1023, 1024, 1025, POOL_POW2_MAX - 1, POOL_POW2_MAX, POOL_POW2_MAX + 1, 1.1 * GiB, GiB + 4, 2 * GiB - 4];
  for (let i = 0; i < 400; i++) out.push(Math.max(1, Math.round(2 ** rng.range(0, 32))));
  return out;
}

describe('sizeClass', () => {
  it('small requests: the next power of two, at least 256 B', () => {
    expect([1, 4, 256, 257, 1000, 4096, 4097, POOL_POW2_MAX].map(sizeClass)).toEqual([256, 256, 256, 512, 1024, 4096, 8192, POOL_POW2_MAX]);
    for (const b of requests().filter((b) => b <= POOL_POW2_MAX)) {
      const s = sizeClass(b);
      expect(Number.isInteger(Math.log2(s)) && s >= 256 && s >= b && (s === 256 || s < 2 * b), `${b} → ${s}`).toBe(true);
    }
  });

  it('large requests: 2^k·(1 + j/8), at most 12.5% over', () => {
    // 1.1 GiB takes 1.125 GiB, not 2 GiB.
    expect(sizeClass(1.1 * GiB)).toBe(1.125 * GiB);
    expect(sizeClass(POOL_POW2_MAX + 1)).toBe(POOL_POW2_MAX * 1.125);
    expect(sizeClass(2 * GiB - 4)).toBe(2 * GiB);
    for (const b of requests().filter((b) => b > POOL_POW2_MAX)) {
      const s = sizeClass(b);
      const k = Math.floor(Math.log2(s));
      const j = s / 2 ** k * 8 - 8;
      expect(s >= b && s <= b * 1.125 && Number.isInteger(j) && j >= 0 && j < 8, `${b} → ${s} (k ${k}, j ${j})`).toBe(true);
      expect(s % 16).toBe(0);
    }
  });

  it('is monotone, and requests in one class share its size', () => {
    const sorted = requests().sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sizeClass(sorted[i]!)).toBeGreaterThanOrEqual(sizeClass(sorted[i - 1]!));
    // Two requests in one class get the same size, so a released buffer serves the other.
    expect(sizeClass(1.06 * GiB)).toBe(sizeClass(1.12 * GiB));
    expect(poolSize(280_000_000, big, true)).toBe(poolSize(300_000_000, big, true));
    expect(poolSize(2500, { maxBufferSize: 2 ** 30, maxBindingSize: 3000 }, true)).toBe(poolSize(2900, { maxBufferSize: 2 ** 30, maxBindingSize: 3000 }, true));
  });
});

describe('poolSize under the limits', () => {
  for (const maxBindingSize of [1_000_000_000, 2 ** 31 - 4, 2 ** 30 + 12345, 134_217_728, 3000, 1001]) {
    it(`a STORAGE request that fits a binding limit of ${maxBindingSize} never exceeds it`, () => {
      const limits = { maxBufferSize: 2 ** 32, maxBindingSize };
      const rng = new Rng(maxBindingSize % 9973);
      const fits = [1, 4, 256, maxBindingSize, maxBindingSize - 1, maxBindingSize - 3, Math.floor(0.6 * maxBindingSize), Math.floor(0.9 * maxBindingSize)];
      for (let i = 0; i < 200; i++) fits.push(Math.max(1, Math.floor(rng.range(0, 1) * maxBindingSize)));
      for (const b of fits.filter((b) => Math.ceil(b / 4) * 4 <= maxBindingSize)) {
        const s = poolSize(b, limits, true);
        expect(s <= maxBindingSize && s >= b && s % 4 === 0 && s <= sizeClass(b), `${b} → ${s}`).toBe(true);
      }
      // The example of the task: 0.6 × a non-power-of-two limit used to round past it.
      if (maxBindingSize === 2 ** 31 - 4) expect(poolSize(0.6 * maxBindingSize, limits, true)).toBe(1.25 * GiB);
      // Non-STORAGE buffers and requests over the binding limit are capped by maxBufferSize only.
      const over = maxBindingSize + 100;
      expect(poolSize(over, limits, true)).toBe(sizeClass(over));
      expect(poolSize(0.9 * maxBindingSize, limits, false)).toBe(sizeClass(0.9 * maxBindingSize));
    });
  }

  it('near a cap, requests share the cap rounded down to 16 (4 when needed)', () => {
    const limits = { maxBufferSize: 2 ** 32, maxBindingSize: 1_000_000_007 };
    expect(poolSize(950_000_000, limits, true)).toBe(1_000_000_000);
    expect(poolSize(999_999_999, limits, true)).toBe(1_000_000_000);
    expect(poolSize(1_000_000_001, limits, true)).toBe(1_000_000_004);
    expect(poolSize(3000, { maxBufferSize: 2 ** 30, maxBindingSize: 3000 }, true)).toBe(3000);
    expect(poolSize(2500, { maxBufferSize: 2 ** 30, maxBindingSize: 3000 }, true)).toBe(2992);
  });

  it('maxBufferSize caps every buffer, and a request over it is refused naming bytes and limit', () => {
    const limits = { maxBufferSize: 268_435_460 };
    expect(poolSize(260_000_000, limits)).toBe(268_435_456);
    expect(poolSize(268_435_457, limits)).toBe(268_435_460);
    expect(() => poolSize(268_435_461, limits)).toThrow(/268435461-byte .* maxBufferSize of 268435460 bytes/);
    expect(poolSize(0, limits)).toBe(256);
  });
});
