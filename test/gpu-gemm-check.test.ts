// The autotuner's correctness gate (src/gpu/gemm-check.ts): every variant the
// autotuner tries on this adapter passes checkGemm at an awkward size, and in all
// four layouts (the others compile for tens of seconds on SwiftShader;
// test/gpu-gemm.test.ts checks them all); a variant that writes nothing, or
// writes wrong values, fails it; and chooseGemmVariant never picks a failing
// variant, even one that is fastest (it does no work), reports it, and throws
// when no variant is right.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { chooseGemmVariant, gemmRejections, tuningProbes, TUNE_FLOP_BUDGET } from '../src/gpu/autotune.js';
import { GpuError } from '../src/gpu/device.js';
import { checkGemm, GEMM_CHECK_TOL } from '../src/gpu/gemm-check.js';
import { availableGemmVariants, gemmVariantsFor, splitKSlices, type GemmCall, type GemmVariant, type Kernels } from '../src/gpu/kernels.js';
import { harness, type Harness } from './helpers/gpu.js';

let h: Harness;
beforeAll(async () => {
  // A fresh tuning cache: a choice remembered on disk would skip the check.
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'wgnn-gemm-check-'));
  h = await harness();
});

/** Makes `variants` broken on `kernels`: `how` 'idle' dispatches no workgroups (C keeps its poison), 'scaled' computes 1.01·op(A)op(B). */
function breakVariants(kernels: Kernels, variants: readonly GemmVariant[], how: 'idle' | 'scaled'): () => void {
  const gemm = kernels.gemm.bind(kernels);
  const spy = vi.spyOn(kernels, 'gemm').mockImplementation(async (c: GemmCall) => {
    if (!variants.includes(c.variant)) return gemm(c);
    if (how === 'scaled') return gemm({ ...c, alpha: (c.alpha ?? 1) * 1.01 });
    return (await gemm(c)).map((d) => ({ ...d, x: 0, y: 0 }));
  });
  return () => spy.mockRestore();
}

describe('checkGemm', () => {
  it('passes every variant the autotuner tries on this adapter at an awkward size (vec4-eligible, no tile multiple), and one variant in all four layouts, with a float32-sized error', async () => {
    const runs: [GemmVariant, boolean, boolean][] = gemmVariantsFor(h.ctx.adapter.isSoftware, h.ctx.device).map((v) => [v, false, false]);
    for (const [transA, transB] of [[false, true], [true, false], [true, true]] as const) runs.push(['unrolled-8x4', transA, transB]);
    for (const [variant, transA, transB] of runs) {
      // vec4 kernels need N and K multiples of 4 (else Kernels.gemm runs a scalar kernel): 36 and 132, not tile multiples.
      const c = await checkGemm(h.kernels, { M: 70, N: 36, K: 132, transA, transB }, variant);
      expect(c.ok, `${variant} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}: ${c.maxError}`).toBe(true);
      expect(c.maxError).toBeLessThan(1e-5);
    }
  });

  it('passes tiled-128-splitk on the check problem a real GPU tunes ∇W at batch 4096 on (200 × 512 × 512: 4 K slices)', async () => {
    const probe = tuningProbes({ M: 200, N: 784, K: 4096, transA: true, transB: false }, false);
    expect(probe.check).toEqual({ M: 200, N: 512, K: 512, transA: true, transB: false });
    expect(splitKSlices(200, 512, 512, h.ctx.limits.maxStorageBufferBindingSize)).toBe(4);
    const c = await checkGemm(h.kernels, probe.check, 'tiled-128-splitk');
    expect(c.ok, `${c.maxError}`).toBe(true);
    expect(c.maxError).toBeLessThan(1e-5);
  });

  it('fails a variant that writes nothing (poisoned C) and one that is 1% off, naming the worst entry', async () => {
    const shape = { M: 45, N: 50, K: 23, transA: false, transB: true };
    let restore = breakVariants(h.kernels, ['unrolled-4x4'], 'idle');
    try {
      const c = await checkGemm(h.kernels, shape, 'unrolled-4x4');
      expect(c.ok).toBe(false);
      expect(c.maxError).toBe(Infinity);
      expect(Number.isNaN(c.worst!.got)).toBe(true);
    } finally {
      restore();
    }
    restore = breakVariants(h.kernels, ['unrolled-4x4'], 'scaled');
    try {
      const c = await checkGemm(h.kernels, shape, 'unrolled-4x4');
      expect(c.ok).toBe(false);
      expect(c.maxError).toBeGreaterThan(GEMM_CHECK_TOL);
      expect(c.worst!.got).toBeCloseTo(1.01 * c.worst!.want, 4);
    } finally {
      restore();
    }
  });
});

