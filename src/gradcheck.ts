// Gradient checking (CS294A notes §2.2, "Gradient checking and advanced
// optimization"): compare an analytic gradient g(θ) with central differences
//   gᵢ(θ) ≈ (J(θ + ε eᵢ) − J(θ − ε eᵢ)) / 2ε.
// Backend-independent: J is any function of a Float64Array.

import { Rng } from './prng.js';
import { SpecError } from './spec.js';

export interface GradientMismatch {
  index: number;
  analytic: number;
  numeric: number;
  absDiff: number;
}

export interface GradientComparison {
  /** ‖g − n‖ / ‖g + n‖, as in the UFLDL sparse autoencoder exercise (0 when both are 0). */
  relDiff: number;
  /** maxᵢ |gᵢ − nᵢ|. */
  maxAbsDiff: number;
  /** The coordinates with the largest |gᵢ − nᵢ|, largest first. */
  worst: GradientMismatch[];
}

export interface GradientCheckResult extends GradientComparison {
  /** Number of coordinates compared. */
  checked: number;
  epsilon: number;
  /** J(θ) at the point checked. */
  cost: number;
}

function checkEpsilon(epsilon: number): void {
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new SpecError(`epsilon must be a positive number, got ${epsilon}`);
}

function checkIndices(indices: ArrayLike<number>, n: number): void {
  for (let t = 0; t < indices.length; t++) {
    const i = indices[t]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new SpecError(`index ${i} is outside θ (length ${n})`);
  }
}

/**
 * Central-difference gradient of f at θ. θ is perturbed in place and restored
 * exactly. With `indices`, only those coordinates are computed; the others are NaN.
 */
export function numericGradient(
  f: (theta: Float64Array) => number,
  theta: Float64Array,
  opts: { epsilon?: number; indices?: ArrayLike<number> } = {},
): Float64Array {
  const epsilon = opts.epsilon ?? 1e-4;
  checkEpsilon(epsilon);
  const n = theta.length;
  const out = new Float64Array(n);
  if (opts.indices) {
    checkIndices(opts.indices, n);
    out.fill(NaN);
  }
  const count = opts.indices ? opts.indices.length : n;
  for (let t = 0; t < count; t++) {
    const i = opts.indices ? opts.indices[t]! : t;
    const old = theta[i]!;
    try {
      theta[i] = old + epsilon; // θ(i+) = θ + ε eᵢ
      const plus = f(theta);
      theta[i] = old - epsilon; // θ(i−) = θ − ε eᵢ
      const minus = f(theta);
      out[i] = (plus - minus) / (2 * epsilon);
    } finally {
      theta[i] = old;
    }
  }
  return out;
}

/** Compares two gradients over `indices` (default: every coordinate). */
export function compareGradients(
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  indices?: ArrayLike<number>,
  worstCount = 5,
): GradientComparison {
  if (!indices && analytic.length !== numeric.length) {
    throw new SpecError(`gradients differ in length: analytic ${analytic.length}, numeric ${numeric.length}`);
  }
  if (indices) checkIndices(indices, Math.min(analytic.length, numeric.length));
  const count = indices ? indices.length : analytic.length;
  let diff2 = 0;
  let sum2 = 0;
  let maxAbsDiff = 0;
  const worst: GradientMismatch[] = [];
  const rank = (d: number): number => (Number.isNaN(d) ? Infinity : d);
  for (let t = 0; t < count; t++) {
    const index = indices ? indices[t]! : t;
    const g = analytic[index]!;
    const n = numeric[index]!;
    const absDiff = Math.abs(g - n);
    diff2 += (g - n) * (g - n);
    sum2 += (g + n) * (g + n);
    if (!(absDiff <= maxAbsDiff)) maxAbsDiff = absDiff; // NaN wins
    if (worstCount > 0 && (worst.length < worstCount || rank(absDiff) > rank(worst[worst.length - 1]!.absDiff))) {
      let p = worst.length;
      while (p > 0 && rank(worst[p - 1]!.absDiff) < rank(absDiff)) p--;
      worst.splice(p, 0, { index, analytic: g, numeric: n, absDiff });
      if (worst.length > worstCount) worst.pop();
    }
  }
  const relDiff = sum2 === 0 ? (diff2 === 0 ? 0 : Infinity) : Math.sqrt(diff2) / Math.sqrt(sum2);
  return { relDiff, maxAbsDiff, worst };
}

/** `count` distinct coordinates of 0 … n−1, drawn with Rng(seed), in increasing order. */
export function sampleIndices(n: number, count: number, seed: number): Uint32Array {
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  if (count >= n) return all;
  new Rng(seed).shuffle(all);
  return all.slice(0, count).sort();
}

/**
 * Checks f's gradient against central differences of f's cost at θ (θ is not
 * modified). `sample` checks a seeded random subset of that many coordinates;
 * `cost`, when given, is used for the 2·checked cost evaluations instead of f
 * (a cost-only path that skips backpropagation).
 */
export function gradientCheck(
  f: (theta: Float64Array) => { cost: number; grad: Float64Array },
  theta: Float64Array,
  opts: { epsilon?: number; sample?: number; seed?: number; cost?: (theta: Float64Array) => number; worstCount?: number } = {},
): GradientCheckResult {
  const epsilon = opts.epsilon ?? 1e-4;
  checkEpsilon(epsilon);
  if (opts.sample !== undefined && !(Number.isInteger(opts.sample) && opts.sample > 0)) {
    throw new SpecError(`sample must be a positive integer, got ${opts.sample}`);
  }
  const point = Float64Array.from(theta);
  const at = f(point);
  const analytic = Float64Array.from(at.grad);
  if (analytic.length !== point.length) throw new SpecError(`the gradient has ${analytic.length} values but θ has ${point.length}`);
  const indices = opts.sample !== undefined && opts.sample < point.length ? sampleIndices(point.length, opts.sample, opts.seed ?? 0) : undefined;
  const cost = opts.cost ?? ((t: Float64Array) => f(t).cost);
  const numeric = numericGradient(cost, point, { epsilon, indices });
  const cmp = compareGradients(analytic, numeric, indices, opts.worstCount);
  return { ...cmp, checked: indices ? indices.length : point.length, epsilon, cost: at.cost };
}

/**
 * The notes' sanity check of the checker itself: h(x) = x₁² + 3x₁x₂ at (4, 10),
 * whose gradient is (2x₁ + 3x₂, 3x₁) = (38, 12). Returns relDiff (UFLDL reports ≈ 2.1e-12).
 */
export function toyCheck(): number {
  const h = (x: Float64Array): number => x[0]! * x[0]! + 3 * x[0]! * x[1]!;
  const x = Float64Array.of(4, 10);
  const analytic = [2 * x[0]! + 3 * x[1]!, 3 * x[0]!];
  return compareGradients(analytic, numericGradient(h, x)).relDiff;
}
