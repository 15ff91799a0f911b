import { describe, expect, it } from 'vitest';
import {
  applyWhitening, componentsForVariance, covariance, fitPCA, pcaRecover, pcaReduce, pcaWhiten,
  whiteningFromJSON, whiteningToJSON, zcaWhiten,
} from '../src/data/whitening.js';
import { symmetricEigen } from '../src/linalg.js';
import { Rng } from '../src/prng.js';
import type { Matrix } from '../src/matrix.js';

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** U·diag(S)·Uᵀ for row-major n × n U. */
function recompose(U: Float64Array, S: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += U[a * n + j]! * S[j]! * U[b * n + j]!;
    out[a * n + b] = s;
  }
  return out;
}

function orthoError(U: Float64Array, n: number): number {
  let e = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let a = 0; a < n; a++) s += U[a * n + i]! * U[a * n + j]!;
    e = Math.max(e, Math.abs(s - (i === j ? 1 : 0)));
  }
  return e;
}

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  return A;
}

/** m samples of x = A·g (g standard normal), n features, strongly correlated through A. */
function correlated(m: number, n: number, seed: number, mix?: Float64Array): { X: Matrix; mix: Float64Array } {
  const rng = new Rng(seed);
  const A = mix ?? Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0) + 0.6 * rng.normal());
  const X = new Float64Array(m * n);
  const g = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) g[j] = rng.normal();
    for (let a = 0; a < n; a++) {
      let s = 3 + a; // nonzero means, so centering matters
      for (let j = 0; j < n; j++) s += A[a * n + j]! * g[j]!;
      X[i * n + a] = s;
    }
  }
  return { X: { rows: m, cols: n, data: X }, mix: A };
}

describe('symmetricEigen (Householder + implicit QL)', () => {
  it('solves a 2 × 2 case by hand', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 14);
    expect(vectors[0]! * vectors[2]!).toBeCloseTo(0.5, 14); // (1, 1)/√2 for 3
  });

  it('reconstructs random symmetric matrices, with orthonormal eigenvectors and sorted eigenvalues', () => {
    const rng = new Rng(7);
    for (const n of [1, 3, 10, 60, 150]) {
      const A = randomSymmetric(n, rng);
      const { values, vectors } = symmetricEigen(A, n);
      for (let j = 1; j < n; j++) expect(values[j]!).toBeLessThanOrEqual(values[j - 1]!);
      const R = recompose(vectors, values, n);
      // Backward-stable algorithm: error ≈ n · machine ε · ‖A‖.
      const tol = 50 * n * 2 ** -52 * maxAbs(values);
      expect(maxAbs(R.map((v, i) => v - A[i]!))).toBeLessThan(tol);
      expect(orthoError(vectors, n)).toBeLessThan(50 * n * 2 ** -52);
    }
  });

  it('handles repeated and zero eigenvalues', () => {
    const n = 6;
    const I = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 2 : 0));
    const r = symmetricEigen(I, n);
    expect(Array.from(r.values)).toEqual(new Array(n).fill(2));
    expect(orthoError(r.vectors, n)).toBeLessThan(1e-14);
    const Z = symmetricEigen(new Float64Array(n * n), n);
    expect(maxAbs(Z.values)).toBe(0);
    expect(orthoError(Z.vectors, n)).toBeLessThan(1e-14);
    // Rank one: v vᵀ.
    const v = [1, 2, 3, 4, 5, 6];
    const R1 = Float64Array.from({ length: n * n }, (_, k) => v[Math.floor(k / n)]! * v[k % n]!);
    const e = symmetricEigen(R1, n);
    expect(e.values[0]).toBeCloseTo(91, 12);
    expect(maxAbs(e.values.subarray(1))).toBeLessThan(1e-12);
  });

  it('rejects non-symmetric or non-finite input', () => {
    expect(() => symmetricEigen([1, 2, 3, 4], 2)).toThrow(/not symmetric at \(0, 1\): 2 vs 3/);
    expect(() => symmetricEigen([1, NaN, NaN, 4], 2)).toThrow(/entry \(0, 1\) is NaN/);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/needs 4 values, got 3/);
  });
});

