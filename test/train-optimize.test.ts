import { describe, expect, it } from 'vitest';
import { METHODS, optimize, type OptimizerOptions } from '../src/optim/optimize.js';
import { SpecError } from '../src/spec.js';
import { maxAbsDiff, quadratic } from './train-problems.js';

describe('optimize', () => {
  const q = quadratic(6, 5, 1, 4);
  const settings: Record<(typeof METHODS)[number], OptimizerOptions> = {
    gd: { method: 'gd', learningRate: 0.25, iterations: 300 },
    sgd: { method: 'sgd', learningRate: 0.25, iterations: 300 },
    momentum: { method: 'momentum', learningRate: 0.1, momentum: 0.5, iterations: 300 },
    adam: { method: 'adam', learningRate: { type: 'exponential', lr: 0.05, decay: 0.99, per: 'iteration' }, iterations: 1500 },
    lbfgs: { method: 'lbfgs', optTol: 1e-10, progTol: 0 },
    cg: { method: 'cg', optTol: 1e-10, progTol: 0 },
  };

  for (const method of METHODS) {
    it(`method '${method}' reaches the minimum`, async () => {
      const obj = q.objective();
      const r = await optimize(obj, settings[method]);
      expect(r.iterations).toBeGreaterThan(0);
      expect(maxAbsDiff(obj.theta, q.solution)).toBeLessThan(method === 'adam' ? 1e-4 : 1e-8);
    });
  }

  it('rejects an unknown method and bad settings', async () => {
    const obj = q.objective();
    await expect(optimize(obj, { method: 'newton' } as never)).rejects.toThrow(SpecError);
    await expect(optimize(obj, { method: 'newton' } as never)).rejects.toThrow(/unknown optimizer method "newton"/);
    await expect(optimize(obj, { method: 'lbfgs', history: 0 })).rejects.toThrow(/history/);
    await expect(optimize(obj, { method: 'lbfgs', c1: 0.95 })).rejects.toThrow(/c1/);
    await expect(optimize(obj, { method: 'cg', restartEvery: 0 })).rejects.toThrow(/restartEvery/);
    await expect(optimize(obj, { method: 'cg', maxLineSearch: 0 })).rejects.toThrow(/maxLineSearch/);
  });
});
