// VectorOps and Objective on plain Float64Arrays: the float64 reference that
// the optimizers are tested on, and the CPU backend's training path.

import { Rng } from '../prng.js';
import { SpecError } from '../spec.js';
import type { BatchRange, Objective, VectorOps } from './types.js';

function checkLength(n: number, v: ArrayLike<number>, what: string): void {
  if (v.length !== n) throw new SpecError(`${what}: vector of ${n} values expected, got ${v.length}`);
}

/** VectorOps on Float64Arrays of length `n` (every operation runs at once; `dot` is exact float64 summation in index order). */
export function cpuVectorOps(n: number): VectorOps<Float64Array> {
  if (!Number.isInteger(n) || n < 0) throw new SpecError(`vector length must be a non-negative integer, got ${n}`);
  const dot = (x: Float64Array, y: Float64Array): number => {
    checkLength(n, x, 'dot');
    checkLength(n, y, 'dot');
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * y[i];
    return s;
  };
  return {
    n,
    alloc: () => new Float64Array(n),
    free: () => {},
    copy(src, dst) {
      checkLength(n, src, 'copy');
      checkLength(n, dst, 'copy');
      dst.set(src);
    },
    axpy(a, x, y) {
      checkLength(n, x, 'axpy');
      checkLength(n, y, 'axpy');
      for (let i = 0; i < n; i++) y[i] += a * x[i];
    },
    axpby(a, x, b, y) {
      checkLength(n, x, 'axpby');
      checkLength(n, y, 'axpby');
      for (let i = 0; i < n; i++) y[i] = a * x[i] + b * y[i];
    },
    scale(a, y) {
      checkLength(n, y, 'scale');
      for (let i = 0; i < n; i++) y[i] *= a;
    },
    fill(a, y) {
      checkLength(n, y, 'fill');
      y.fill(a);
    },
    adam(theta, g, m, v, p) {
      for (const [w, x] of [['theta', theta], ['g', g], ['m', m], ['v', v]] as const) checkLength(n, x, `adam ${w}`);
      const { lr, beta1, beta2, epsilon, t } = p;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        theta[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
      }
    },
    combine(coefs, vectors, dst) {
      if (coefs.length !== vectors.length) throw new SpecError(`combine: ${coefs.length} coefficients for ${vectors.length} vectors`);
      checkLength(n, dst, 'combine');
      vectors.forEach((v, j) => {
        checkLength(n, v, 'combine');
        if (v === dst) throw new SpecError(`combine: the destination is also vector ${j} of the combination`);
      });
      dst.fill(0);
      for (let j = 0; j < vectors.length; j++) {
        const c = coefs[j]!;
        const v = vectors[j]!;
        for (let i = 0; i < n; i++) dst[i] += c * v[i];
      }
    },
    async dot(x, y) {
      return dot(x, y);
    },
    async dots(pairs) {
      return Float64Array.from(pairs, ([x, y]) => dot(x, y));
    },
    async flush() {},
    async read(v) {
      checkLength(n, v, 'read');
      return v.slice();
    },
    write(v, values) {
      checkLength(n, v, 'write');
      checkLength(n, values, 'write');
      v.set(values);
    },
  };
}

/**
 * The cost-and-gradient callback of {@link cpuObjective}: J and ∇J at `theta`
 * over the examples `order[batch.start … batch.start + batch.count)`, or over
 * all examples (in their stored order) when `batch` is null.
 */
export type CpuCostFunction = (
  theta: Float64Array,
  batch: BatchRange | null,
  order: Uint32Array,
) => { cost: number; grad: ArrayLike<number> } | Promise<{ cost: number; grad: ArrayLike<number> }>;

/** A CPU objective; `order` is the current example order (identity until the first shuffle). */
export interface CpuObjective extends Objective<Float64Array> {
  readonly order: Uint32Array;
}

/**
 * An Objective on the CPU from a cost-and-gradient callback. θ starts as a
 * copy of `theta0`. `shuffle(seed)` sets the example order to a fresh seeded
 * permutation of 0 … examples−1 (the same seed always gives the same order,
 * whatever came before).
 */
export function cpuObjective(f: CpuCostFunction, theta0: ArrayLike<number>, examples: number): CpuObjective {
  if (!Number.isInteger(examples) || examples < 1) throw new SpecError(`examples must be a positive integer, got ${examples}`);
  const n = theta0.length;
  const ops = cpuVectorOps(n);
  const theta = Float64Array.from(theta0);
  const grad = new Float64Array(n);
  let order = new Uint32Array(examples);
  for (let i = 0; i < examples; i++) order[i] = i;
  const self: CpuObjective = {
    ops,
    theta,
    grad,
    examples,
    get order() {
      return order;
    },
    async evaluate(opts = {}) {
      const batch = opts.batch ?? null;
      if (batch) {
        const { start, count } = batch;
        if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > examples) {
          throw new SpecError(`batch [${start}, ${start + count}) lies outside the ${examples} examples`);
        }
      }
      const r = await f(theta, batch, order);
      checkLength(n, r.grad, 'gradient');
      grad.set(r.grad);
      return (opts.cost ?? true) ? r.cost : null;
    },
    async evaluateDots(pairs, opts = {}) {
      const cost = await self.evaluate({ cost: opts.cost ?? true });
      opts.after?.();
      return { cost, dots: await ops.dots(pairs) };
    },
    shuffle(seed: number) {
      const p = new Uint32Array(examples);
      for (let i = 0; i < examples; i++) p[i] = i;
      new Rng(seed).shuffle(p);
      order = p;
    },
  };
  return self;
}
