// Dense float64 linear algebra on the CPU: column means, transpose, a blocked
// A·Bᵀ product (covariance, whitening) and a symmetric eigensolver (PCA/ZCA).
// Browser-safe. Not the training engine's GEMM: these run once per data set.

import { SpecError } from './spec.js';

type Arr = Float64Array | Float32Array;

/** Column means μⱼ = (1/m) Σᵢ a[i·n + j] of an m × n row-major matrix (ρ̂ of a layer, a data set's mean); zeros when m = 0. */
export function columnMeans(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const mean = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) mean[j] = mean[j]! + a[i * n + j]!;
  if (m > 0) for (let j = 0; j < n; j++) mean[j] = mean[j]! / m;
  return mean;
}

/**
 * C (m × n, row-major, accumulated into when `accumulate`) = A · Btᵀ where A is
 * m × k and Bt is n × k, both row-major: C[i][j] = Σ_l A[i][l] · Bt[j][l].
 * With `upper`, only blocks touching j ≥ i are computed (for symmetric results;
 * the caller mirrors them). Blocked over l so that a slab of Bt stays in cache,
 * with a 4 × 2 register tile of dot products.
 */
export function gemmABt(A: Arr, m: number, k: number, Bt: Arr, n: number, C?: Float64Array, opts: { accumulate?: boolean; upper?: boolean } = {}): Float64Array {
  const out = C ?? new Float64Array(m * n);
  if (!opts.accumulate && C) out.fill(0);
  const KB = 256;
  const upper = opts.upper === true;
  for (let l0 = 0; l0 < k; l0 += KB) {
    const l1 = Math.min(k, l0 + KB);
    for (let i = 0; i < m; i += 4) {
      const rows = Math.min(4, m - i);
      const a0 = i * k;
      const a1 = rows > 1 ? a0 + k : a0;
      const a2 = rows > 2 ? a0 + 2 * k : a0;
      const a3 = rows > 3 ? a0 + 3 * k : a0;
      const jStart = upper ? i - (i % 2) : 0;
      for (let j = jStart; j < n; j += 2) {
        const two = j + 1 < n;
        const b0 = j * k;
        const b1 = two ? b0 + k : b0;
        let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
        for (let l = l0; l < l1; l++) {
          const x0 = Bt[b0 + l]!;
          const x1 = Bt[b1 + l]!;
          const y0 = A[a0 + l]!;
          const y1 = A[a1 + l]!;
          const y2 = A[a2 + l]!;
          const y3 = A[a3 + l]!;
          s00 += y0 * x0; s01 += y0 * x1;
          s10 += y1 * x0; s11 += y1 * x1;
          s20 += y2 * x0; s21 += y2 * x1;
          s30 += y3 * x0; s31 += y3 * x1;
        }
        const c0 = i * n + j;
        out[c0] = out[c0]! + s00;
        if (two) out[c0 + 1] = out[c0 + 1]! + s01;
        if (rows > 1) {
          out[c0 + n] = out[c0 + n]! + s10;
          if (two) out[c0 + n + 1] = out[c0 + n + 1]! + s11;
        }
        if (rows > 2) {
          out[c0 + 2 * n] = out[c0 + 2 * n]! + s20;
          if (two) out[c0 + 2 * n + 1] = out[c0 + 2 * n + 1]! + s21;
        }
        if (rows > 3) {
          out[c0 + 3 * n] = out[c0 + 3 * n]! + s30;
          if (two) out[c0 + 3 * n + 1] = out[c0 + 3 * n + 1]! + s31;
        }
      }
    }
  }
  return out;
}

/** Aᵀ of a row-major m × n matrix (n × m), of the same element type. */
export function transpose<T extends Arr>(A: T, m: number, n: number): T {
  const out = (A instanceof Float32Array ? new Float32Array(m * n) : new Float64Array(m * n)) as T;
  const TB = 32;
  for (let i0 = 0; i0 < m; i0 += TB) {
    for (let j0 = 0; j0 < n; j0 += TB) {
      const i1 = Math.min(m, i0 + TB);
      const j1 = Math.min(n, j0 + TB);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * m + i] = A[i * n + j]!;
    }
  }
  return out;
}

export interface EigenResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** n × n row-major; column j (U[i·n + j], i = 0 … n−1) is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix A (row-major; only symmetry is
 * assumed, not checked beyond a quick test). A = U·diag(values)·Uᵀ.
 */
export function symmetricEigen(A: Float64Array | Float32Array | number[], n: number): EigenResult {
  if (A.length !== n * n) throw new SpecError(`symmetricEigen: a ${n} × ${n} matrix needs ${n * n} values, got ${A.length}`);
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  let scaleA = 0;
  for (let i = 0; i < A.length; i++) {
    const v = A[i]!;
    if (!Number.isFinite(v)) throw new SpecError(`symmetricEigen: entry (${Math.floor(i / n)}, ${i % n}) is ${v}`);
    scaleA = Math.max(scaleA, Math.abs(v));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(A[i * n + j]! - A[j * n + i]!) > 1e-10 * scaleA) {
        throw new SpecError(`symmetricEigen: the matrix is not symmetric at (${i}, ${j}): ${A[i * n + j]} vs ${A[j * n + i]}`);
      }
    }
  }
  // T holds Vᵀ of the JAMA algorithm (T[b][a] = V[a][b]); A is symmetric, so it starts as A.
  const T: Float64Array[] = [];
  for (let i = 0; i < n; i++) T.push(Float64Array.from({ length: n }, (_, j) => A[i * n + j]!));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(T, d, e, n);
  tql2(T, d, e, n);
  // Sort descending; eigenvector j is row j of T.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b]! - d[a]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, j) => {
    values[j] = d[src]!;
    const v = T[src]!;
    for (let i = 0; i < n; i++) vectors[i * n + j] = v[i]!;
  });
  return { values, vectors };
}

// Householder reduction to tridiagonal form (JAMA tred2 with V[a][b] → T[b][a]).
function tred2(T: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = T[j]![n - 1]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = T[j]![i - 1]!;
        T[j]![i] = 0;
        T[i]![j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        const Tj = T[j]!;
        f = d[j]!;
        T[i]![j] = f;
        g = e[j]! + Tj[j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += Tj[k]! * d[k]!;
          e[k] = e[k]! + Tj[k]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        const Tj = T[j]!;
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) Tj[k] = Tj[k]! - (f * e[k]! + g * d[k]!);
        d[j] = Tj[i - 1]!;
        Tj[i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate transformations.
  for (let i = 0; i < n - 1; i++) {
    const Ti = T[i]!;
    Ti[n - 1] = Ti[i]!;
    Ti[i] = 1;
    const h = d[i + 1]!;
    const Tn = T[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = Tn[k]! / h;
      for (let j = 0; j <= i; j++) {
        const Tj = T[j]!;
        let g = 0;
        for (let k = 0; k <= i; k++) g += Tn[k]! * Tj[k]!;
        for (let k = 0; k <= i; k++) Tj[k] = Tj[k]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) Tn[k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = T[j]![n - 1]!;
    T[j]![n - 1] = 0;
  }
  T[n - 1]![n - 1] = 1;
  e[0] = 0;
}

// Implicit QL iterations on the tridiagonal matrix (JAMA tql2 with V[a][b] → T[b][a]).
function tql2(T: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error(`symmetricEigen: QL iteration did not converge for eigenvalue ${l} of ${n}`);
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const a = T[i]!;
          const b = T[i + 1]!;
          for (let k = 0; k < n; k++) {
            const hk = b[k]!;
            b[k] = s * a[k]! + c * hk;
            a[k] = c * a[k]! - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}
