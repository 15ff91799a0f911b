// `wgnn bench step --profile`: the capture sees every dispatch of a step, and both
// timing methods (timestamp queries; CPU-side per dispatch group without them) report
// every kernel with shares summing to 1. No timing is asserted.
import { afterAll, describe, expect, it } from 'vitest';
import { profileStep, type StepProfileResult } from '../src/bench/profile.js';
import { acquireDevice, type GpuContext } from '../src/gpu/device.js';
import { gpu } from './helpers/gpu.js';

const opts = { layers: [12, 5, 12], batch: 8, warmup: 1, reps: 1 };
const owned: GpuContext[] = [];
afterAll(() => owned.forEach((c) => c.destroy()));

function checkShape(p: StepProfileResult): void {
  expect(p.dispatchesPerStep).toBeGreaterThan(5);
  expect(p.submitsPerStep).toBeGreaterThanOrEqual(1);
  expect(p.kernels.reduce((a, k) => a + k.count, 0)).toBe(p.dispatchesPerStep);
  expect(p.kernels.reduce((a, k) => a + k.share, 0)).toBeCloseTo(1, 9);
  // The step's GEMMs are there, named by layout and shape (forward NT, ∇W TN, backprop NN).
  const labels = p.kernels.map((k) => k.label);
  expect(labels).toContain('gemm NT 8x5x12');
  expect(labels).toContain('gemm TN 5x12x8');
  expect(labels).toContain('gemm NN 8x5x12');
  for (const k of p.kernels) expect(k.seconds).toBeGreaterThanOrEqual(0);
  expect(p.kernels.map((k) => k.seconds)).toEqual([...p.kernels.map((k) => k.seconds)].sort((a, b) => b - a));
}

describe('step profile', () => {
  it('timestamp queries where the device has them, else CPU timing; the same dispatches either way', async () => {
    const ctx = await gpu();
    const a = await profileStep(ctx, opts);
    checkShape(a);
    expect(a.method).toBe(ctx.device.features.has('timestamp-query') ? 'timestamp-query' : 'cpu-submit');
    const b = await profileStep(ctx, { ...opts, forceCpu: true });
    checkShape(b);
    expect(b.method).toBe('cpu-submit');
    expect(b.emptySubmitSeconds).toBeGreaterThan(0);
    expect(b.dispatchesPerStep).toBe(a.dispatchesPerStep);
    expect(b.kernels.map((k) => k.label).sort()).toEqual(a.kernels.map((k) => k.label).sort());
    ctx.check();
  }, 120_000);

  it('on a device without timestamp-query it says so and falls back to CPU timing', async () => {
    const ctx = await acquireDevice({ optionalFeatures: [] });
    owned.push(ctx);
    expect(ctx.device.features.has('timestamp-query')).toBe(false);
    const p = await profileStep(ctx, opts);
    checkShape(p);
    expect(p.method).toBe('cpu-submit');
    expect(p.note).toContain('no timestamp-query');
  }, 120_000);
});
