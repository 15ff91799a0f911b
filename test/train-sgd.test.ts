import { describe, expect, it } from 'vitest';
import { cpuObjective } from '../src/optim/cpu-vectors.js';
import { adam, gradientDescent, momentum, sgd } from '../src/optim/sgd.js';
import type { IterationInfo } from '../src/optim/types.js';
import { counting, leastSquares, linearData, logistic, logisticData, logisticNewton, maxAbsDiff, quadratic } from './train-problems.js';

describe('convergence on a 10-D convex quadratic (eigenvalues 1 … 10)', () => {
  const q = quadratic(10, 2, 1, 10);

  it('batch gradient descent, α = 1/λmax', async () => {
    const obj = q.objective();
    const r = await gradientDescent(obj, { learningRate: 0.1, iterations: 400 });
    expect(r).toMatchObject({ iterations: 400, evaluations: 400, cost: null, reason: 'iterations' });
    expect(maxAbsDiff(obj.theta, q.solution)).toBeLessThan(1e-12);
  });

  it('classical momentum', async () => {
    const obj = q.objective();
    await momentum(obj, { learningRate: 0.1, momentum: 0.5, iterations: 200 });
    expect(maxAbsDiff(obj.theta, q.solution)).toBeLessThan(1e-10);
  });

  it('Nesterov momentum', async () => {
    const obj = q.objective();
    await momentum(obj, { learningRate: 0.1, momentum: 0.5, nesterov: true, iterations: 200 });
    expect(maxAbsDiff(obj.theta, q.solution)).toBeLessThan(1e-10);
  });

  it('Adam with an exponentially decaying rate', async () => {
    const obj = q.objective();
    await adam(obj, { learningRate: { type: 'exponential', lr: 0.05, decay: 0.995, per: 'iteration' }, iterations: 2000 });
    expect(maxAbsDiff(obj.theta, q.solution)).toBeLessThan(1e-4);
  });
});

describe('L2-regularized logistic regression, against Newton’s method', () => {
  const data = logisticData(200, 5, 4);
  const lambda = 0.05;
  const wStar = logisticNewton(data, lambda);

  it('batch gradient descent', async () => {
    const obj = logistic(data, lambda);
    await gradientDescent(obj, { learningRate: 2, iterations: 1500 });
    expect(maxAbsDiff(obj.theta, wStar)).toBeLessThan(1e-8);
  });

  it('mini-batch SGD with a decaying rate', async () => {
    const obj = logistic(data, lambda);
    const r = await sgd(obj, { learningRate: { type: 'exponential', lr: 0.5, decay: 0.93 }, batchSize: 10, epochs: 80, seed: 3 });
    expect(r).toMatchObject({ iterations: 80 * 20, reason: 'epochs' });
    expect(maxAbsDiff(obj.theta, wStar)).toBeLessThan(1e-2);
  });

  it('mini-batch momentum and Nesterov', async () => {
    for (const nesterov of [false, true]) {
      const obj = logistic(data, lambda);
      await momentum(obj, { learningRate: { type: 'step', lr: 0.1, gamma: 0.5, every: 10 }, momentum: 0.9, nesterov, batchSize: 20, epochs: 80, seed: 1 });
      expect(maxAbsDiff(obj.theta, wStar)).toBeLessThan(1e-2);
    }
  });

  it('mini-batch Adam', async () => {
    const obj = logistic(data, lambda);
    await adam(obj, { learningRate: { type: 'exponential', lr: 0.05, decay: 0.9 }, batchSize: 20, epochs: 60, seed: 2 });
    expect(maxAbsDiff(obj.theta, wStar)).toBeLessThan(1e-2);
  });
});

