// The keys of each optimizer's options and their types (schema.ts): `optimize`
// and the training configuration refuse unknown keys and keys of another
// method (`momentum` with adam, `epochs` with lbfgs) by name.

import { checkShape, type ObjectShape, type Shape, type TaggedShape } from '../schema.js';

/** A number or a schedule { type, lr, … } (schedules.ts). */
export const LEARNING_RATE_SHAPE: Shape = {
  anyOf: [
    'number',
    {
      tag: 'type',
      variants: {
        constant: { fields: { lr: 'number' }, required: ['lr'] },
        step: { fields: { lr: 'number', gamma: 'number', every: 'integer', per: 'string' }, required: ['lr', 'gamma', 'every'] },
        exponential: { fields: { lr: 'number', decay: 'number', per: 'string' }, required: ['lr', 'decay'] },
      },
    },
  ],
  describe: 'a number or a schedule { type, lr, … }',
};

const hooks = { onIteration: 'function', resume: 'any' } as const;
const firstOrder = { learningRate: LEARNING_RATE_SHAPE, costEvery: 'integer', costsInFlight: 'integer', onCost: 'function', finalCost: 'boolean', ...hooks } as const;
const miniBatch = { ...firstOrder, epochs: 'integer', iterations: 'integer', batchSize: 'integer', seed: 'number' } as const;
const sgd: ObjectShape = { fields: { ...miniBatch, momentum: 'number', nesterov: 'boolean' } };
const lineSearch = { maxIterations: 'integer', optTol: 'number', progTol: 'number', c1: 'number', c2: 'number', maxLineSearch: 'integer', ...hooks } as const;

export const OPTIMIZER_SHAPE: TaggedShape = {
  tag: 'method',
  variants: {
    gd: { fields: { ...firstOrder, iterations: 'integer' } },
    sgd,
    momentum: sgd,
    adam: { fields: { ...miniBatch, beta1: 'number', beta2: 'number', epsilon: 'number' } },
    lbfgs: { fields: { ...lineSearch, history: 'integer' } },
    cg: { fields: { ...lineSearch, restartEvery: 'integer', initialStep: 'string', speculate: 'integer' } },
  },
};

/** Throws SpecError for an unknown key, a key of another method or a value of the wrong type; `path` names the options. */
export function checkOptimizerShape(options: unknown, path: string): void {
  checkShape(options, OPTIMIZER_SHAPE, path);
}
