// The float64 CPU reference: full-network gradient checks for every loss,
// activation and penalty, and hand-computed forward passes and costs.
import { describe, expect, it } from 'vitest';
import { cpuCost, cpuForward, cpuPredict } from '../src/cpu/network.js';
import { gradientCheck, toyCheck } from '../src/gradcheck.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type ActivationName, type Network, type NetworkSpec } from '../src/spec.js';
import { matrix, type Matrix } from '../src/matrix.js';

type Targets = 'uniform' | 'onehot';

interface Problem {
  net: Network;
  theta: Float64Array;
  X: Matrix;
  Y: Matrix | undefined;
}

function uniformMatrix(rng: Rng, rows: number, cols: number, lo = 0, hi = 1): Matrix {
  return matrix(rows, cols, Array.from({ length: rows * cols }, () => rng.range(lo, hi)));
}

/** A problem with every θ entry (biases included) uniform in [−scale, scale]. */
function problem(spec: NetworkSpec, opts: { m?: number; seed?: number; scale?: number; xLo?: number; targets?: Targets } = {}): Problem {
  const net = resolveSpec(spec);
  const rng = new Rng(opts.seed ?? 1);
  const m = opts.m ?? 7;
  const scale = opts.scale ?? 0.5;
  const theta = Float64Array.from({ length: paramLayout(net).size }, () => rng.range(-scale, scale));
  const X = uniformMatrix(rng, m, net.layers[0]!, opts.xLo ?? 0, 1);
  let Y: Matrix | undefined;
  if (!net.autoencoder) {
    const nL = net.layers[net.layers.length - 1]!;
    if (opts.targets === 'onehot') {
      Y = matrix(m, nL);
      for (let i = 0; i < m; i++) Y.data[i * nL + rng.int(nL)] = 1;
    } else {
      Y = uniformMatrix(rng, m, nL);
    }
  }
  return { net, theta, X, Y };
}

/**
 * relDiff of gradientCheck on cpuCost. ε = 1e-4 (the notes' value) unless given:
 * central differences err by O(ε²·J‴), so strongly curved nets (tanh, softsign
 * with weights of order 1) sit at ≈ 2e-9 with ε = 1e-4 and ≈ 3e-11 with ε = 1e-5;
 * those tests use 1e-5 (see 'the residual is truncation error' below).
 */
function relDiff({ net, theta, X, Y }: Problem, epsilon = 1e-4): number {
  return gradientCheck((t) => {
    const r = cpuCost(net, t, X, Y, { gradient: true });
    return { cost: r.cost, grad: r.grad! };
  }, theta, { epsilon, cost: (t) => cpuCost(net, t, X, Y, { gradient: false }).cost }).relDiff;
}

