// Test problems with known optima for the optimizer tests, and a wrapper that
// counts the readbacks an optimizer asks for.

import { Rng } from '../src/prng.js';
import { cpuObjective, type CpuObjective } from '../src/optim/cpu-vectors.js';
import type { BatchRange, Objective, VectorOps } from '../src/optim/types.js';

/** Solves A x = b (A n × n row-major) by Gaussian elimination with partial pivoting. */
export function solve(A: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) [M[c * n + k], M[p * n + k]] = [M[p * n + k], M[c * n + k]];
      [x[c], x[p]] = [x[p], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      for (let k = c; k < n; k++) M[r * n + k] -= f * M[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= M[r * n + k] * x[k];
    x[r] = s / M[r * n + r];
  }
  return x;
}

/** A = Q diag(λ) Qᵀ with Q a random orthogonal matrix and λ spread evenly over [lmin, lmax]. */
export function randomSpd(n: number, rng: Rng, lmin: number, lmax: number): Float64Array {
  const Q: Float64Array[] = [];
  while (Q.length < n) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const q of Q) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i] * q[i];
      for (let i = 0; i < n; i++) v[i] -= d * q[i];
    }
    const norm = Math.hypot(...v);
    if (norm < 1e-8) continue;
    for (let i = 0; i < n; i++) v[i] /= norm;
    Q.push(v);
  }
  const A = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const lambda = n === 1 ? lmin : lmin + ((lmax - lmin) * k) / (n - 1);
    const q = Q[k]!;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += lambda * q[i] * q[j];
  }
  return A;
}

export interface Quadratic {
  A: Float64Array;
  b: Float64Array;
  solution: Float64Array;
  /** f(x) = ½xᵀAx − bᵀx over one "example". */
  objective(x0?: ArrayLike<number>): CpuObjective;
}

export function quadratic(n: number, seed: number, lmin = 1, lmax = 10): Quadratic {
  const rng = new Rng(seed);
  const A = randomSpd(n, rng, lmin, lmax);
  const b = Float64Array.from({ length: n }, () => rng.normal());
  const solution = solve(A, b);
  return {
    A,
    b,
    solution,
    objective: (x0 = new Float64Array(n)) =>
      cpuObjective(
        (x) => {
          const g = new Float64Array(n);
          let f = 0;
          for (let i = 0; i < n; i++) {
            let s = 0;
            for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
            g[i] = s - b[i];
            f += 0.5 * x[i] * s - b[i] * x[i];
          }
          return { cost: f, grad: g };
        },
        x0,
        1,
      ),
  };
}

/** The examples of a batch: order[start … start+count), or all examples in stored order. */
export function batchIndices(batch: BatchRange | null, order: Uint32Array, m: number): number[] {
  if (!batch) return Array.from({ length: m }, (_, i) => i);
  return Array.from(order.subarray(batch.start, batch.start + batch.count));
}

export interface Dataset {
  /** m × n row-major features. */
  X: Float64Array;
  y: Float64Array;
  m: number;
  n: number;
}

/** J(w) = (1/2|B|) Σ_{i∈B} (x_iᵀw − y_i)² over a batch B. `seen` records every example evaluated, in order. */
export function leastSquares(data: Dataset, w0?: ArrayLike<number>, seen?: number[]): CpuObjective {
  const { X, y, m, n } = data;
  return cpuObjective(
    (w, batch, order) => {
      const idx = batchIndices(batch, order, m);
      seen?.push(...idx);
      const g = new Float64Array(n);
      let f = 0;
      for (const i of idx) {
        let r = -y[i];
        for (let j = 0; j < n; j++) r += X[i * n + j] * w[j];
        f += 0.5 * r * r;
        for (let j = 0; j < n; j++) g[j] += r * X[i * n + j];
      }
      for (let j = 0; j < n; j++) g[j] /= idx.length;
      return { cost: f / idx.length, grad: g };
    },
    w0 ?? new Float64Array(n),
    m,
  );
}

export function linearData(m: number, n: number, seed: number, noise = 0.1): Dataset {
  const rng = new Rng(seed);
  const wTrue = Float64Array.from({ length: n }, () => rng.normal());
  const X = Float64Array.from({ length: m * n }, () => rng.normal());
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += X[i * n + j] * wTrue[j];
    y[i] = s + noise * rng.normal();
  }
  return { X, y, m, n };
}

/** Labels ±1 from a noisy linear rule; the last feature is a constant 1 (bias). */
export function logisticData(m: number, n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const wTrue = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const X = new Float64Array(m * n);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      X[i * n + j] = j === n - 1 ? 1 : rng.normal();
      s += X[i * n + j] * wTrue[j];
    }
    y[i] = s + 0.5 * rng.normal() > 0 ? 1 : -1;
  }
  return { X, y, m, n };
}

