// One entry point for every optimizer, selected by `method`: the options a
// configuration file or the command line passes through.

import { SpecError } from '../spec.js';
import { checkOptimizerShape } from './options-shape.js';
import { conjugateGradient, type CgOptions } from './cg.js';
import { lbfgs, type LbfgsOptions } from './lbfgs.js';
import { adam, gradientDescent, momentum, sgd, type AdamOptions, type GradientDescentOptions, type MomentumOptions, type SgdOptions } from './sgd.js';
import type { Objective, OptimizeResult } from './types.js';

export const METHODS = ['gd', 'sgd', 'momentum', 'adam', 'lbfgs', 'cg'] as const;
export type OptimizerMethod = (typeof METHODS)[number];

/** Methods with a line search: they need a deterministic objective (a denoising network's noise fixed for the run). */
export function usesLineSearch(method: OptimizerMethod): boolean {
  return method === 'lbfgs' || method === 'cg';
}

/**
 * Optimizer settings, by `method`. Every setting is optional; defaults:
 *
 * - `gd` — batch gradient descent: `learningRate` 0.01 (number or schedule),
 *   `iterations` 100, `costEvery` 0 (never), `finalCost` false.
 * - `sgd` — mini-batch SGD: `learningRate` 0.01, `epochs` 10 (or `iterations`),
 *   `batchSize` 100 (1 = stochastic, ≥ m = batch), `seed` 0, `momentum` 0,
 *   `nesterov` false, `costEvery` 0, `finalCost` false.
 * - `momentum` — as `sgd` with `momentum` 0.9 (classical; `nesterov` for Nesterov).
 * - `adam` — `learningRate` 0.001, `beta1` 0.9, `beta2` 0.999, `epsilon` 1e-8,
 *   `epochs` 10, `batchSize` 100, `seed` 0, `costEvery` 0, `finalCost` false.
 * - `lbfgs` — `maxIterations` 400, `history` 10, `optTol` 1e-5 (on ‖∇J‖₂),
 *   `progTol` 1e-9, `c1` 1e-4, `c2` 0.9, `maxLineSearch` 25.
 * - `cg` — Polak–Ribière+: `maxIterations` 400, `restartEvery` n (number of
 *   parameters), `optTol` 1e-5, `progTol` 1e-9, `c1` 1e-4, `c2` 0.2,
 *   `maxLineSearch` 25.
 *
 * All take `onIteration` (return false to stop; `info.checkpoint()` captures
 * the optimizer's state) and `resume` (continue exactly from such a state,
 * taken by the same method, after restoring θ into `objective.theta`; see
 * {@link OptimizerState}).
 */
export type OptimizerOptions =
  | ({ method: 'gd' } & GradientDescentOptions)
  | ({ method: 'sgd' } & SgdOptions)
  | ({ method: 'momentum' } & MomentumOptions)
  | ({ method: 'adam' } & AdamOptions)
  | ({ method: 'lbfgs' } & LbfgsOptions)
  | ({ method: 'cg' } & CgOptions);

/** Runs the optimizer named by `options.method` on the objective (θ is updated in place). */
export async function optimize<V>(objective: Objective<V>, options: OptimizerOptions): Promise<OptimizeResult> {
  const method = (options as { method?: unknown } | null)?.method;
  if (!(METHODS as readonly unknown[]).includes(method)) throw new SpecError(`unknown optimizer method ${JSON.stringify(method)}; expected one of ${METHODS.join(', ')}`);
  checkOptimizerShape(options, 'options');
  if ((objective as { disposed?: boolean }).disposed) throw new SpecError('optimize: the objective has been disposed');
  switch (options.method) {
    case 'gd':
      return gradientDescent(objective, options);
    case 'sgd':
      return sgd(objective, options);
    case 'momentum':
      return momentum(objective, options);
    case 'adam':
      return adam(objective, options);
    case 'lbfgs':
      return lbfgs(objective, options);
    case 'cg':
      return conjugateGradient(objective, options);
    default:
      throw new SpecError(`unknown optimizer method ${JSON.stringify((options as { method?: unknown }).method)}; expected one of ${METHODS.join(', ')}`);
  }
}
