// The benchmark harness runs end to end on a tiny problem and reports what it
// promises (no timing assertions: only that every figure is there, finite and
// positive, and that the engines computed the same thing).
import { describe, expect, it, vi } from 'vitest';
import { benchGemm, benchStep, formatBenchTable } from '../src/bench/index.js';
import { availableGemmVariants, GEMM_VARIANT_NAMES, Kernels } from '../src/gpu/kernels.js';
import { gpu } from './helpers/gpu.js';

const positive = (x: number | null | undefined): void => {
  expect(typeof x).toBe('number');
  expect(Number.isFinite(x)).toBe(true);
  expect(x).toBeGreaterThan(0);
};

function expectMeta(r: { date: string; adapter: { label: string; isSoftware: boolean }; versions: Record<string, string>; node: string | null }): void {
  expect(Number.isNaN(Date.parse(r.date))).toBe(false);
  expect(r.adapter.label.length).toBeGreaterThan(0);
  expect(typeof r.adapter.isSoftware).toBe('boolean');
  expect(r.node).toBe(process.versions.node);
  expect(r.versions['webgpu-nn']).toMatch(/^\d+\.\d+\.\d+/);
  expect(r.versions['@tensorflow/tfjs']).toMatch(/^\d+\.\d+\.\d+/);
}

describe('bench harness', () => {
  it('benchGemm at n = 64: every variant, the best, TF.js webgpu on the same device, and the ratio', async () => {
    const ctx = await gpu();
    const r = await benchGemm(ctx, { sizes: [64], reps: 1, warmup: 1 });
    expect(r.bench).toBe('gemm');
    expectMeta(r);
    expect(r.notes).toEqual([]);
    expect(r.sizes).toHaveLength(1);
    const row = r.sizes[0]!;
    expect(row.n).toBe(64);
    expect(row.flop).toBe(2 * 64 ** 3);
    // Every variant the device can run (all of them on SwiftShader, which offers subgroups).
    expect(row.variants.map((v) => v.variant)).toEqual(availableGemmVariants(ctx.device));
    if (ctx.device.features.has('subgroups')) expect(row.variants.map((v) => v.variant)).toEqual(GEMM_VARIANT_NAMES);
    for (const v of row.variants) positive(v.gflops);
    expect(row.ours.gflops).toBe(Math.max(...row.variants.map((v) => v.gflops)));
    for (const v of row.variants) expect(v.maxRelErr, v.variant).toBeLessThan(1e-5);
    positive(row.tfjs?.gflops);
    positive(row.ratio);
    expect(row.maxRelDiffVsTfjs).toBeLessThan(1e-4);
    expect(formatBenchTable(r)).toContain('64³');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    ctx.check();
  });

  it('benchGemm marks a variant whose product is wrong and never counts it as ours, though it is fastest', async () => {
    const ctx = await gpu();
    const gemm = Kernels.prototype.gemm;
    // 'regblock-4x4' dispatches no workgroups: the fastest, and C's sampled entries keep their poison.
    const spy = vi.spyOn(Kernels.prototype, 'gemm').mockImplementation(async function (this: Kernels, c) {
      const d = await gemm.call(this, c);
      return c.variant === 'regblock-4x4' ? d.map((x) => ({ ...x, x: 0, y: 0 })) : d;
    });
    try {
      const r = await benchGemm(ctx, { sizes: [40], reps: 1, warmup: 1, variants: ['unrolled-4x4', 'regblock-4x4'], tfjs: false });
      const row = r.sizes[0]!;
      expect(row.variants.find((v) => v.variant === 'regblock-4x4')!.maxRelErr).toBe(Infinity);
      expect(row.variants.find((v) => v.variant === 'unrolled-4x4')!.maxRelErr).toBeLessThan(1e-5);
      expect(row.ours.variant).toBe('unrolled-4x4');
      expect(r.notes.join('\n')).toMatch(/40³ regblock-4x4: WRONG result/);
      expect(formatBenchTable(r)).toMatch(/wrong \(/);
    } finally {
      spy.mockRestore();
    }
  });

  it('benchStep with the examples stored as f16 (dataPrecision): same dispatches, the table says so', async () => {
    const ctx = await gpu();
    const r = await benchStep(ctx, { layers: [16, 8, 16], batch: 8, batches: 2, steps: 2, warmup: 1, dataPrecision: 'f16', tfjsWebgpu: false, tfjsWasm: false, cpu: false });
    expect(r.config.dataPrecision).toBe('f16');
    positive(r.ours.samplesPerSec);
    expect(r.ours.readbacksPerStep).toBe(0);
    // The gather unpacks the halves: no extra dispatch.
    expect(r.ours.dispatchesPerStep).toBe(10);
    expect(formatBenchTable(r)).toContain('stored as f16');
  });

  it('benchStep on a tiny sparse autoencoder: ours, TF.js webgpu, TF.js wasm and the CPU reference agree on J and report samples/s', async () => {
    const ctx = await gpu();
    const r = await benchStep(ctx, { layers: [16, 8, 16], batch: 8, batches: 2, steps: 2, warmup: 1 });
    expect(r.bench).toBe('step');
    expectMeta(r);
    expect(r.notes).toEqual([]);
    expect(r.config).toMatchObject({ layers: [16, 8, 16], batch: 8, activation: 'sigmoid', loss: 'squared', rho: 0.1, beta: 3, lambda: 3e-3 });
    positive(r.ours.samplesPerSec);
    positive(r.ours.secondsPerStep);
    expect(r.ours.readbacksPerStep).toBe(0);
    // gather, 2 forward GEMMs, ρ̂ column sums, output δ + ∇b, ∇W(2), δ·W, hidden δ + ∇b, ∇W(1), the update (issue 12 §4: 15 before the fusions).
    expect(r.ours.dispatchesPerStep).toBe(10);
    expect(r.ours.submitsPerStep).toBeGreaterThanOrEqual(1);
    expect(formatBenchTable(r)).toContain('10 dispatches');
    for (const f of [r.tfjsWebgpu, r.tfjsWasm, r.cpu]) {
      positive(f?.samplesPerSec);
      positive(f?.secondsPerStep);
    }
    positive(r.ratios.vsTfjsWebgpu);
    positive(r.ratios.vsTfjsWasm);
    positive(r.ratios.vsCpu);
    positive(r.costCheck.ours);
    expect(r.costCheck.maxRelDiff).toBeLessThan(1e-4);
    expect(formatBenchTable(r)).toContain('TF.js wasm');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    ctx.check();
  });
});