describe('the regimes', () => {
  const data = linearData(40, 4, 9);

  it('mini-batch SGD with batch = m is batch gradient descent, step for step', async () => {
    const trace = async (run: (o: ReturnType<typeof leastSquares>, cb: (i: IterationInfo) => void) => Promise<unknown>) => {
      const obj = leastSquares(data);
      const out: Float64Array[] = [];
      await run(obj, () => void out.push(Float64Array.from(obj.theta)));
      return out;
    };
    const gd = await trace((o, cb) => gradientDescent(o, { learningRate: 0.05, iterations: 25, onIteration: cb }));
    for (const batchSize of [40, 1000]) {
      const mb = await trace((o, cb) => sgd(o, { learningRate: 0.05, batchSize, epochs: 25, seed: 5, onIteration: cb }));
      expect(mb.length).toBe(25);
      mb.forEach((theta, k) => expect(Array.from(theta), `iteration ${k + 1}`).toEqual(Array.from(gd[k]!)));
    }
  });

  it('a batch holding every example, in shuffled order, gives the full gradient to 1e-12', async () => {
    const obj = leastSquares(data, [0.3, -0.2, 0.1, 0.5]);
    const f = await obj.evaluate();
    const g = Float64Array.from(obj.grad);
    obj.shuffle(12);
    const fb = await obj.evaluate({ batch: { start: 0, count: 40 } });
    expect(Math.abs(fb! - f!)).toBeLessThan(1e-12);
    expect(maxAbsDiff(obj.grad, g)).toBeLessThan(1e-12);
  });

  it('batch 1 (stochastic) visits every example once per epoch, in a fresh seeded order', async () => {
    const m = 17;
    const seen: number[] = [];
    const obj = leastSquares(linearData(m, 3, 1), undefined, seen);
    const r = await sgd(obj, { learningRate: 0.01, batchSize: 1, epochs: 3, seed: 40 });
    expect(r).toMatchObject({ iterations: 3 * m, evaluations: 3 * m, reason: 'epochs' });
    expect(seen.length).toBe(3 * m);
    const epochs = [0, 1, 2].map((e) => seen.slice(e * m, (e + 1) * m));
    const ref = cpuObjective(() => ({ cost: 0, grad: [0] }), [0], m);
    epochs.forEach((visit, e) => {
      expect([...visit].sort((a, b) => a - b)).toEqual(Array.from({ length: m }, (_, i) => i));
      ref.shuffle(40 + e);
      expect(visit).toEqual(Array.from(ref.order));
    });
    expect(epochs[0]).not.toEqual(epochs[1]);
  });

  it('mini-batches cover each epoch once; the last batch is smaller', async () => {
    const m = 17;
    const seen: number[] = [];
    const sizes: number[] = [];
    const obj = leastSquares(linearData(m, 3, 1), undefined, seen);
    const inner = obj.evaluate.bind(obj);
    obj.evaluate = (o) => {
      sizes.push(o?.batch?.count ?? -1);
      return inner(o);
    };
    const r = await sgd(obj, { batchSize: 5, epochs: 2 });
    expect(r.iterations).toBe(8);
    expect(sizes).toEqual([5, 5, 5, 2, 5, 5, 5, 2]);
    for (const e of [0, 1]) expect([...seen.slice(e * m, (e + 1) * m)].sort((a, b) => a - b)).toEqual(Array.from({ length: m }, (_, i) => i));
  });
});

describe('update rules', () => {
  it('Adam: the first two steps by hand', async () => {
    // J = ½(x₁² + 3x₂²), ∇J = (x₁, 3x₂), from (1, −2); α = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8.
    const obj = cpuObjective((x) => ({ cost: 0.5 * (x[0]! ** 2 + 3 * x[1]! ** 2), grad: [x[0]!, 3 * x[1]!] }), [1, -2], 1);
    const steps: number[][] = [];
    await adam(obj, { learningRate: 0.1, iterations: 2, onIteration: () => void steps.push(Array.from(obj.theta)) });
    // Step 1: g = (1, −6); m = 0.1g, v = 0.001g²; m̂ = g, v̂ = g²: θ −= 0.1·g/(|g| + ε).
    const x1 = [1 - 0.1 / (1 + 1e-8), -2 + (0.1 * 6) / (6 + 1e-8)];
    expect(steps[0]![0]).toBeCloseTo(x1[0]!, 15);
    expect(steps[0]![1]).toBeCloseTo(x1[1]!, 15);
    // Step 2: g = (x1₁, 3·x1₂) ≈ (0.9, −5.7); m = 0.9·m + 0.1·g, v = 0.999·v + 0.001·g²;
    // m̂ = m/(1 − 0.9²) = m/0.19, v̂ = v/(1 − 0.999²) = v/0.001999.
    const g2 = [x1[0]!, 3 * x1[1]!];
    const m2 = [0.9 * 0.1 + 0.1 * g2[0]!, 0.9 * -0.6 + 0.1 * g2[1]!];
    const v2 = [0.999 * 0.001 + 0.001 * g2[0]! ** 2, 0.999 * 0.036 + 0.001 * g2[1]! ** 2];
    const x2 = [0, 1].map((i) => x1[i]! - (0.1 * (m2[i]! / 0.19)) / (Math.sqrt(v2[i]! / 0.001999) + 1e-8));
    expect(steps[1]![0]).toBeCloseTo(x2[0]!, 12);
    expect(steps[1]![1]).toBeCloseTo(x2[1]!, 12);
    expect(x2[0]).toBeCloseTo(0.80041223, 7);
    expect(x2[1]).toBeCloseTo(-1.80016649, 7);
  });

  it('momentum: classical heavy ball and Nesterov look-ahead, against direct recurrences', async () => {
    const c = [1, 4];
    const grad = (x: number[]) => [c[0]! * x[0]!, c[1]! * x[1]!];
    const lr = 0.1;
    const mu = 0.8;
    for (const nesterov of [false, true]) {
      const obj = cpuObjective((x) => ({ cost: 0, grad: grad(Array.from(x)) }), [1, 1], 1);
      const got: number[][] = [];
      await momentum(obj, { learningRate: lr, momentum: mu, nesterov, iterations: 5, onIteration: () => void got.push(Array.from(obj.theta)) });
      // Direct: v ← μv − α∇J(θ + [nesterov] μv); θ ← θ + v. The Nesterov iterate reported is θ + μv.
      let th = [1, 1];
      let v = [0, 0];
      for (let k = 0; k < 5; k++) {
        const at = nesterov ? th.map((t, i) => t + mu * v[i]!) : th;
        const g = grad(at);
        v = v.map((vi, i) => mu * vi - lr * g[i]!);
        th = th.map((t, i) => t + v[i]!);
        const expected = nesterov ? th.map((t, i) => t + mu * v[i]!) : th;
        expect(maxAbsDiff(got[k]!, expected), `step ${k + 1}`).toBeLessThan(1e-15);
      }
    }
  });
});

