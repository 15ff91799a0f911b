// Sampled entries of a benchmarked GEMM against float64: a variant is timed only
// alongside a check that its product is right. The entries are poisoned (NaN)
// before each variant runs, so one that leaves them unwritten reads as wrong
// rather than as the previous variant's result.

import { readF32, writeF32, type BufferPool } from '../gpu/buffers.js';
import { gemmEntry, type GemmShape } from '../gpu/gemm-check.js';
import type { Rng } from '../prng.js';
import { maxRelDiff } from './common.js';

/**
 * A sampled entry is right when |c − ref| ≤ BENCH_GEMM_TOL·(1 + |ref|): f32 dots of
 * K ≤ 8192 terms in [−1, 1]² are typically within 10⁻⁵ of that; a wrong kernel is off by order 1.
 */
export const BENCH_GEMM_TOL = 1e-3;

export interface GemmSamples {
  /** Row-major indices i·N + j of the sampled entries of C. */
  at: number[];
  /** Their float64 values. */
  want: number[];
}

/** `count` entries of C = op(A)·op(B) (A, B in their stored layouts) drawn from `rng`, with their float64 values. */
export function gemmSamples(a: Float32Array, b: Float32Array, s: GemmShape, rng: Rng, count = 16): GemmSamples {
  const at: number[] = [];
  const want: number[] = [];
  for (let n = 0; n < count; n++) {
    const i = rng.int(s.M);
    const j = rng.int(s.N);
    at.push(i * s.N + j);
    want.push(gemmEntry(a, b, s, i, j).value);
  }
  return { at, want };
}

/** Writes NaN at the sampled entries of C. */
export function poisonSamples(device: GPUDevice, C: GPUBuffer, s: GemmSamples): void {
  for (const k of s.at) writeF32(device, C, [NaN], k);
}

/** max |c − ref| / (1 + |ref|) over the sampled entries (Infinity when one is NaN). */
export async function samplesError(device: GPUDevice, pool: BufferPool, C: GPUBuffer, s: GemmSamples): Promise<number> {
  const got = await readF32(device, pool, s.at.map((k) => ({ buffer: C, offset: k, count: 1 })));
  return maxRelDiff(got.map((g) => g[0]!), s.want);
}
