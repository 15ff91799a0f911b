import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuObjective, cpuVectorOps } from '../src/optim/cpu-vectors.js';
import { evaluateLater, evaluateWithDots } from '../src/optim/batched.js';

describe('cpuVectorOps', () => {
  const ops = cpuVectorOps(3);
  it('does the vector operations', async () => {
    const x = ops.alloc();
    const y = ops.alloc();
    expect(Array.from(x)).toEqual([0, 0, 0]);
    ops.write(x, [1, 2, 3]);
    ops.fill(2, y);
    ops.axpy(2, x, y);
    expect(Array.from(y)).toEqual([4, 6, 8]);
    ops.axpby(1, x, -1, y);
    expect(Array.from(y)).toEqual([-3, -4, -5]);
    ops.scale(-2, y);
    expect(Array.from(y)).toEqual([6, 8, 10]);
    ops.copy(x, y);
    expect(Array.from(await ops.read(y))).toEqual([1, 2, 3]);
    expect(await ops.dot(x, y)).toBe(14);
    const r = await ops.read(x);
    r[0] = 99;
    expect(x[0]).toBe(1); // read returns a copy
    await ops.flush();
    expect(() => ops.copy(new Float64Array(2), y)).toThrow(/3 values/);
    expect(() => ops.write(x, [1, 2])).toThrow(/3 values/);
  });

  it('adam follows Kingma & Ba, Algorithm 1', () => {
    const o = cpuVectorOps(2);
    const theta = Float64Array.from([1, -1]);
    const g = Float64Array.from([0.5, -2]);
    const m = o.alloc();
    const v = o.alloc();
    o.adam(theta, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, t: 1 });
    // t = 1: m̂ = g, v̂ = g², so each step is lr·g/(|g| + ε) ≈ lr·sign(g).
    expect(m[0]).toBeCloseTo(0.05, 15);
    expect(v[1]).toBeCloseTo(0.04, 15);
    expect(theta[0]).toBeCloseTo(1 - 0.1 * 0.5 / (0.5 + 1e-8), 14);
    expect(theta[1]).toBeCloseTo(-1 + 0.1 * 2 / (2 + 1e-8), 14);
  });
});

describe('cpuObjective', () => {
  it('passes θ, the batch and the order to the callback, and copies the gradient', async () => {
    const calls: { batch: unknown; order: number[]; theta: number[] }[] = [];
    const obj = cpuObjective(
      (theta, batch, order) => {
        calls.push({ batch, order: Array.from(order), theta: Array.from(theta) });
        return { cost: theta[0]! * 2, grad: Float64Array.from([theta[0]!, 7]) };
      },
      Float64Array.from([3, 4]),
      5,
    );
    expect(obj.examples).toBe(5);
    expect(Array.from(obj.order)).toEqual([0, 1, 2, 3, 4]);
    expect(await obj.evaluate()).toBe(6);
    expect(Array.from(obj.grad)).toEqual([3, 7]);
    expect(await obj.evaluate({ cost: false })).toBeNull();
    obj.theta[0] = 10;
    await obj.evaluate({ batch: { start: 1, count: 2 } });
    expect(calls[0]!.batch).toBeNull();
    expect(calls[2]!.batch).toEqual({ start: 1, count: 2 });
    expect(calls[2]!.theta).toEqual([10, 4]);
    await expect(obj.evaluate({ batch: { start: 4, count: 2 } })).rejects.toThrow(/outside/);
    await expect(obj.evaluate({ batch: { start: 0, count: 0 } })).rejects.toThrow(/outside/);
  });

  it('θ is a copy of θ0', () => {
    const theta0 = Float64Array.from([1, 2]);
    const obj = cpuObjective(() => ({ cost: 0, grad: new Float64Array(2) }), theta0, 1);
    obj.theta[0] = 5;
    expect(theta0[0]).toBe(1);
  });

  it('shuffle(seed) gives a seeded permutation, independent of history', () => {
    const obj = cpuObjective(() => ({ cost: 0, grad: new Float64Array(1) }), [0], 50);
    obj.shuffle(7);
    const a = Array.from(obj.order);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    obj.shuffle(8);
    const b = Array.from(obj.order);
    expect(b).not.toEqual(a);
    obj.shuffle(7);
    expect(Array.from(obj.order)).toEqual(a);
  });
});

const haveCpuNetwork = existsSync(new URL('../src/cpu/network.ts', import.meta.url));