describe('readbacks and callbacks', () => {
  const data = linearData(30, 3, 2);
  const runs = {
    gd: (o: ReturnType<typeof leastSquares>, extra: object) => gradientDescent(o, { iterations: 12, ...extra }),
    sgd: (o: ReturnType<typeof leastSquares>, extra: object) => sgd(o, { batchSize: 10, epochs: 4, ...extra }),
    momentum: (o: ReturnType<typeof leastSquares>, extra: object) => momentum(o, { batchSize: 10, epochs: 4, ...extra }),
    nesterov: (o: ReturnType<typeof leastSquares>, extra: object) => momentum(o, { batchSize: 10, epochs: 4, nesterov: true, ...extra }),
    adam: (o: ReturnType<typeof leastSquares>, extra: object) => adam(o, { batchSize: 10, epochs: 4, ...extra }),
  };

  for (const [name, run] of Object.entries(runs)) {
    it(`${name}: no dot calls and no cost requests unless asked`, async () => {
      const { objective, counts } = counting(leastSquares(data));
      const infos: IterationInfo[] = [];
      const r = await run(objective as never, { onIteration: (i: IterationInfo) => void infos.push(i) });
      expect(r.iterations).toBe(12);
      expect(counts).toEqual({ dots: 0, reads: 0, evaluations: 12, costRequests: 0 });
      expect(r.cost).toBeNull();
      expect(infos.every((i) => i.cost === null)).toBe(true);
      expect(infos.map((i) => i.iteration)).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));

      const c2 = counting(leastSquares(data));
      const infos2: IterationInfo[] = [];
      const r2 = await run(c2.objective as never, { costEvery: 5, finalCost: true, onIteration: (i: IterationInfo) => void infos2.push(i) });
      expect(c2.counts).toEqual({ dots: 0, reads: 0, evaluations: 13, costRequests: 3 });
      expect(infos2.filter((i) => i.cost !== null).map((i) => i.iteration)).toEqual([5, 10]);
      expect(r2.cost).not.toBeNull();
      expect(r2.evaluations).toBe(13);
    });
  }

  it('stops when the callback returns false; reports epochs', async () => {
    const obj = leastSquares(data);
    const infos: IterationInfo[] = [];
    const r = await sgd(obj, { batchSize: 10, epochs: 5, onIteration: (i) => (infos.push(i), i.iteration < 7) });
    expect(r).toMatchObject({ iterations: 7, reason: 'callback' });
    expect(infos.map((i) => i.epoch)).toEqual([0, 0, 0, 1, 1, 1, 2]);
    const r2 = await sgd(leastSquares(data), { batchSize: 10, epochs: 5, iterations: 8 });
    expect(r2).toMatchObject({ iterations: 8, reason: 'iterations' });
    const r3 = await sgd(leastSquares(data), { batchSize: 10 });
    expect(r3).toMatchObject({ iterations: 30, reason: 'epochs' }); // default 10 epochs
  });

  it('the schedule sees the epoch and the iteration', async () => {
    const lrs: number[] = [];
    await sgd(leastSquares(data), {
      batchSize: 10,
      epochs: 3,
      learningRate: { type: 'step', lr: 0.1, gamma: 0.5, every: 1 },
      onIteration: (i) => void lrs.push(i.stepSize),
    });
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]);
  });

  it('rejects invalid options', async () => {
    const obj = leastSquares(data);
    await expect(sgd(obj, { batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(sgd(obj, { learningRate: -1 })).rejects.toThrow(/learning rate/);
    await expect(momentum(obj, { momentum: 1 })).rejects.toThrow(/momentum/);
    await expect(adam(obj, { beta2: 1.5 })).rejects.toThrow(/beta2/);
    await expect(adam(obj, { epsilon: 0 })).rejects.toThrow(/epsilon/);
    await expect(gradientDescent(obj, { iterations: 1.5 })).rejects.toThrow(/iterations/);
  });

  it('frees the vectors it allocates', async () => {
    const obj = leastSquares(data);
    const live = new Set<Float64Array>();
    const ops = obj.ops;
    const wrapped = { ...obj, evaluate: obj.evaluate, shuffle: obj.shuffle, ops: { ...ops, alloc: () => { const v = ops.alloc(); live.add(v); return v; }, free: (v: Float64Array) => void live.delete(v) } };
    await adam(wrapped, { epochs: 1, batchSize: 5 });
    await momentum(wrapped, { epochs: 1, batchSize: 5 });
    expect(live.size).toBe(0);
  });
});
