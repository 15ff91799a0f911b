// The autoencoder options (regularizers) in the float64 reference (seed 004): tied weights,
// denoising (a corrupted input, loss against the clean one), the contractive
// penalty and k-sparse hidden layers — gradient-checked against central differences.
import { describe, expect, it } from 'vitest';
import { cpuCost, cpuForward } from '../src/cpu/network.js';
import { gradientCheck } from '../src/gradcheck.js';
import { paramLayout } from '../src/params.js';
import { transpose } from '../src/linalg.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, SpecError, type Network, type NetworkSpec } from '../src/spec.js';
import { matrix, type Matrix } from '../src/matrix.js';

function setup(spec: NetworkSpec, m = 7, seed = 1): { net: Network; theta: Float64Array; X: Matrix } {
  const net = resolveSpec(spec);
  const rng = new Rng(seed);
  const theta = Float64Array.from({ length: paramLayout(net).size }, () => rng.range(-0.5, 0.5));
  const X = matrix(m, net.layers[0]!, Array.from({ length: m * net.layers[0]! }, () => rng.uniform()));
  return { net, theta, X };
}

function relDiff(net: Network, theta: Float64Array, X: Matrix, input?: Matrix): number {
  return gradientCheck((t) => {
    const r = cpuCost(net, t, X, undefined, { gradient: true, input });
    return { cost: r.cost, grad: r.grad! };
  }, theta, { epsilon: 1e-5, cost: (t) => cpuCost(net, t, X, undefined, { gradient: false, input }).cost }).relDiff;
}

const base = { activation: 'sigmoid', autoencoder: true, lambda: 1e-3 } as const;

describe('tied weights', () => {
  it('θ stores only the encoder matrices', () => {
    const net = resolveSpec({ ...base, layers: [9, 4, 9], tied: true });
    const layout = paramLayout(net);
    expect(layout.size).toBe(9 * 4 + 4 + 9);
    expect(layout.slots[1]).toMatchObject({ transposed: true, w: layout.slots[0]!.w, nOut: 9, nIn: 4 });
  });

  it('gradient check, one hidden layer and three (with KL sparsity)', () => {
    for (const layers of [[9, 4, 9], [9, 5, 3, 5, 9]]) {
      const { net, theta, X } = setup({ ...base, layers, tied: true, sparsity: { rho: 0.1, beta: 3 } });
      expect(relDiff(net, theta, X), `layers ${layers}`).toBeLessThan(1e-9);
    }
  });

  it('the tied gradient is the encoder gradient plus the decoder gradient transposed', () => {
    const tied = setup({ ...base, lambda: 0, layers: [9, 4, 9], tied: true });
    const untied = resolveSpec({ ...base, lambda: 0, layers: [9, 4, 9] });
    const lt = paramLayout(tied.net);
    const lu = paramLayout(untied);
    // θ of the untied net with W2 = W1ᵀ.
    const W1 = tied.theta.subarray(0, 36);
    const thetaU = new Float64Array(lu.size);
    thetaU.set(tied.theta.subarray(0, 40), 0); // W1, b1
    thetaU.set(transpose(W1, 4, 9), lu.slots[1]!.w);
    thetaU.set(tied.theta.subarray(lt.slots[1]!.b, lt.slots[1]!.b + 9), lu.slots[1]!.b);
    const gt = cpuCost(tied.net, tied.theta, tied.X, undefined, { gradient: true });
    const gu = cpuCost(untied, thetaU, tied.X, undefined, { gradient: true });
    expect(gt.cost).toBeCloseTo(gu.cost, 14);
    const gW2t = transpose(gu.grad!.subarray(lu.slots[1]!.w, lu.slots[1]!.w + 36), 9, 4);
    for (let i = 0; i < 36; i++) expect(gt.grad![i]).toBeCloseTo(gu.grad![i]! + gW2t[i]!, 14);
    for (let i = 0; i < 9; i++) expect(gt.grad![lt.slots[1]!.b + i]).toBeCloseTo(gu.grad![lu.slots[1]!.b + i]!, 14);
  });

  it('rejects networks that cannot be tied', () => {
    expect(() => resolveSpec({ ...base, layers: [9, 4, 8], tied: true } as NetworkSpec)).toThrow(SpecError);
    expect(() => resolveSpec({ ...base, layers: [9, 4, 4, 9], tied: true })).toThrow(/mirror-image layers/);
    expect(() => resolveSpec({ ...base, autoencoder: false, layers: [9, 4, 9], tied: true })).toThrow(/autoencoder/);
  });
});