describe.skipIf(!haveCpuNetwork)('cpuNetworkObjective', () => {
  it('a batch is the gathered rows; the full batch in any order gives the full gradient', async () => {
    const { resolveSpec } = await import('../src/spec.js');
    const { matrix } = await import('../src/matrix.js');
    const { initParameters } = await import('../src/params.js');
    const { cpuNetworkObjective } = await import('../src/cpu/objective.js');
    const { Rng } = await import('../src/prng.js');
    const net = resolveSpec({ layers: [4, 3, 2], activation: 'sigmoid', lambda: 1e-3 });
    const rng = new Rng(3);
    const m = 6;
    const X = matrix(m, 4, Array.from({ length: m * 4 }, () => rng.uniform()));
    const Y = matrix(m, 2, Array.from({ length: m * 2 }, () => rng.uniform()));
    const theta0 = initParameters(net, { seed: 1 });
    const obj = cpuNetworkObjective(net, theta0, X, Y);
    const full = await obj.evaluate();
    const gFull = Float64Array.from(obj.grad);
    obj.shuffle(5);
    const fAll = await obj.evaluate({ batch: { start: 0, count: m } });
    expect(fAll).toBeCloseTo(full!, 12);
    for (let i = 0; i < gFull.length; i++) expect(obj.grad[i]).toBeCloseTo(gFull[i]!, 12);
    // A single-example batch equals the objective on that example alone.
    const k = obj.order[2]!;
    const single = cpuNetworkObjective(net, theta0, matrix(1, 4, X.data.slice(k * 4, k * 4 + 4)), matrix(1, 2, Y.data.slice(k * 2, k * 2 + 2)));
    const f1 = await obj.evaluate({ batch: { start: 2, count: 1 } });
    expect(f1).toBeCloseTo((await single.evaluate())!, 14);
    for (let i = 0; i < gFull.length; i++) expect(obj.grad[i]).toBeCloseTo(single.grad[i]!, 14);
  });
});

describe.skipIf(!haveCpuNetwork)('training a sparse autoencoder on the CPU', () => {
  it('L-BFGS (monotone) and mini-batch Adam lower the cost', async () => {
    const { resolveSpec } = await import('../src/spec.js');
    const { matrix } = await import('../src/matrix.js');
    const { initParameters } = await import('../src/params.js');
    const { cpuNetworkObjective } = await import('../src/cpu/objective.js');
    const { lbfgs } = await import('../src/optim/lbfgs.js');
    const { adam } = await import('../src/optim/sgd.js');
    const { Rng } = await import('../src/prng.js');
    const net = resolveSpec({ layers: [16, 6, 16], activation: 'sigmoid', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.05, beta: 3 } });
    const rng = new Rng(1);
    const m = 64;
    const X = matrix(m, 16, Array.from({ length: m * 16 }, () => 0.1 + 0.8 * rng.uniform()));
    const theta0 = initParameters(net, { seed: 2 });

    const obj = cpuNetworkObjective(net, theta0, X);
    const f0 = (await obj.evaluate())!;
    const costs: number[] = [];
    const r = await lbfgs(obj, { maxIterations: 40, onIteration: (i) => void costs.push(i.cost!) });
    expect(r.iterations).toBe(40);
    expect(costs.every((c, k) => k === 0 || c <= costs[k - 1]!)).toBe(true);
    expect(r.cost!).toBeLessThan(0.05 * f0);

    const obj2 = cpuNetworkObjective(net, theta0, X);
    const r2 = await adam(obj2, { learningRate: 0.01, batchSize: 16, epochs: 20, finalCost: true });
    expect(r2.cost!).toBeLessThan(0.1 * f0);
  });
});

describe('batched inner products and one-round-trip evaluations (issue 12)', () => {
  it('combine sums cⱼ·vⱼ in index order; dots returns every pair; bad input is named', async () => {
    const ops = cpuVectorOps(3);
    const [a, b, d] = [Float64Array.from([1, 2, 3]), Float64Array.from([-1, 0.5, 4]), Float64Array.from([NaN, NaN, NaN])];
    ops.combine([2, -1], [a, b], d);
    expect(Array.from(d)).toEqual([3, 3.5, 2]);
    expect(Array.from(await ops.dots([[a, b], [a, a], [d, b]]))).toEqual([12, 14, 6.75]);
    expect(() => ops.combine([1, 1], [a, d], d)).toThrow(/destination is also vector 1/);
    expect(() => ops.combine([1], [a, b], d)).toThrow(/1 coefficients for 2 vectors/);
  });

  it('evaluateDots: J, then the `after` operations, then the dots at the new θ; evaluateLater falls back to evaluate', async () => {
    // J(θ) = ½‖θ‖², ∇J = θ.
    const obj = cpuObjective((t) => ({ cost: 0.5 * t.reduce((s, v) => s + v * v, 0), grad: Array.from(t) }), [1, 2, 2], 1);
    const y = obj.ops.alloc();
    const r = await evaluateWithDots(obj, [[obj.grad, y], [obj.grad, obj.grad]], { after: () => obj.ops.axpby(2, obj.grad, 0, y) });
    expect(r).toEqual({ cost: 4.5, dots: Float64Array.from([18, 9]) });
    const r2 = await obj.evaluateDots!([[obj.grad, obj.grad]], { cost: false });
    expect(r2.cost).toBeNull();
    const { reading } = await evaluateLater(obj);
    expect((await reading).cost).toBe(4.5);
  });
});