describe('gradient check of the full network', () => {
  it('checker sanity: the notes toy example h = x1² + 3·x1·x2 at (4, 10)', () => {
    expect(toyCheck()).toBeLessThan(1e-9);
  });

  it('1, 2 and 3 hidden layers (sigmoid, squared loss)', () => {
    for (const layers of [[5, 4, 3], [5, 4, 6, 3], [4, 6, 5, 3, 2]]) {
      const p = problem({ layers, activation: 'sigmoid' });
      expect(relDiff(p), layers.join('-')).toBeLessThan(1e-9);
    }
  });

  it('every trainable activation in the hidden layers (identity output, squared loss)', () => {
    // Inputs in [−1, 1) and θ in [−0.5, 0.5]: with 7 examples z rarely comes
    // within ε = 1e-4 of a kink (0 for relu/prelu, ±1 for hardtanh). Fixed seeds
    // keep the kinked activations away from them; no loosened tolerance needed.
    const hidden: { name: ActivationName; alpha?: number }[] = [
      { name: 'sigmoid' },
      { name: 'tanh' },
      { name: 'identity' },
      { name: 'relu' },
      { name: 'prelu', alpha: 0.2 },
      { name: 'elu', alpha: 0.8 },
      { name: 'softplus' },
      { name: 'softsign' },
      { name: 'hardtanh' },
    ];
    for (const a of hidden) {
      for (const seed of [1, 2]) {
        const p = problem({ layers: [4, 5, 4, 3], activation: [a, a, 'identity'] }, { seed, xLo: -1, scale: 1 });
        expect(relDiff(p, 1e-5), `${a.name} seed ${seed}`).toBeLessThan(1e-9);
      }
    }
  });

  it('every trainable activation on the output layer (squared loss)', () => {
    for (const name of ['sigmoid', 'tanh', 'identity', 'relu', 'prelu', 'elu', 'softplus', 'softsign', 'hardtanh'] as const) {
      const p = problem({ layers: [4, 5, 3], activation: ['tanh', name] }, { xLo: -1, scale: 1 });
      expect(relDiff(p, 1e-5), name).toBeLessThan(1e-9);
    }
  });

  it('the residual is truncation error: relDiff scales as ε²', () => {
    const p = problem({ layers: [4, 5, 3], activation: 'tanh' }, { xLo: -1, scale: 1 });
    const r3 = relDiff(p, 1e-3);
    const r4 = relDiff(p, 1e-4);
    expect(r3 / r4).toBeGreaterThan(80);
    expect(r3 / r4).toBeLessThan(120);
    expect(relDiff(p, 1e-5)).toBeLessThan(1e-10);
  });

  it('binary cross-entropy (sigmoid output, targets in [0, 1])', () => {
    expect(relDiff(problem({ layers: [5, 4, 3], activation: 'sigmoid', loss: 'cross-entropy' }))).toBeLessThan(1e-9);
    expect(relDiff(problem({ layers: [5, 4, 3, 2], activation: ['tanh', 'relu', 'sigmoid'], loss: 'cross-entropy' }, { xLo: -1 }))).toBeLessThan(1e-9);
  });

  it('softmax cross-entropy (one-hot targets)', () => {
    const p = problem({ layers: [5, 4, 3], activation: ['sigmoid', 'softmax'], loss: 'softmax-cross-entropy' }, { targets: 'onehot' });
    expect(relDiff(p)).toBeLessThan(1e-9);
    const q = problem({ layers: [6, 5, 4, 4], activation: ['tanh', 'elu', 'softmax'], loss: 'softmax-cross-entropy' }, { targets: 'onehot', xLo: -1, seed: 3 });
    expect(relDiff(q)).toBeLessThan(1e-9);
  });

  it('weight decay', () => {
    expect(relDiff(problem({ layers: [5, 4, 3], activation: 'sigmoid', lambda: 0.3 }))).toBeLessThan(1e-9);
    expect(relDiff(problem({ layers: [5, 4, 4, 3], activation: 'tanh', lambda: 1e-2 }, { xLo: -1 }), 1e-5)).toBeLessThan(1e-9);
  });

  it('KL sparsity on one and on several hidden layers', () => {
    const one = problem({ layers: [5, 4, 6, 3], activation: 'sigmoid', sparsity: { rho: 0.1, beta: 3, layers: [3] } });
    expect(relDiff(one)).toBeLessThan(1e-9);
    const all = problem({ layers: [5, 4, 6, 3], activation: 'sigmoid', lambda: 1e-3, sparsity: { rho: 0.05, beta: 2 } });
    expect(all.net.sparsity!.onLayer).toEqual([true, true, false]);
    expect(relDiff(all)).toBeLessThan(1e-9);
  });

  it('L1 activation penalty', () => {
    const p = problem({ layers: [5, 4, 6, 3], activation: ['tanh', 'sigmoid', 'identity'], l1: { weight: 0.2 } }, { xLo: -1 });
    expect(relDiff(p)).toBeLessThan(1e-9);
    const q = problem({ layers: [5, 4, 3], activation: 'sigmoid', l1: { weight: 0.5, layers: [2] }, sparsity: { rho: 0.2, beta: 1 } });
    expect(relDiff(q)).toBeLessThan(1e-9);
  });

  it('UFLDL sparse autoencoder: 64-25-64 sigmoid, λ = 1e-4, β = 3, ρ = 0.01, batch 20, seed 1', () => {
    const net = resolveSpec({ layers: [64, 25, 64], activation: 'sigmoid', loss: 'squared', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } });
    const rng = new Rng(1);
    const X = uniformMatrix(rng, 20, 64);
    const theta = initParameters(net, { init: 'ufldl', seed: 1 });
    expect(relDiff({ net, theta, X, Y: undefined })).toBeLessThan(1e-9);
  });
});