describe('PCA', () => {
  const { X } = correlated(2000, 16, 1);
  const fit = fitPCA(X, { epsilon: 0 });

  it('eigen-decomposes the covariance: U·diag(S)·Uᵀ = Σ', () => {
    const C = covariance(X);
    expect(maxAbs(recompose(fit.U, fit.S, 16).map((v, i) => v - C[i]!))).toBeLessThan(1e-12 * maxAbs(C));
    expect(orthoError(fit.U, 16)).toBeLessThan(1e-13);
    // The covariance itself, against a direct two-pass sum.
    let c01 = 0;
    for (let i = 0; i < X.rows; i++) c01 += (X.data[i * 16]! - fit.mean[0]!) * (X.data[i * 16 + 1]! - fit.mean[1]!);
    expect(C[1]).toBeCloseTo(c01 / X.rows, 12);
    expect(fit.mean[5]).toBeCloseTo(8, 0);
  });

  it('reduces and recovers: all components give x back; variance retained chooses k', () => {
    const z = pcaReduce(X, fit);
    const back = pcaRecover(z, fit);
    expect(maxAbs(back.data.map((v, i) => v - X.data[i]!))).toBeLessThan(1e-11);
    const k = componentsForVariance(fit, 0.99);
    expect(k).toBeGreaterThan(1);
    expect(k).toBeLessThanOrEqual(16);
    const total = fit.S.reduce((a, b) => a + b, 0);
    expect(fit.S.subarray(0, k).reduce((a, b) => a + b, 0) / total).toBeGreaterThanOrEqual(0.99 - 1e-12);
    expect(fit.S.subarray(0, k - 1).reduce((a, b) => a + b, 0) / total).toBeLessThan(0.99);
    expect(pcaReduce(X, fit, 3).cols).toBe(3);
  });

  it('PCA-whitened data has covariance diag(S / (S + ε))', () => {
    const eps = 0.5;
    const f = { ...fit, epsilon: eps };
    const W = pcaWhiten(X, f, 10);
    expect(W.cols).toBe(10);
    const C = covariance(W);
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) {
      const want = i === j ? fit.S[i]! / (fit.S[i]! + eps) : 0;
      expect(Math.abs(C[i * 10 + j]! - want)).toBeLessThan(1e-12);
    }
  });
});

describe('ZCA whitening', () => {
  const { X, mix } = correlated(2000, 16, 2);

  it('gives covariance ≈ identity on the fitted data', () => {
    // Whitening with the sample covariance of the same data is exact up to ε:
    // cov(x_ZCA) = U·diag(S / (S + ε))·Uᵀ, so |cov − I| ≤ ε / (S_min + ε) plus round-off.
    const eps = 1e-8;
    const fit = fitPCA(X, { epsilon: eps });
    const Z = zcaWhiten(X, fit);
    const C = covariance(Z);
    const bound = eps / (fit.S[15]! + eps) + 1e-10;
    expect(bound).toBeLessThan(1e-6);
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) expect(Math.abs(C[i * 16 + j]! - (i === j ? 1 : 0))).toBeLessThan(bound);
    // The whitened data has zero mean; ZCA is the symmetric whitening, the one closest to x.
    let mean0 = 0;
    for (let i = 0; i < Z.rows; i++) mean0 += Z.data[i * 16]!;
    expect(Math.abs(mean0 / Z.rows)).toBeLessThan(1e-12);
  });

  it('gives covariance ≈ identity on fresh data from the same distribution, within sampling error', () => {
    // Off-diagonal sample covariances of m = 2000 whitened samples have a standard
    // error ≈ 1/√m ≈ 0.022, and both fit and test sets carry such error: 0.2 is > 6σ.
    const fit = fitPCA(X, { epsilon: 1e-8 });
    const { X: fresh } = correlated(2000, 16, 3, mix);
    const C = covariance(zcaWhiten(fresh, fit));
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) expect(Math.abs(C[i * 16 + j]! - (i === j ? 1 : 0))).toBeLessThan(0.2);
  });

  it('with large ε it damps the smallest components (cov = U diag(S/(S+ε)) Uᵀ exactly)', () => {
    const eps = 0.3;
    const fit = fitPCA(X, { epsilon: eps });
    const C = covariance(zcaWhiten(X, fit));
    const want = recompose(fit.U, fit.S.map((s) => s / (s + eps)), 16);
    expect(maxAbs(C.map((v, i) => v - want[i]!))).toBeLessThan(1e-12);
  });

  it('refuses to divide by zero when ε = 0 and the data are rank-deficient', () => {
    // Two identical features: one zero eigenvalue.
    const m = 50;
    const rng = new Rng(4);
    const d = new Float64Array(m * 2);
    for (let i = 0; i < m; i++) d[2 * i] = d[2 * i + 1] = rng.normal();
    const fit = fitPCA({ rows: m, cols: 2, data: d }, { epsilon: 0 });
    expect(() => zcaWhiten({ rows: m, cols: 2, data: d }, fit)).toThrow(/eigenvalue 1 is 0 and ε = 0/);
    expect(() => fitPCA({ rows: 1, cols: 2, data: Float64Array.from([1, NaN]) }, { epsilon: 0 })).toThrow(/value NaN at example 0, feature 1/);
    expect(() => fitPCA({ rows: 1, cols: 2, data: Float64Array.from([1, 2]) }, { epsilon: -1 })).toThrow(/epsilon must be a finite number ≥ 0, got -1/);
    expect(() => zcaWhiten({ rows: 1, cols: 3, data: new Float64Array(3) }, fit)).toThrow(/data has 3 features but the fit has 2/);
  });
});

