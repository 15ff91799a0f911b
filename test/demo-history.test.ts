// The demo's cost history stays bounded however long the run, and keeps every
// reading's extremes (the chart draws min–max per bucket).
import { describe, expect, it } from 'vitest';
import { SeriesHistory } from '../demo/history.js';
import { Rng } from '../src/prng.js';

describe('SeriesHistory', () => {
  it('stays within its capacity and keeps the min and max of every reading', () => {
    const h = new SeriesHistory(64);
    const rng = new Rng(2);
    let lo = Infinity;
    let hi = -Infinity;
    for (let step = 1; step <= 100_000; step += 3) {
      const v = rng.uniform() * 10;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      h.push(step, v);
      expect(h.length).toBeLessThanOrEqual(64);
    }
    expect(h.length).toBeGreaterThan(32);
    expect(Math.min(...h.all.map((b) => b.min))).toBe(lo);
    expect(Math.max(...h.all.map((b) => b.max))).toBe(hi);
    expect(h.all[h.all.length - 1]!.lastStep).toBe(100_000);
    for (let i = 1; i < h.length; i++) expect(h.all[i]!.step - h.all[i - 1]!.step).toBeGreaterThanOrEqual(h.width);
  });

  it('ignores non-finite readings and rejects a bad capacity', () => {
    const h = new SeriesHistory();
    h.push(1, NaN);
    h.push(2, Infinity);
    expect(h.length).toBe(0);
    h.push(3, 1.5);
    expect(h.all[0]).toEqual({ step: 3, min: 1.5, max: 1.5, last: 1.5, lastStep: 3 });
    expect(() => new SeriesHistory(1)).toThrow(/capacity must be an integer ≥ 2, got 1/);
  });
});
