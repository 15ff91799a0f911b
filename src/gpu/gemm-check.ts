// A GEMM variant checked against float64 before it is trusted. The autotuner
// (autotune.ts) runs every candidate once on seeded inputs with the output
// poisoned and drops a variant whose result is wrong: the kernels are tested on
// SwiftShader, and a driver that runs one of them differently (subgroup
// shuffles, workgroup-memory tiling) must cost speed, never correctness.

import { readF32, STORAGE, writeF32 } from './buffers.js';
import { recordDispatches, type GemmVariant, type Kernels } from './kernels.js';
import { Rng } from '../prng.js';

/** A GEMM problem's shape: C (M × N) = op(A) (M × K) · op(B) (K × N). */
export interface GemmShape {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

/**
 * |c − ref| ≤ GEMM_CHECK_TOL · Σₖ|op(A)ᵢₖ op(B)ₖⱼ| for every checked entry. An f32
 * dot of K ≤ 512 terms, in any summation order, is within about K·2⁻²⁴ ≈ 3·10⁻⁵
 * of that; a wrong tile, a missed edge or a stale value is off by order 1.
 */
export const GEMM_CHECK_TOL = 1e-3;

/** Rows (or columns) checked in full: the first and last four and 24 seeded others. */
const EDGE = 4;
const SAMPLED = 24;

export interface GemmCheck {
  variant: GemmVariant;
  shape: GemmShape;
  /** The largest |c − ref| / Σₖ|aᵢₖbₖⱼ| over the checked entries (Infinity for a NaN or an entry never written). */
  maxError: number;
  ok: boolean;
  /** The worst entry, when not ok. */
  worst?: { i: number; j: number; got: number; want: number };
}

/**
 * Entry (i, j) of C = op(A)·op(B) in float64 from A and B in their stored layouts
 * (A: M × K, or K × M when transA; B: K × N, or N × K when transB), and
 * Σₖ|op(A)ᵢₖ op(B)ₖⱼ|, the scale its float32 rounding error is measured against.
 */
export function gemmEntry(a: ArrayLike<number>, b: ArrayLike<number>, s: GemmShape, i: number, j: number): { value: number; magnitude: number } {
  let value = 0;
  let magnitude = 0;
  for (let k = 0; k < s.K; k++) {
    const p = (s.transA ? a[k * s.M + i]! : a[i * s.K + k]!) * (s.transB ? b[j * s.K + k]! : b[k * s.N + j]!);
    value += p;
    magnitude += Math.abs(p);
  }
  return { value, magnitude };
}

/** The indices of `n` to check: all when few, else the edges and seeded others. */
function pick(n: number, rng: Rng): number[] {
  if (n <= 2 * EDGE + SAMPLED) return Array.from({ length: n }, (_, i) => i);
  const s = new Set<number>();
  for (let i = 0; i < EDGE; i++) s.add(i).add(n - 1 - i);
  while (s.size < 2 * EDGE + SAMPLED) s.add(EDGE + rng.int(n - 2 * EDGE));
  return [...s].sort((a, b) => a - b);
}

/**
 * Runs `variant` once on `shape` (C = op(A)·op(B), entries of A and B uniform in
 * [−1, 1) from `seed`, C poisoned with NaN) and compares whole rows and whole
 * columns of C (every row tile and every column tile is crossed) with float64.
 */
export async function checkGemm(kernels: Kernels, shape: GemmShape, variant: GemmVariant, seed = 1): Promise<GemmCheck> {
  const { M, N, K, transA } = shape;
  const { device } = kernels.ctx;
  const pool = kernels.pool;
  const rng = new Rng(seed * 7919 + M * 31 + N * 17 + K);
  const a = Float32Array.from({ length: M * K }, () => rng.range(-1, 1));
  const b = Float32Array.from({ length: K * N }, () => rng.range(-1, 1));
  const A = pool.acquire(a.length * 4, STORAGE, 'check A');
  const B = pool.acquire(b.length * 4, STORAGE, 'check B');
  const C = pool.acquire(M * N * 4, STORAGE, 'check C');
  let got: Float32Array;
  try {
    writeF32(device, A, a);
    writeF32(device, B, b);
    writeF32(device, C, new Float32Array(M * N).fill(NaN));
    const d = await kernels.gemm({ ...shape, A: { buffer: A }, B: { buffer: B }, C: { buffer: C }, variant });
    try {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      recordDispatches(pass, d);
      pass.end();
      device.queue.submit([enc.finish()]);
      [got] = await readF32(device, pool, [{ buffer: C, count: M * N }]);
      kernels.ctx.check();
    } finally {
      kernels.release(d);
    }
  } finally {
    [A, B, C].forEach((buf) => pool.release(buf));
  }
  const result: GemmCheck = { variant, shape, maxError: 0, ok: true };
  const entry = (i: number, j: number): void => {
    const { value: want, magnitude } = gemmEntry(a, b, shape, i, j);
    const c = got![i * N + j]!;
    const err = Number.isFinite(c) ? Math.abs(c - want) / (magnitude + 1e-30) : Infinity;
    if (!(err <= result.maxError)) {
      result.maxError = err;
      if (err > GEMM_CHECK_TOL) result.worst = { i, j, got: c, want };
    }
  };
  for (const i of pick(M, rng)) for (let j = 0; j < N; j++) entry(i, j);
  for (const j of pick(N, rng)) for (let i = 0; i < M; i++) entry(i, j);
  result.ok = result.maxError <= GEMM_CHECK_TOL;
  if (result.ok) delete result.worst;
  return result;
}
