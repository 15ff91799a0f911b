// A small dense matrix product for the data transforms (covariance, whitening).
// Browser-safe. Not the training engine's GEMM: this runs once per data set.

type Arr = Float64Array | Float32Array;

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

/** Bᵀ of a row-major m × n matrix (n × m). */
export function transpose(A: Arr, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
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