describe('whitening JSON', () => {
  const { X } = correlated(300, 8, 5);
  const fit = fitPCA(X, { epsilon: 0.01 });

  it('round-trips exactly and applies the same transform', () => {
    const text = JSON.stringify(whiteningToJSON(fit));
    const w = whiteningFromJSON(JSON.parse(text));
    expect(w.kind).toBe('zca');
    expect(w.k).toBe(8);
    expect(Array.from(w.fit.U)).toEqual(Array.from(fit.U));
    expect(Array.from(w.fit.mean)).toEqual(Array.from(fit.mean));
    expect(Array.from(w.fit.S)).toEqual(Array.from(fit.S));
    expect(w.fit.epsilon).toBe(0.01);
    expect(Array.from(applyWhitening(X, w).data)).toEqual(Array.from(zcaWhiten(X, fit).data));
    const p = whiteningFromJSON(text.replace('"kind":"zca","k":8', '"kind":"pca","k":3'));
    expect(applyWhitening(X, p).cols).toBe(3);
    const odd = whiteningFromJSON(JSON.stringify(whiteningToJSON({ ...fit, n: 1, mean: Float64Array.of(Math.PI), U: Float64Array.of(-0), S: Float64Array.of(1e-300) })));
    expect(odd.fit.mean[0]).toBe(Math.PI);
    expect(Object.is(odd.fit.U[0], -0)).toBe(true);
    expect(odd.fit.S[0]).toBe(1e-300);
  });

  it('names the bad field', () => {
    const good = whiteningToJSON(fit, { kind: 'pca', k: 4 });
    expect(() => whiteningFromJSON({ ...good, format: 'x' })).toThrow(/whitening JSON: format is "x"/);
    expect(() => whiteningFromJSON({ ...good, version: 2 })).toThrow(/version 2 is not supported/);
    expect(() => whiteningFromJSON({ ...good, kind: 'pcaa' })).toThrow(/kind must be "zca" or "pca", got "pcaa"/);
    expect(() => whiteningFromJSON({ ...good, S: good.S.slice(0, 8) })).toThrow(/S holds 6 values, expected 8 for n = 8|S: /);
    expect(() => whiteningFromJSON({ ...good, U: '@AAAAAAAAAA=' })).toThrow(/U: invalid base64 character "@"/);
    expect(() => whiteningFromJSON({ ...good, k: 9 })).toThrow(/k = 9 is not valid for kind pca and n = 8/);
    expect(() => whiteningFromJSON(null)).toThrow(/expected an object/);
  });
});