describe('chooseGemmVariant with a broken variant', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never picks it, though it is fastest, and reports it once on the console', async () => {
    const all = availableGemmVariants(h.ctx.device);
    const shape = { M: 33, N: 65, K: 17, transA: true, transB: false };
    const candidates: GemmVariant[] = [];
    const gemm = h.kernels.gemm.bind(h.kernels);
    // Break every variant the autotuner tries on this device (which ones depends on the adapter), recording them.
    vi.spyOn(h.kernels, 'gemm').mockImplementation(async (c: GemmCall) => {
      if (!candidates.includes(c.variant)) candidates.push(c.variant);
      const d = await gemm(c);
      return c.variant === broken ? d.map((x) => ({ ...x, x: 0, y: 0 })) : d;
    });
    let broken: GemmVariant = all[0]!;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // First pass: which variants does the autotuner try here? Break the first of them.
    const before = gemmRejections().length;
    broken = 'none' as GemmVariant;
    await chooseGemmVariant(h.kernels, shape);
    broken = candidates[0]!;
    expect(candidates.length).toBeGreaterThan(1);
    const other = { ...shape, M: 300 }; // another shape class, tuned afresh
    const chosen = await chooseGemmVariant(h.kernels, other);
    expect(chosen).not.toBe(broken);
    const rejected = gemmRejections().slice(before);
    expect(rejected.map((r) => r.variant)).toEqual([broken]);
    expect(rejected[0]!.shapeClass).toBe('TN:1024x256x64');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(`GEMM variant ${broken} on `);
  });

  it('throws a GpuError naming each variant when none is right', async () => {
    const gemm = h.kernels.gemm.bind(h.kernels);
    vi.spyOn(h.kernels, 'gemm').mockImplementation(async (c: GemmCall) => gemm({ ...c, alpha: 2 }));
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const err = await chooseGemmVariant(h.kernels, { M: 5, N: 1000, K: 3, transA: false, transB: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect(String((err as Error).message)).toMatch(/every GEMM variant gave wrong results .* NN:16x1024x4: .*relative error/);
  });
});

describe('tuningProbes', () => {
  it('checks at ≤ 512 a side (160 on software adapters); on real GPUs times the shape itself up to the flop budget, else halves its largest side', () => {
    const wgrad = { M: 200, N: 784, K: 4096, transA: true, transB: false };
    expect(tuningProbes(wgrad, false).time).toEqual(wgrad); // 1.3 GFLOP: timed as it is, K deep
    expect(tuningProbes(wgrad, true)).toEqual({ check: { ...wgrad, M: 160, N: 160, K: 160 }, time: { ...wgrad, M: 160, N: 160, K: 160 } });
    const big = tuningProbes({ M: 8192, N: 8192, K: 8192, transA: false, transB: false }, false).time;
    expect(2 * big.M * big.N * big.K).toBeLessThanOrEqual(TUNE_FLOP_BUDGET);
    expect(Math.min(big.M, big.N, big.K)).toBeGreaterThanOrEqual(512);
    expect(tuningProbes({ M: 100000, N: 512, K: 512, transA: false, transB: true }, false).time).toMatchObject({ M: 6250, N: 512, K: 512 });
  });
});
