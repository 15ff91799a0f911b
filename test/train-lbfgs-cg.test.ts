import { describe, expect, it } from 'vitest';
import { conjugateGradient } from '../src/optim/cg.js';
import { lbfgs } from '../src/optim/lbfgs.js';
import { conjugateGradient as referenceCg } from './reference/cg.js';
import { lbfgs as referenceLbfgs } from './reference/lbfgs.js';
import type { IterationInfo, Objective, OptimizeResult } from '../src/optim/types.js';
import { counting, logistic, logisticData, logisticNewton, maxAbsDiff, quadratic, rosenbrock } from './train-problems.js';

type Method = (obj: Objective<Float64Array>, o: Record<string, unknown>) => Promise<OptimizeResult>;
const METHODS: [string, Method][] = [
  ['L-BFGS', lbfgs as Method],
  ['CG', conjugateGradient as Method],
];
const tight = { optTol: 1e-12, progTol: 0, maxIterations: 2000 };

describe.each(METHODS)('%s', (_name, method) => {
  // With progTol = 0 the runs end when the cost can no longer tell steps apart
  // (|J(x) − J*| near float64 resolution), on 'step' or 'gradient'.
  it('solves a 10-D convex quadratic ½xᵀAx − bᵀx to A⁻¹b', async () => {
    const q = quadratic(10, 1, 1, 50);
    const obj = q.objective();
    const r = await method(obj, tight);
    expect(['gradient', 'progress', 'step']).toContain(r.reason);
    expect(maxAbsDiff(obj.theta, q.solution)).toBeLessThan(1e-8);
    expect(r.iterations).toBeLessThan(60);
  });

  it('reaches the optimum (1, 1) of the 2-D Rosenbrock function from (−1.2, 1) to 1e-6', async () => {
    const obj = rosenbrock([-1.2, 1]);
    const r = await method(obj, tight);
    expect(['gradient', 'progress', 'step']).toContain(r.reason);
    expect(maxAbsDiff(obj.theta, [1, 1])).toBeLessThan(1e-6);
    expect(r.cost).toBeLessThan(1e-12);
  });

  it('reaches the optimum (1, …, 1) of the 10-D Rosenbrock function from (−1.2, 1, −1.2, 1, …) to 1e-6', async () => {
    const x0 = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const obj = rosenbrock(x0);
    const r = await method(obj, tight);
    expect(maxAbsDiff(obj.theta, new Array(10).fill(1))).toBeLessThan(1e-6);
    expect(r.cost).toBeLessThan(1e-12);
  });

  it('matches Newton’s method on L2-regularized logistic regression', async () => {
    const data = logisticData(300, 6, 11);
    const lambda = 1e-2;
    const wStar = logisticNewton(data, lambda);
    const obj = logistic(data, lambda);
    const r = await method(obj, { optTol: 1e-12, progTol: 0 });
    expect(['gradient', 'progress', 'step']).toContain(r.reason);
    expect(maxAbsDiff(obj.theta, wStar)).toBeLessThan(1e-6);
  });

  it('stops on maxIterations, on the callback, and at a stationary start', async () => {
    const obj = rosenbrock([-1.2, 1]);
    const r = await method(obj, { maxIterations: 3 });
    expect(r).toMatchObject({ iterations: 3, reason: 'iterations' });

    const infos: IterationInfo[] = [];
    const obj2 = rosenbrock([-1.2, 1]);
    const r2 = await method(obj2, { onIteration: (i: IterationInfo) => (infos.push(i), i.iteration < 5) });
    expect(r2).toMatchObject({ iterations: 5, reason: 'callback' });
    expect(infos.map((i) => i.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(infos.every((i, k) => k === 0 || i.cost! <= infos[k - 1]!.cost!)).toBe(true);
    expect(infos[4]!.evaluations).toBe(r2.evaluations);
    expect(infos[4]!.cost).toBe(r2.cost);
    expect(infos[0]!.gradNorm).toBeGreaterThan(0);

    const obj3 = rosenbrock([1, 1]);
    const r3 = await method(obj3, {});
    expect(r3).toMatchObject({ iterations: 0, evaluations: 1, cost: 0, reason: 'gradient' });
  });

  it('stops for lack of progress with the default tolerances', async () => {
    const obj = rosenbrock([-1.2, 1]);
    const r = await method(obj, {});
    expect(['gradient', 'progress', 'step']).toContain(r.reason);
    expect(maxAbsDiff(obj.theta, [1, 1])).toBeLessThan(1e-3);
  });
});

describe('one readback per iteration (issue 12)', () => {
  it('L-BFGS: exactly E readbacks per iteration (E line-search evaluations), 4k + 4 dots per evaluation, one ‖∇J‖₁ read', async () => {
    const history = 5;
    const { objective, counts, trips } = counting(rosenbrock(Array.from({ length: 10 }, (_, i) => (i % 2 ? 1 : -1.2))));
    const per: { reads: number; dots: number; evals: number; iteration: number }[] = [];
    let last = { reads: 0, dots: 0, evals: 0 };
    const before = { ...counts, ...trips };
    const r = await lbfgs(objective, {
      history,
      ...tight,
      onIteration: (info) => {
        if (info.iteration === 1) last = { reads: before.readbacks + 1, dots: before.dots + 1, evals: before.evaluations + 1 }; // the start: J and ‖∇J‖² in one readback
        per.push({ reads: trips.readbacks - last.reads, dots: counts.dots - last.dots, evals: counts.evaluations - last.evals, iteration: info.iteration });
        last = { reads: trips.readbacks, dots: counts.dots, evals: counts.evaluations };
      },
    });
    expect(r.iterations).toBeGreaterThan(20);
    for (const p of per) {
      const k = Math.min(p.iteration - 1, history);
      expect(p.reads, `iteration ${p.iteration}`).toBe(p.evals + (p.iteration === 1 ? 1 : 0));
      expect(p.dots, `iteration ${p.iteration}`).toBeLessThanOrEqual(p.evals * (4 * k + 4));
    }
    const single = per.filter((p) => p.evals === 1);
    expect(single.length).toBeGreaterThan(per.length / 2);
    expect(counts.reads).toBe(1); // ‖∇J‖₁ for the first step
    expect(counts.evaluations).toBe(r.evaluations);
    // ≤ 1.2 readbacks per iteration on average over the run.
    expect((trips.readbacks - 1) / r.iterations).toBeLessThanOrEqual(1.2 + 1 / r.iterations);
  });

  it('CG: exactly E readbacks per iteration, 3 dots per evaluation', async () => {
    const { objective, counts, trips } = counting(rosenbrock([-1.2, 1]));
    let last = { reads: 1, dots: 1, evals: 1 }; // the start: J and ‖∇J‖² in one readback
    const per: { reads: number; dots: number; evals: number; iteration: number }[] = [];
    const r = await conjugateGradient(objective, {
      onIteration: (info) => {
        per.push({ reads: trips.readbacks - last.reads, dots: counts.dots - last.dots, evals: counts.evaluations - last.evals, iteration: info.iteration });
        last = { reads: trips.readbacks, dots: counts.dots, evals: counts.evaluations };
      },
    });
    expect(r.iterations).toBeGreaterThan(5);
    for (const p of per) {
      expect(p.reads, `iteration ${p.iteration}`).toBe(p.evals + (p.iteration === 1 ? 1 : 0));
      expect(p.dots, `iteration ${p.iteration}`).toBeLessThanOrEqual(3 * p.evals);
    }
    expect(counts.reads).toBe(1);
  });
});

// The pre-issue-12 implementations (test/reference), one dot readback per inner product.
describe('readbacks of the reference implementations', () => {
  const lbfgs = referenceLbfgs;
  const conjugateGradient = referenceCg;
  it('L-BFGS: at most 2·min(k, m) + 4 + E dot calls and E cost requests per iteration', async () => {
    const history = 5;
    const { objective, counts } = counting(rosenbrock(Array.from({ length: 10 }, (_, i) => (i % 2 ? 1 : -1.2))));
    const per: { dots: number; costs: number; evals: number; iteration: number }[] = [];
    let last = { dots: 0, costs: 0, evals: 0 };
    const r = await lbfgs(objective, {
      history,
      ...tight,
      onIteration: (info) => {
        per.push({ dots: counts.dots - last.dots, costs: counts.costRequests - last.costs, evals: counts.evaluations - last.evals, iteration: info.iteration });
        last = { dots: counts.dots, costs: counts.costRequests, evals: counts.evaluations };
      },
    });
    expect(r.iterations).toBeGreaterThan(20);
    // Before the first iteration: one evaluation (with cost) and ‖∇J‖².
    for (const p of per) {
      const k = Math.min(p.iteration - 1, history); // pairs stored when the direction was computed
      const bound = 2 * k + 4 + p.evals + (p.iteration === 1 ? 1 : 0);
      expect(p.dots, `iteration ${p.iteration}`).toBeLessThanOrEqual(bound);
      expect(p.costs).toBeLessThanOrEqual(p.evals);
    }
    // The typical iteration: one evaluation, 2m + 5 dots.
    const late = per.filter((p) => p.iteration > history + 1 && p.evals === 1);
    expect(late.length).toBeGreaterThan(10);
    // 2m (two-loop) + ∇Jᵀd + ‖d‖² + 1 (line search) + ‖∇J‖², + yᵀy when the pair is kept.
    for (const p of late) expect([2 * history + 4, 2 * history + 5]).toContain(p.dots);
    expect(late.filter((p) => p.dots === 2 * history + 5).length).toBeGreaterThan(late.length / 2);
    expect(counts.reads).toBe(1); // ‖∇J‖₁ for the first step
    expect(counts.evaluations).toBe(r.evaluations);
  });

  it('CG: 3 + E dot calls per iteration', async () => {
    const { objective, counts } = counting(rosenbrock([-1.2, 1]));
    let last = { dots: 0, evals: 0 };
    const per: { dots: number; evals: number; iteration: number }[] = [];
    await conjugateGradient(objective, {
      onIteration: (info) => {
        per.push({ dots: counts.dots - last.dots, evals: counts.evaluations - last.evals, iteration: info.iteration });
        last = { dots: counts.dots, evals: counts.evaluations };
      },
    });
    for (const p of per) expect(p.dots, `iteration ${p.iteration}`).toBeLessThanOrEqual(3 + p.evals + (p.iteration === 1 ? 1 : 0));
    expect(counts.reads).toBe(1);
  });

});

describe('vectors', () => {
  it('frees every vector it allocates', async () => {
    for (const method of [lbfgs, conjugateGradient]) {
      const obj = rosenbrock([-1.2, 1]);
      const live = new Set<Float64Array>();
      const ops = obj.ops;
      const wrapped = {
        ...obj,
        ops: {
          ...ops,
          alloc: () => {
            const v = ops.alloc();
            live.add(v);
            return v;
          },
          free: (v: Float64Array) => {
            expect(live.delete(v)).toBe(true);
          },
        },
      };
      await method(wrapped, { maxIterations: 30 });
      expect(live.size).toBe(0);
    }
  });
});
