import { describe, expect, it } from 'vitest';
import { checkLearningRate, learningRate } from '../src/optim/schedules.js';
import { SpecError } from '../src/spec.js';

describe('learning-rate schedules', () => {
  it('constant', () => {
    expect(learningRate(0.3, 0, 0)).toBe(0.3);
    expect(learningRate(0.3, 1000, 7)).toBe(0.3);
    expect(learningRate({ type: 'constant', lr: 0.2 }, 55, 3)).toBe(0.2);
  });

  it('step: ×gamma every `every` epochs (default) or iterations', () => {
    const s = { type: 'step', lr: 1, gamma: 0.5, every: 3 } as const;
    expect([0, 1, 2, 3, 4, 5, 6, 9].map((e) => learningRate(s, 999, e))).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.125]);
    const si = { type: 'step', lr: 0.1, gamma: 0.1, every: 100, per: 'iteration' } as const;
    expect(learningRate(si, 0, 5)).toBeCloseTo(0.1, 15);
    expect(learningRate(si, 99, 5)).toBeCloseTo(0.1, 15);
    expect(learningRate(si, 100, 5)).toBeCloseTo(0.01, 15);
    expect(learningRate(si, 250, 5)).toBeCloseTo(0.001, 15);
  });

  it('exponential: lr·decay^epoch or ^iteration', () => {
    const e = { type: 'exponential', lr: 2, decay: 0.9 } as const;
    expect(learningRate(e, 50, 0)).toBe(2);
    expect(learningRate(e, 50, 1)).toBeCloseTo(1.8, 15);
    expect(learningRate(e, 50, 3)).toBeCloseTo(2 * 0.729, 15);
    const ei = { type: 'exponential', lr: 1, decay: 0.5, per: 'iteration' } as const;
    expect(learningRate(ei, 4, 100)).toBe(0.0625);
  });

  it('rejects invalid schedules', () => {
    expect(() => checkLearningRate(0)).toThrow(SpecError);
    expect(() => checkLearningRate(-1)).toThrow(SpecError);
    expect(() => checkLearningRate(NaN)).toThrow(SpecError);
    expect(() => checkLearningRate({ type: 'step', lr: 1, gamma: 0.5, every: 0 })).toThrow(/every/);
    expect(() => checkLearningRate({ type: 'exponential', lr: 1, decay: 0 })).toThrow(/decay/);
    expect(() => checkLearningRate({ type: 'bogus', lr: 1 } as never)).toThrow(/unknown schedule/);
    expect(() => checkLearningRate({ type: 'step', lr: 1, gamma: 0.5, every: 2, per: 'week' as never })).toThrow(/per/);
    expect(() => checkLearningRate({ type: 'step', lr: 1, gamma: 0.5, every: 2, per: 'iteration' })).not.toThrow();
  });
});
