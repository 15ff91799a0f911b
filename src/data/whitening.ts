// PCA, PCA whitening and ZCA whitening in float64. Browser-safe.
//
// For data X (m examples × n features, one per row) with feature means μ:
//   Σ = (1/m) Σᵢ (x⁽ⁱ⁾ − μ)(x⁽ⁱ⁾ − μ)ᵀ = U·diag(S)·Uᵀ   (S descending, U orthogonal)
//   x_rot     = Uᵀ(x − μ)
//   x_PCAwhite,j = x_rot,j / √(S_j + ε)                  (j < k)
//   x_ZCA     = U·diag(1/√(S + ε))·Uᵀ·(x − μ)
// as in the UFLDL PCA/whitening notes. ε > 0 regularizes small eigenvalues (and
// low-pass filters images); with ε → 0 the whitened covariance tends to the identity.
//
// The symmetric eigen-decomposition is Householder tridiagonalization followed by
// the implicit QL algorithm (tred2/tql2 of EISPACK, as in JAMA), O(n³): about a
// second for n = 784. The matrices are stored transposed internally so that every
// inner loop walks contiguous memory.

import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';
import { base64ToFloat64, float64ToBase64 } from '../io/base64.js';
import { columnMeans, gemmABt, symmetricEigen, transpose } from '../linalg.js';

/** Σ = (1/m) Σᵢ (x⁽ⁱ⁾ − μ)(x⁽ⁱ⁾ − μ)ᵀ, n × n row-major. */
export function covariance(m: Matrix, mean: Float64Array = columnMeans(m.data, m.rows, m.cols)): Float64Array {
  const { rows, cols: n, data } = m;
  const C = new Float64Array(n * n);
  // Σ = Xcᵀ·Xc / m, accumulated over chunks of examples so each chunk of Xcᵀ stays in cache.
  const CH = 512;
  for (let r0 = 0; r0 < rows; r0 += CH) {
    const r1 = Math.min(rows, r0 + CH);
    const h = r1 - r0;
    const Xc = new Float64Array(h * n);
    for (let i = 0; i < h; i++) for (let j = 0; j < n; j++) Xc[i * n + j] = data[(r0 + i) * n + j]! - mean[j]!;
    const XcT = transpose(Xc, h, n);
    gemmABt(XcT, n, h, XcT, n, C, { accumulate: true, upper: true });
  }
  const inv = 1 / Math.max(rows, 1);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const v = C[a * n + b]! * inv;
      C[a * n + b] = v;
      C[b * n + a] = v;
    }
  }
  return C;
}

/** X − μ (each row minus the feature means), float64. */
function centered(m: Matrix, mean: Float64Array): Float64Array {
  const n = m.cols;
  const out = new Float64Array(m.rows * n);
  for (let i = 0; i < m.rows; i++) for (let a = 0; a < n; a++) out[i * n + a] = m.data[i * n + a]! - mean[a]!;
  return out;
}

export interface PCAFit {
  /** Number of features. */
  n: number;
  /** Feature means μ (zeros when fitted with center: false). */
  mean: Float64Array;
  /** n × n row-major, column j = j-th principal direction (unit eigenvector of Σ). */
  U: Float64Array;
  /** Eigenvalues of Σ (variances along the columns of U), descending; values within round-off of 0 are set to 0. */
  S: Float64Array;
  /** Whitening regularizer ε added to S before the square root. */
  epsilon: number;
}

export interface PCAOptions {
  /** ε ≥ 0 of the whitening transforms (UFLDL uses 0.1 for 12×12 patches of [0, 1] images, 1e-5 … 1e-2 elsewhere). */
  epsilon: number;
  /** Subtract the feature means before computing Σ. Default true. */
  center?: boolean;
}