describe('denoising: forward the corrupted input, compare with the clean one', () => {
  it('gradient check with a masked input; the clean input gives the plain cost', () => {
    const { net, theta, X } = setup({ ...base, layers: [10, 6, 10], corruption: { kind: 'mask', level: 0.3 } });
    const rng = new Rng(5);
    const noisy = matrix(X.rows, X.cols, Array.from(X.data, (v) => (rng.uniform() < 0.3 ? 0 : v)));
    expect(relDiff(net, theta, X, noisy)).toBeLessThan(1e-9);
    const clean = cpuCost(net, theta, X, undefined, { gradient: false });
    const corrupt = cpuCost(net, theta, X, undefined, { gradient: false, input: noisy });
    expect(corrupt.cost).not.toBeCloseTo(clean.cost, 6);
    expect(cpuCost(net, theta, X, undefined, { gradient: false, input: X }).cost).toBe(clean.cost);
  });

  it('validates the corruption', () => {
    expect(() => resolveSpec({ ...base, layers: [4, 2, 4], corruption: { kind: 'mask', level: 1.5 } })).toThrow(/fraction in \[0, 1\), got 1.5/);
    expect(() => resolveSpec({ ...base, layers: [4, 2, 4], corruption: { kind: 'blur' as 'mask', level: 0.1 } })).toThrow(/corruption kind "blur"/);
    expect(() => resolveSpec({ ...base, layers: [4, 2, 4], corruption: { kind: 'gaussian', level: -1 } })).toThrow(/σ ≥ 0, got -1/);
  });
});

describe('contractive penalty', () => {
  it('gradient check (with weight decay, and with tied weights)', () => {
    for (const tied of [false, true]) {
      const { net, theta, X } = setup({ ...base, layers: [8, 5, 8], contractive: { weight: 0.3 }, tied });
      expect(relDiff(net, theta, X), `tied ${tied}`).toBeLessThan(1e-9);
    }
  });

  it('equals λ_c times the mean squared Frobenius norm of the encoder Jacobian (by finite differences)', () => {
    const lc = 0.7;
    const { net, theta, X } = setup({ layers: [6, 4, 6], activation: 'sigmoid', autoencoder: true, contractive: { weight: lc } }, 3);
    const encode = (x: number[]): Float64Array => cpuForward(net, theta, matrix(1, 6, x)).A[0]!;
    let frob = 0;
    for (let i = 0; i < X.rows; i++) {
      const x = Array.from(X.data.subarray(i * 6, i * 6 + 6));
      for (let k = 0; k < 6; k++) {
        const h = 1e-6;
        const up = [...x];
        const dn = [...x];
        up[k]! += h;
        dn[k]! -= h;
        const a = encode(up);
        const b = encode(dn);
        for (let j = 0; j < 4; j++) frob += ((a[j]! - b[j]!) / (2 * h)) ** 2;
      }
    }
    const r = cpuCost(net, theta, X, undefined, { gradient: false });
    expect(r.parts.contractive).toBeCloseTo((lc * frob) / X.rows, 8);
  });

  it('needs a sigmoid first hidden layer', () => {
    expect(() => resolveSpec({ layers: [4, 2, 4], activation: 'relu', autoencoder: true, contractive: { weight: 1 } })).toThrow(/sigmoid first hidden layer, got relu/);
  });
});

describe('k-sparse hidden layers', () => {
  it('keeps exactly the k largest activations of each example', () => {
    const { net, theta, X } = setup({ layers: [10, 8, 10], activation: ['identity', 'sigmoid'], autoencoder: true, kSparse: { k: 3 } }, 9);
    const full = resolveSpec({ layers: [10, 8, 10], activation: ['identity', 'sigmoid'], autoencoder: true });
    const { A, M } = cpuForward(net, theta, X);
    const dense = cpuForward(full, theta, X).A[0]!;
    for (let i = 0; i < X.rows; i++) {
      const row = Array.from(dense.subarray(i * 8, i * 8 + 8));
      const kth = [...row].sort((a, b) => b - a)[2]!;
      let kept = 0;
      for (let j = 0; j < 8; j++) {
        const keep = M[0]![i * 8 + j] === 1;
        kept += keep ? 1 : 0;
        expect(keep).toBe(row[j]! >= kth);
        expect(A[0]![i * 8 + j]).toBe(keep ? row[j] : 0);
      }
      expect(kept).toBe(3);
    }
  });

  it('ties go to the lower index', () => {
    const net = resolveSpec({ layers: [1, 4, 1], activation: ['identity', 'identity'], autoencoder: true, kSparse: { k: 2 } });
    // W1 = 1 for every unit, b1 = (0, 1, 1, 1): hidden z = x + b ⇒ units 1, 2, 3 tie; 1 and 2 are kept.
    const theta = Float64Array.from([1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(cpuForward(net, theta, matrix(1, 1, [0.5])).M[0]!)).toEqual([0, 1, 1, 0]);
  });

  it('gradient check: backprop through the kept units only', () => {
    const { net, theta, X } = setup({ layers: [10, 8, 10], activation: ['identity', 'sigmoid'], autoencoder: true, lambda: 1e-3, kSparse: { k: 3 } });
    expect(relDiff(net, theta, X)).toBeLessThan(1e-9);
  });

  it('validates k', () => {
    expect(() => resolveSpec({ layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true, kSparse: { k: 5 } })).toThrow(/k must be an integer in 1 … 3/);
    expect(() => resolveSpec({ layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true, kSparse: { k: 2 }, sparsity: { rho: 0.1, beta: 3 } })).toThrow(/kSparse and KL sparsity cannot share layer 2/);
  });
});
