// Counter-based noise for input corruption (denoising autoencoders). Every value
// is a pure function of (seed, index, stream), so the GPU kernel `corrupt`
// (shaders/corrupt.wgsl) reproduces these numbers bit for bit and no generator
// state lives anywhere. Browser-safe.
//
// pcg: the PCG-RXS-M-XS 32-bit output permutation used as a hash (Jarzynski &
// Olano, "Hash Functions for GPU Rendering", JCGT 2020).

import { CORRUPTION_ID } from './gpu/ids.gen.js';
import { resolveCorruption, type CorruptionSpec, type Network } from './spec.js';

/** pcg(v) = (w >> 22) ^ w, s = v·747796405 + 2891336453, w = ((s >> ((s >> 28) + 4)) ^ s)·277803737 (all mod 2³²). */
export function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** A u32 for element `index` of stream `stream` under `seed` (index taken mod 2³²). */
export function noiseU32(seed: number, index: number, stream: number): number {
  return pcg((pcg((seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0) + (index >>> 0)) >>> 0);
}

/** Uniform in [0, 1) on a grid of 2⁻²⁴ (exact in f32). */
export function noiseUniform(seed: number, index: number, stream: number): number {
  return (noiseU32(seed, index, stream) >>> 8) / 16777216;
}

// Corruption specs are validated by resolveCorruption (src/spec.ts), the one validator.
export type { CorruptionSpec };

/** The `corrupt` kernel's KIND for each kind of corruption (NOISE_* in WGSL; one source, shaders/ids.json). */
export const CORRUPTION_KINDS = CORRUPTION_ID;

/**
 * The corrupted value of x at global element `index` (u0, u1 = streams 0 and 1):
 * mask: u0 < ν ? 0 : x; gaussian: x + σ·√(−2 ln(1 − u0))·cos(2π u1);
 * salt-pepper: u0 < ν ? (u1 < ½ ? low : high) : x. The probability ν is compared
 * as the f32 the GPU sees, so both sides pick the same elements.
 */
export function corruptValue(x: number, spec: CorruptionSpec, seed: number, index: number): number {
  const u0 = noiseUniform(seed, index, 0);
  switch (spec.kind) {
    case 'mask':
      return u0 < Math.fround(spec.level) ? 0 : x;
    case 'gaussian': {
      const u1 = noiseUniform(seed, index, 1);
      return x + spec.level * Math.sqrt(-2 * Math.log(1 - u0)) * Math.cos(2 * Math.PI * u1);
    }
    case 'salt-pepper': {
      if (!(u0 < Math.fround(spec.level))) return x;
      return noiseUniform(seed, index, 1) < 0.5 ? (spec.low ?? 0) : (spec.high ?? 1);
    }
  }
}

/** A corrupted copy of a row-major matrix; element (r, c) uses global index (rowOffset + r)·cols + c. */
export function corruptMatrix(X: { rows: number; cols: number; data: ArrayLike<number> }, spec: CorruptionSpec, seed: number, rowOffset = 0): Float64Array {
  resolveCorruption(spec);
  const out = new Float64Array(X.rows * X.cols);
  for (let r = 0; r < X.rows; r++) {
    const base = (rowOffset + r) * X.cols;
    for (let c = 0; c < X.cols; c++) out[r * X.cols + c] = corruptValue(X.data[r * X.cols + c]!, spec, seed, base + c);
  }
  return out;
}

/** The noise seed of training evaluation number `n` (0, 1, …) under a network's corruption seed: fresh noise for every presentation. */
export function evaluationSeed(seed: number, n: number): number {
  return noiseU32(seed, n, 0x5eed);
}

/** The noise streams of a VAE's ε (u0, u1 of its Box–Muller pair); corruption uses 0 and 1. */
export const NORMAL_STREAM = 2;

/**
 * A standard normal for element `index` under `seed`: Box–Muller of two uniforms of
 * this counter-based noise, ε = √(−2 ln(1 − u0))·cos(2π u1) with u0, u1 from streams
 * NORMAL_STREAM and NORMAL_STREAM + 1 (1 − u0 lies in (0, 1], so ln is finite). The
 * uniforms are bit-identical on the GPU (shaders/vae.wgsl); ε agrees to f32 rounding.
 */
export function noiseNormal(seed: number, index: number): number {
  const u0 = noiseUniform(seed, index, NORMAL_STREAM);
  const u1 = noiseUniform(seed, index, NORMAL_STREAM + 1);
  return Math.sqrt(-2 * Math.log(1 - u0)) * Math.cos(2 * Math.PI * u1);
}

/** rows × d standard normals, element (r, j) at global index (rowOffset + r)·d + j (mod 2³²). */
export function normalMatrix(seed: number, rows: number, d: number, rowOffset = 0): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) out[r * d + j] = noiseNormal(seed, (rowOffset + r) * d + j);
  return out;
}

/**
 * The seeds of training evaluation number `n` of `net`: the input corruption's
 * (denoising) and ε's (a VAE), each derived from its own seed so they stay apart.
 */
export function presentationSeeds(net: Pick<Network, 'corruption' | 'vae'>, n: number): { noiseSeed?: number; epsSeed?: number } {
  return {
    ...(net.corruption ? { noiseSeed: evaluationSeed(net.corruption.seed, n) } : {}),
    ...(net.vae ? { epsSeed: evaluationSeed(net.vae.seed, n) } : {}),
  };
}
