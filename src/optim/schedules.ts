// Learning-rate schedules for the first-order methods (GD, SGD, momentum, Adam).

import { SpecError } from '../spec.js';

/** What a schedule counts: completed epochs (default) or completed iterations (parameter updates). */
export type ScheduleUnit = 'epoch' | 'iteration';

/**
 * A learning rate: a number (constant), or a schedule. With k the number of
 * completed epochs (`per: 'epoch'`, the default) or of completed iterations
 * (`per: 'iteration'`) before the update:
 * - `constant`: lr.
 * - `step`: lr · gamma^⌊k / every⌋ (multiplied by gamma every `every` epochs or iterations).
 * - `exponential`: lr · decay^k.
 */
export type LearningRate =
  | number
  | { type: 'constant'; lr: number }
  | { type: 'step'; lr: number; gamma: number; every: number; per?: ScheduleUnit }
  | { type: 'exponential'; lr: number; decay: number; per?: ScheduleUnit };

function positive(x: unknown, what: string): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new SpecError(`${what} must be a positive number, got ${String(x)}`);
}

/** Throws SpecError when the learning rate or schedule is invalid. */
export function checkLearningRate(spec: LearningRate): void {
  if (typeof spec === 'number') return positive(spec, 'learning rate');
  if (!spec || typeof spec !== 'object') throw new SpecError(`learning rate must be a number or a schedule, got ${String(spec)}`);
  positive(spec.lr, `${spec.type} schedule lr`);
  if ('per' in spec && spec.per !== undefined && spec.per !== 'epoch' && spec.per !== 'iteration') {
    throw new SpecError(`schedule per must be 'epoch' or 'iteration', got ${JSON.stringify(spec.per)}`);
  }
  switch (spec.type) {
    case 'constant':
      return;
    case 'step':
      positive(spec.gamma, 'step schedule gamma');
      if (!Number.isInteger(spec.every) || spec.every < 1) throw new SpecError(`step schedule every must be a positive integer, got ${spec.every}`);
      return;
    case 'exponential':
      positive(spec.decay, 'exponential schedule decay');
      return;
    default:
      throw new SpecError(`unknown schedule type ${JSON.stringify((spec as { type: unknown }).type)}; expected constant, step or exponential`);
  }
}

/**
 * The learning rate for the update after `iteration` completed iterations,
 * during epoch `epoch` (both counted from 0).
 */
export function learningRate(spec: LearningRate, iteration: number, epoch: number): number {
  if (typeof spec === 'number') return spec;
  switch (spec.type) {
    case 'constant':
      return spec.lr;
    case 'step': {
      const k = (spec.per ?? 'epoch') === 'epoch' ? epoch : iteration;
      return spec.lr * spec.gamma ** Math.floor(k / spec.every);
    }
    case 'exponential': {
      const k = (spec.per ?? 'epoch') === 'epoch' ? epoch : iteration;
      return spec.lr * spec.decay ** k;
    }
  }
}