describe('cost, forward pass and ρ̂', () => {
  it('the parts add up to the cost', () => {
    const p = problem({ layers: [5, 4, 3], activation: 'sigmoid', lambda: 0.1, sparsity: { rho: 0.1, beta: 3 }, l1: { weight: 0.2 } });
    const r = cpuCost(p.net, p.theta, p.X, p.Y, { gradient: false });
    const { data, weightDecay, sparsity, l1 } = r.parts;
    expect(data).toBeGreaterThan(0);
    expect(weightDecay).toBeGreaterThan(0);
    expect(sparsity).toBeGreaterThan(0);
    expect(l1).toBeGreaterThan(0);
    expect(r.cost).toBe(data + weightDecay + sparsity + l1);
    expect(r.grad).toBeUndefined();
    const g = cpuCost(p.net, p.theta, p.X, p.Y, { gradient: true });
    expect(g.cost).toBe(r.cost);
    expect(g.grad!.length).toBe(p.theta.length);
  });

  it('cost of a 2-2-2 identity net equals the hand-computed value', () => {
    // W(1) = [[1, 2], [3, 4]], b(1) = [0.5, −1], W(2) = [[1, 0], [−1, 1]], b(2) = [0, 1]
    const net = resolveSpec({ layers: [2, 2, 2], activation: 'identity', lambda: 0.1 });
    const theta = Float64Array.of(1, 2, 3, 4, 0.5, -1, 1, 0, -1, 1, 0, 1);
    // Example 1: x = (1, 2), y = (0, 0): z(2) = (5.5, 10), z(3) = (5.5, 5.5) → ½(5.5² + 5.5²) = 30.25
    // Example 2: x = (0, 0), y = (1, 1): z(2) = (0.5, −1), z(3) = (0.5, −0.5) → ½(0.5² + 1.5²) = 1.25
    const X = matrix(2, 2, [1, 2, 0, 0]);
    const Y = matrix(2, 2, [0, 0, 1, 1]);
    const r = cpuCost(net, theta, X, Y, { gradient: false });
    expect(r.parts.data).toBeCloseTo((30.25 + 1.25) / 2, 14);
    // (λ/2) Σ W² = 0.05 · (1 + 4 + 9 + 16 + 1 + 0 + 1 + 1) = 1.65
    expect(r.parts.weightDecay).toBeCloseTo(1.65, 14);
    expect(r.cost).toBeCloseTo(15.75 + 1.65, 13);
    expect(r.rhoHat[0]).toEqual(Float64Array.of(3, 4.5)); // means of (5.5, 0.5) and (10, −1)
  });

  it('cross-entropy cost of a 2-2 sigmoid net equals the hand-computed value', () => {
    const net = resolveSpec({ layers: [2, 2], activation: 'sigmoid', loss: 'cross-entropy' });
    const theta = Float64Array.of(1, -1, 0.5, 2, 0, -1); // W = [[1, −1], [0.5, 2]], b = (0, −1)
    const X = matrix(1, 2, [1, 1]);
    const Y = matrix(1, 2, [1, 0.25]);
    const s = (z: number): number => 1 / (1 + Math.exp(-z));
    const a1 = s(0); // z = 1 − 1 + 0
    const a2 = s(1.5); // z = 0.5 + 2 − 1
    const want = -(Math.log(a1) + 0.25 * Math.log(a2) + 0.75 * Math.log(1 - a2));
    expect(cpuCost(net, theta, X, Y, { gradient: false }).cost).toBeCloseTo(want, 14);
  });

  it('forward of a 2-2-1 sigmoid/tanh net equals the hand-computed value', () => {
    const net = resolveSpec({ layers: [2, 2, 1], activation: ['sigmoid', 'tanh'] });
    // W(1) = [[0.1, −0.2], [0.3, 0.4]], b(1) = (0.05, −0.1), W(2) = [[0.7, −0.6]], b(2) = (0.2)
    const theta = Float64Array.of(0.1, -0.2, 0.3, 0.4, 0.05, -0.1, 0.7, -0.6, 0.2);
    const X = matrix(2, 2, [1, 2, -1, 0.5]);
    const { Z, A } = cpuForward(net, theta, X);
    const s = (z: number): number => 1 / (1 + Math.exp(-z));
    for (const [i, [x1, x2]] of [[1, 2], [-1, 0.5]].entries()) {
      const z21 = 0.1 * x1! - 0.2 * x2! + 0.05;
      const z22 = 0.3 * x1! + 0.4 * x2! - 0.1;
      const z3 = 0.7 * s(z21) - 0.6 * s(z22) + 0.2;
      expect(Z[0]![i * 2]).toBeCloseTo(z21, 15);
      expect(Z[0]![i * 2 + 1]).toBeCloseTo(z22, 15);
      expect(A[0]![i * 2]).toBeCloseTo(s(z21), 15);
      expect(A[0]![i * 2 + 1]).toBeCloseTo(s(z22), 15);
      expect(Z[1]![i]).toBeCloseTo(z3, 15);
      expect(A[1]![i]).toBeCloseTo(Math.tanh(z3), 15);
    }
    const P = cpuPredict(net, theta, X);
    expect([P.rows, P.cols]).toEqual([2, 1]);
    expect(P.data).toEqual(A[1]);
  });

  it('softmax rows sum to 1 and stay finite for z ≈ 1000', () => {
    const net = resolveSpec({ layers: [2, 3], activation: 'softmax', loss: 'softmax-cross-entropy' });
    // W = 0, b = (1000, 1001, 999): softmax(z) = softmax(0, 1, −1)
    const theta = Float64Array.of(0, 0, 0, 0, 0, 0, 1000, 1001, 999);
    const X = matrix(2, 2, [0.3, -0.2, 1, 1]);
    const { A } = cpuForward(net, theta, X);
    const e = [1, Math.E, Math.exp(-1)];
    const sum = e[0]! + e[1]! + e[2]!;
    for (let i = 0; i < 2; i++) {
      const row = Array.from(A[0]!.subarray(i * 3, i * 3 + 3));
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 15);
      row.forEach((v, j) => expect(v).toBeCloseTo(e[j]! / sum, 15));
    }
    const Y = matrix(2, 3, [0, 0, 1, 1, 0, 0]);
    const r = cpuCost(net, theta, X, Y, { gradient: true });
    // −log softmax(z)₃ and −log softmax(z)₁, averaged
    expect(r.cost).toBeCloseTo((Math.log(sum) + 1 + Math.log(sum)) / 2, 12);
    expect(r.grad!.every(Number.isFinite)).toBe(true);
  });

  it('cross-entropy is finite for saturated outputs (|z| ≈ 800)', () => {
    const net = resolveSpec({ layers: [1, 2], activation: 'sigmoid', loss: 'cross-entropy' });
    const theta = Float64Array.of(0, 0, 800, -800);
    const r = cpuCost(net, theta, matrix(1, 1, [0]), matrix(1, 2, [0, 1]), { gradient: true });
    expect(r.cost).toBeCloseTo(1600, 10);
    expect(Array.from(r.grad!)).toEqual([0, 0, 1, -1]);
  });

  it('ρ̂ is the column mean of each hidden layer’s activations', () => {
    const p = problem({ layers: [5, 4, 6, 3], activation: 'sigmoid' }, { m: 9 });
    const r = cpuCost(p.net, p.theta, p.X, p.Y, { gradient: false });
    const { A } = cpuForward(p.net, p.theta, p.X);
    expect(r.rhoHat.length).toBe(2);
    for (const [k, n] of [[0, 4], [1, 6]] as const) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < 9; i++) s += A[k]![i * n + j]!;
        expect(r.rhoHat[k]![j]).toBeCloseTo(s / 9, 15);
      }
    }
  });

  it('accepts Float32Array data and gives the same cost as float64', () => {
    const p = problem({ layers: [3, 2, 3], activation: 'sigmoid', autoencoder: true });
    const X32 = { rows: p.X.rows, cols: p.X.cols, data: Float32Array.from(p.X.data) };
    const X64 = matrix(p.X.rows, p.X.cols, Float64Array.from(X32.data));
    expect(cpuCost(p.net, p.theta, X32, undefined, { gradient: false }).cost).toBe(cpuCost(p.net, p.theta, X64, undefined, { gradient: false }).cost);
  });
});