function log1pexp(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** J(w) = (1/|B|) Σ_{i∈B} log(1 + exp(−y_i x_iᵀw)) + (λ/2)‖w‖². */
export function logistic(data: Dataset, lambda: number, w0?: ArrayLike<number>): CpuObjective {
  const { X, y, m, n } = data;
  return cpuObjective(
    (w, batch, order) => {
      const idx = batchIndices(batch, order, m);
      const g = new Float64Array(n);
      let f = 0;
      for (const i of idx) {
        let z = 0;
        for (let j = 0; j < n; j++) z += X[i * n + j] * w[j];
        const yz = y[i] * z;
        f += log1pexp(-yz);
        const c = -y[i] / (1 + Math.exp(yz));
        for (let j = 0; j < n; j++) g[j] += c * X[i * n + j];
      }
      let reg = 0;
      for (let j = 0; j < n; j++) {
        g[j] = g[j] / idx.length + lambda * w[j];
        reg += w[j] * w[j];
      }
      return { cost: f / idx.length + 0.5 * lambda * reg, grad: g };
    },
    w0 ?? new Float64Array(n),
    m,
  );
}

/** The logistic-regression optimum by Newton's method (exact Hessian). */
export function logisticNewton(data: Dataset, lambda: number): Float64Array {
  const { X, y, m, n } = data;
  const w = new Float64Array(n);
  for (let it = 0; it < 50; it++) {
    const g = new Float64Array(n);
    const H = new Float64Array(n * n);
    for (let i = 0; i < m; i++) {
      let z = 0;
      for (let j = 0; j < n; j++) z += X[i * n + j] * w[j];
      const p = 1 / (1 + Math.exp(-y[i] * z)); // σ(y z)
      const c = -y[i] * (1 - p);
      const h = p * (1 - p);
      for (let j = 0; j < n; j++) {
        g[j] += (c * X[i * n + j]) / m;
        for (let k = 0; k < n; k++) H[j * n + k] += (h * X[i * n + j] * X[i * n + k]) / m;
      }
    }
    for (let j = 0; j < n; j++) {
      g[j] += lambda * w[j];
      H[j * n + j] += lambda;
    }
    const step = solve(H, g);
    let size = 0;
    for (let j = 0; j < n; j++) {
      w[j] -= step[j];
      size = Math.max(size, Math.abs(step[j]));
    }
    if (size < 1e-15) break;
  }
  return w;
}

/** Chained Rosenbrock: Σᵢ 100(x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at (1, …, 1). */
export function rosenbrock(x0: ArrayLike<number>): CpuObjective {
  const n = x0.length;
  return cpuObjective(
    (x) => {
      const g = new Float64Array(n);
      let f = 0;
      for (let i = 0; i < n - 1; i++) {
        const a = x[i + 1] - x[i] * x[i];
        const b = 1 - x[i];
        f += 100 * a * a + b * b;
        g[i] += -400 * a * x[i] - 2 * b;
        g[i + 1] += 200 * a;
      }
      return { cost: f, grad: g };
    },
    x0,
    1,
  );
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

export interface Counts {
  /** Inner products computed (single or batched). */
  dots: number;
  reads: number;
  evaluations: number;
  costRequests: number;
}

/** Round trips a GPU would make: each dot call, dots batch, read, and evaluation that returns a cost or dots. */
export interface Trips {
  readbacks: number;
}

/** The objective with VectorOps and evaluate wrapped to count dot calls, reads and cost requests. */
export function counting<V>(inner: Objective<V>): { objective: Objective<V>; counts: Counts; trips: Trips } {
  const counts: Counts = { dots: 0, reads: 0, evaluations: 0, costRequests: 0 };
  const trips: Trips = { readbacks: 0 };
  const o = inner.ops;
  const ops: VectorOps<V> = {
    n: o.n,
    alloc: () => o.alloc(),
    free: (v) => o.free(v),
    copy: (s, d) => o.copy(s, d),
    axpy: (a, x, y) => o.axpy(a, x, y),
    axpby: (a, x, b, y) => o.axpby(a, x, b, y),
    scale: (a, y) => o.scale(a, y),
    fill: (a, y) => o.fill(a, y),
    adam: (t, g, m, v, p) => o.adam(t, g, m, v, p),
    combine: (c, v, d) => o.combine(c, v, d),
    dot: (x, y) => {
      counts.dots++;
      trips.readbacks++;
      return o.dot(x, y);
    },
    dots: (pairs) => {
      counts.dots += pairs.length;
      trips.readbacks++;
      return o.dots(pairs);
    },
    flush: () => o.flush(),
    read: (v) => {
      counts.reads++;
      trips.readbacks++;
      return o.read(v);
    },
    write: (v, a) => o.write(v, a),
  };
  const objective: Objective<V> = {
    ops,
    theta: inner.theta,
    grad: inner.grad,
    examples: inner.examples,
    evaluate: (opts) => {
      counts.evaluations++;
      if (opts?.cost ?? true) {
        counts.costRequests++;
        trips.readbacks++;
      }
      return inner.evaluate(opts);
    },
    evaluateDots: async (pairs, opts) => {
      counts.evaluations++;
      counts.dots += pairs.length;
      if (opts?.cost ?? true) counts.costRequests++;
      if ((opts?.cost ?? true) || pairs.length) trips.readbacks++;
      const cost = await inner.evaluate({ cost: opts?.cost ?? true });
      opts?.after?.();
      return { cost, dots: await o.dots(pairs) };
    },
    shuffle: (seed) => inner.shuffle(seed),
  };
  return { objective, counts, trips };
}