/** Fits PCA to the rows of m: mean, eigenvectors U and eigenvalues S of the covariance. */
export function fitPCA(m: Matrix, opts: PCAOptions): PCAFit {
  const { epsilon } = opts;
  if (!(Number.isFinite(epsilon) && epsilon >= 0)) throw new SpecError(`fitPCA: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  if (m.rows < 1 || m.cols < 1) throw new SpecError(`fitPCA: needs at least one example and one feature, got ${m.rows} × ${m.cols}`);
  if (m.data.length !== m.rows * m.cols) throw new SpecError(`fitPCA: matrix says ${m.rows} × ${m.cols} but holds ${m.data.length} values`);
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) throw new SpecError(`fitPCA: value ${m.data[i]} at example ${Math.floor(i / m.cols)}, feature ${i % m.cols}`);
  }
  const mean = opts.center === false ? new Float64Array(m.cols) : columnMeans(m.data, m.rows, m.cols);
  const { values, vectors } = symmetricEigen(covariance(m, mean), m.cols);
  // Eigenvalues below the decomposition's round-off (≈ n·ε_mach·S_max) are zero up to
  // that error (a rank-deficient Σ); set them to exactly 0 so that whitening with ε = 0
  // fails clearly instead of multiplying noise by 1/√(1e-17).
  const floor = 16 * m.cols * 2 ** -52 * Math.max(values[0]!, 0);
  for (let j = 0; j < values.length; j++) if (values[j]! <= floor) values[j] = 0;
  return { n: m.cols, mean, U: vectors, S: values, epsilon };
}

/** The smallest k whose leading eigenvalues keep `fraction` of the variance (UFLDL: 0.99). */
export function componentsForVariance(fit: PCAFit, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new SpecError(`componentsForVariance: fraction must be in (0, 1], got ${fraction}`);
  let total = 0;
  for (const s of fit.S) total += s;
  if (total === 0) return 1;
  let acc = 0;
  for (let k = 0; k < fit.n; k++) {
    acc += fit.S[k]!;
    if (acc >= fraction * total * (1 - 1e-12)) return k + 1;
  }
  return fit.n;
}

function checkInput(m: Matrix, fit: PCAFit, what: string): void {
  if (m.cols !== fit.n) throw new SpecError(`${what}: data has ${m.cols} features but the fit has ${fit.n}`);
  if (m.data.length !== m.rows * m.cols) throw new SpecError(`${what}: matrix says ${m.rows} × ${m.cols} but holds ${m.data.length} values`);
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new SpecError(`${what}: k must be an integer in 1 … ${n}, got ${k}`);
}

function invSqrt(fit: PCAFit, k: number, what: string): Float64Array {
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const v = fit.S[j]! + fit.epsilon;
    if (!(v > 0)) {
      throw new SpecError(`${what}: eigenvalue ${j} is ${fit.S[j]} and ε = ${fit.epsilon}; whitening divides by √(S + ε) = 0 — use ε > 0 or fewer components`);
    }
    out[j] = 1 / Math.sqrt(v);
  }
  return out;
}

// z_i[j] = scale[j] · Σ_a (x_i[a] − μ[a]) U[a][j], j < k.
function project(m: Matrix, fit: PCAFit, k: number, scale: Float64Array | null): Matrix {
  const n = fit.n;
  const Ut = new Float64Array(k * n); // rows = eigenvectors, pre-scaled
  for (let a = 0; a < n; a++) for (let j = 0; j < k; j++) Ut[j * n + a] = fit.U[a * n + j]! * (scale ? scale[j]! : 1);
  const out = gemmABt(centered(m, fit.mean), m.rows, n, Ut, k);
  return { rows: m.rows, cols: k, data: out };
}

/** x_rot restricted to the first k components: m × k, z_j = u_jᵀ(x − μ). Default k = n. */
export function pcaReduce(m: Matrix, fit: PCAFit, k: number = fit.n): Matrix {
  checkInput(m, fit, 'pcaReduce');
  checkK(k, fit.n, 'pcaReduce');
  return project(m, fit, k, null);
}

/** Back from k components to the n features: x̂ = U_k z + μ. */
export function pcaRecover(z: Matrix, fit: PCAFit): Matrix {
  const k = z.cols;
  checkK(k, fit.n, 'pcaRecover');
  const n = fit.n;
  const Uk = new Float64Array(n * k);
  for (let a = 0; a < n; a++) for (let j = 0; j < k; j++) Uk[a * k + j] = fit.U[a * n + j]!;
  const zd = z.data instanceof Float64Array ? z.data : Float64Array.from(z.data);
  const out = gemmABt(zd, z.rows, k, Uk, n);
  for (let i = 0; i < z.rows; i++) for (let a = 0; a < n; a++) out[i * n + a] = out[i * n + a]! + fit.mean[a]!;
  return { rows: z.rows, cols: n, data: out };
}

/** PCA whitening: m × k, z_j = u_jᵀ(x − μ) / √(S_j + ε). Default k = n. */
export function pcaWhiten(m: Matrix, fit: PCAFit, k: number = fit.n): Matrix {
  checkInput(m, fit, 'pcaWhiten');
  checkK(k, fit.n, 'pcaWhiten');
  return project(m, fit, k, invSqrt(fit, k, 'pcaWhiten'));
}

const zcaCache = new WeakMap<PCAFit, Float64Array>();

/** The symmetric n × n ZCA matrix U·diag(1/√(S + ε))·Uᵀ (row-major), cached per fit. */
export function zcaMatrix(fit: PCAFit): Float64Array {
  const hit = zcaCache.get(fit);
  if (hit) return hit;
  const n = fit.n;
  const w = invSqrt(fit, n, 'zcaWhiten');
  const US = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let j = 0; j < n; j++) US[a * n + j] = fit.U[a * n + j]! * w[j]!;
  // W[a][b] = Σ_j U[a][j] w_j U[b][j]: rows of U are the "Bt" rows.
  const W = gemmABt(US, n, n, fit.U, n, undefined, { upper: true });
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) W[b * n + a] = W[a * n + b]!;
  zcaCache.set(fit, W);
  return W;
}

/** ZCA whitening: x_ZCA = U·diag(1/√(S + ε))·Uᵀ·(x − μ), m × n. */
export function zcaWhiten(m: Matrix, fit: PCAFit): Matrix {
  checkInput(m, fit, 'zcaWhiten');
  const n = fit.n;
  // y_i = W (x_i − μ); W is symmetric, so its rows serve as Bt.
  const out = gemmABt(centered(m, fit.mean), m.rows, n, zcaMatrix(fit), n);
  return { rows: m.rows, cols: n, data: out };
}

// ---------------------------------------------------------------------------
// Saving a whitening transform with a model.

export const WHITENING_FORMAT = 'webgpu-nn/whitening';

/** A whitening transform ready to apply: the PCA fit plus which transform and how many components. */
export interface Whitening {
  kind: 'zca' | 'pca';
  /** Output components (pca); n for zca. */
  k: number;
  fit: PCAFit;
}

/** JSON form. Arrays are float64 little-endian bytes in base64, so values round-trip exactly. */
export interface WhiteningJSON {
  format: typeof WHITENING_FORMAT;
  version: 1;
  kind: 'zca' | 'pca';
  k: number;
  n: number;
  epsilon: number;
  mean: string;
  U: string;
  S: string;
}

export function whiteningToJSON(fit: PCAFit, opts: { kind?: 'zca' | 'pca'; k?: number } = {}): WhiteningJSON {
  const kind = opts.kind ?? 'zca';
  const k = kind === 'zca' ? fit.n : opts.k ?? fit.n;
  checkK(k, fit.n, 'whiteningToJSON');
  return {
    format: WHITENING_FORMAT,
    version: 1,
    kind,
    k,
    n: fit.n,
    epsilon: fit.epsilon,
    mean: float64ToBase64(fit.mean),
    U: float64ToBase64(fit.U),
    S: float64ToBase64(fit.S),
  };
}

/** Parses and validates the JSON form (an object, or its JSON text). */
export function whiteningFromJSON(json: unknown): Whitening {
  const o = (typeof json === 'string' ? JSON.parse(json) : json) as Partial<WhiteningJSON> | null;
  const bad = (msg: string): never => {
    throw new SpecError(`whitening JSON: ${msg}`);
  };
  if (!o || typeof o !== 'object') bad(`expected an object, got ${JSON.stringify(json)?.slice(0, 40)}`);
  if (o!.format !== WHITENING_FORMAT) bad(`format is ${JSON.stringify(o!.format)}, expected "${WHITENING_FORMAT}"`);
  if (o!.version !== 1) bad(`version ${JSON.stringify(o!.version)} is not supported (expected 1)`);
  if (o!.kind !== 'zca' && o!.kind !== 'pca') bad(`kind must be "zca" or "pca", got ${JSON.stringify(o!.kind)}`);
  const n = o!.n!;
  if (!Number.isInteger(n) || n < 1) bad(`n must be a positive integer, got ${JSON.stringify(n)}`);
  const epsilon = o!.epsilon!;
  if (!(typeof epsilon === 'number' && Number.isFinite(epsilon) && epsilon >= 0)) bad(`epsilon must be a finite number ≥ 0, got ${JSON.stringify(epsilon)}`);
  const arr = (field: 'mean' | 'U' | 'S', len: number): Float64Array => {
    const s = o![field];
    if (typeof s !== 'string') bad(`${field} must be a base64 string`);
    let a: Float64Array;
    try {
      a = base64ToFloat64(s!, field);
    } catch (e) {
      return bad((e as Error).message);
    }
    if (a.length !== len) bad(`${field} holds ${a.length} values, expected ${len} for n = ${n}`);
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) bad(`${field}[${i}] is ${a[i]}`);
    return a;
  };
  const fit: PCAFit = { n, mean: arr('mean', n), U: arr('U', n * n), S: arr('S', n), epsilon };
  const k = o!.k!;
  if (!Number.isInteger(k) || k < 1 || k > n || (o!.kind === 'zca' && k !== n)) bad(`k = ${JSON.stringify(k)} is not valid for kind ${o!.kind} and n = ${n}`);
  return { kind: o!.kind!, k, fit };
}

/** Applies a saved transform: zcaWhiten, or pcaWhiten with its k. */
export function applyWhitening(m: Matrix, w: Whitening): Matrix {
  return w.kind === 'zca' ? zcaWhiten(m, w.fit) : pcaWhiten(m, w.fit, w.k);
}
