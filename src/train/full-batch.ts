// Settings and stopping rules shared by the full-batch methods that use the
// Wolfe line search (L-BFGS and nonlinear CG), after minFunc.

import { SpecError } from '../spec.js';
import { LINE_SEARCH_DEFAULTS } from './linesearch.js';
import type { OnIteration } from './types.js';

export interface LineSearchMethodOptions {
  /** Maximum number of iterations (default 400). */
  maxIterations?: number;
  /**
   * Stop when ‖∇J‖₂ ≤ optTol (default 1e-5). minFunc tests ‖∇J‖∞; only
   * inner products are available here (‖·‖∞ would need a full readback), and
   * ‖g‖₂ ≥ ‖g‖∞, so this test is at least as strict.
   */
  optTol?: number;
  /**
   * Lack of progress (default 1e-9): stop when |J_new − J_old| < progTol,
   * when the step t·‖d‖₂ ≤ progTol, or when the directional derivative
   * ∇Jᵀd > −progTol. Also the line search's smallest bracket along d.
   */
  progTol?: number;
  /** Sufficient-decrease constant of the line search (default 1e-4). */
  c1?: number;
  /** Most evaluations per line search (default 25). */
  maxLineSearch?: number;
  /** Called after each iteration with the cost, step and ‖∇J‖₂; return false to stop. */
  onIteration?: OnIteration;
}

export interface LineSearchMethodSettings {
  maxIterations: number;
  optTol: number;
  progTol: number;
  c1: number;
  c2: number;
  maxLineSearch: number;
  onIteration: OnIteration | undefined;
}

export function lineSearchSettings(o: LineSearchMethodOptions & { c2?: number }, defaultC2: number): LineSearchMethodSettings {
  const maxIterations = o.maxIterations ?? 400;
  if (!(maxIterations === Infinity || (Number.isInteger(maxIterations) && maxIterations >= 0))) {
    throw new SpecError(`maxIterations must be an integer ≥ 0, got ${maxIterations}`);
  }
  const optTol = o.optTol ?? 1e-5;
  const progTol = o.progTol ?? LINE_SEARCH_DEFAULTS.progTol;
  if (!(optTol >= 0)) throw new SpecError(`optTol must be ≥ 0, got ${optTol}`);
  if (!(progTol >= 0)) throw new SpecError(`progTol must be ≥ 0, got ${progTol}`);
  const c1 = o.c1 ?? LINE_SEARCH_DEFAULTS.c1;
  const c2 = o.c2 ?? defaultC2;
  if (!(c1 > 0 && c1 < c2 && c2 < 1)) throw new SpecError(`line search constants need 0 < c1 < c2 < 1, got c1 = ${c1}, c2 = ${c2}`);
  const maxLineSearch = o.maxLineSearch ?? LINE_SEARCH_DEFAULTS.maxEvaluations;
  if (!Number.isInteger(maxLineSearch) || maxLineSearch < 1) throw new SpecError(`maxLineSearch must be a positive integer, got ${maxLineSearch}`);
  return { maxIterations, optTol, progTol, c1, c2, maxLineSearch, onIteration: o.onIteration };
}

/** ‖v‖₁ via one readback of the vector (used once, for the first step t = min(1, 1/‖g‖₁)). */
export async function norm1<V>(ops: { read(v: V): Promise<Float64Array> }, v: V): Promise<number> {
  const a = await ops.read(v);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}
