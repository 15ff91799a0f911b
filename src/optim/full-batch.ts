// Settings and stopping rules shared by the full-batch methods that use the
// Wolfe line search (L-BFGS and nonlinear CG), after minFunc.

import { SpecError } from '../spec.js';
import { evaluateWithDots } from './batched.js';
import { LINE_SEARCH_DEFAULTS } from './linesearch.js';
import type { Objective, OnIteration, OptimizerState, StopReason } from './types.js';

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
  /**
   * Called after each iteration with the cost, step and ‖∇J‖₂; return false
   * to stop. `info.checkpoint()` captures the state for `resume`.
   */
  onIteration?: OnIteration;
  /**
   * Continue the run from a state taken by `info.checkpoint()` of the same
   * method. Restore θ (saved when the state was taken) into
   * `objective.theta` first: the optimizer evaluates the objective there once
   * (not counted in `evaluations`) to recover ∇J, and rejects a θ whose cost
   * differs from the state's. The iteration count goes on from the state, so
   * `maxIterations` is a total over both runs.
   */
  resume?: OptimizerState;
}

export interface LineSearchMethodSettings {
  maxIterations: number;
  optTol: number;
  progTol: number;
  c1: number;
  c2: number;
  maxLineSearch: number;
  onIteration: OnIteration | undefined;
  resume: OptimizerState | undefined;
}

/**
 * A line search compares J at several steps along one direction, so J must not
 * change between evaluations: an objective on a schedule (Objective.schedule,
 * e.g. k-sparse annealing) is refused.
 */
export function assertFixedObjective(objective: Pick<Objective<unknown>, 'schedule'>, method: string): void {
  if (objective.schedule) {
    throw new SpecError(`${method} needs a fixed objective for its line search, but this one changes during training (${objective.schedule}); train it with a first-order method (gd, sgd, momentum, adam), or drop the schedule`);
  }
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
  return { maxIterations, optTol, progTol, c1, c2, maxLineSearch, onIteration: o.onIteration, resume: o.resume };
}

/** ‖v‖₁ via one readback of the vector (used once, for the first step t = min(1, 1/‖g‖₁)). */
export async function norm1<V>(ops: { read(v: V): Promise<Float64Array> }, v: V): Promise<number> {
  const a = await ops.read(v);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

/**
 * On resume: evaluates the objective at the restored θ (for ∇J) and checks
 * that its cost matches the cost `f` the state recorded at that θ. On a
 * deterministic objective with θ restored exactly they are equal bitwise; a
 * relative difference above 1e-4 means θ was not restored (throws). Returns
 * the new cost.
 */
export async function reevaluateAt<V>(objective: Objective<V>, f: number, method: string): Promise<{ f: number; gg: number }> {
  const { cost, dots } = await evaluateWithDots(objective, [[objective.grad, objective.grad]]);
  const fNow = cost as number;
  if (!(Math.abs(fNow - f) <= 1e-4 * Math.max(Math.abs(f), Math.abs(fNow)) + 1e-300)) {
    throw new Error(
      `${method} resume: J(θ) = ${fNow} at the current θ, but the state was taken at a θ with J = ${f}; ` +
        'restore the θ saved with the checkpoint into objective.theta before resuming',
    );
  }
  return { f: fNow, gg: dots[0]! };
}

/**
 * J and ‖∇J‖² (one readback) where a full-batch method starts, with x ← θ: at the initial θ
 * (`resumedF` null; a non-finite cost or gradient throws), or at the restored θ
 * of a resume (checked against the state's cost by reevaluateAt).
 */
export async function startingPoint<V>(objective: Objective<V>, x: V, method: string, resumedF: number | null): Promise<{ f: number; gg: number }> {
  const ops = objective.ops;
  let f: number;
  let gg: number;
  if (resumedF === null) {
    // J and ‖∇J‖² in one readback.
    const r = await evaluateWithDots(objective, [[objective.grad, objective.grad]]);
    [f, gg] = [r.cost as number, r.dots[0]!];
  } else {
    ({ f, gg } = await reevaluateAt(objective, resumedF, method));
  }
  ops.copy(objective.theta, x);
  if (resumedF === null && (!Number.isFinite(f) || !Number.isFinite(gg))) {
    throw new Error(`${method}: the cost or gradient at the starting point is not finite (J = ${f}, ‖∇J‖² = ${gg})`);
  }
  return { f, gg };
}

/**
 * The stopping tests of L-BFGS and CG (minFunc's), each run on the values
 * given, in this order: ‖∇J‖₂ ≤ optTol ('gradient'); the step t·‖d‖ ≤
 * progTol ('step'); |J − J_old| < progTol ('progress'); iteration ≥
 * maxIterations ('iterations'); the directional derivative ∇Jᵀd > −progTol
 * ('progress'). The methods call it at the start (gg), at the top of an
 * iteration (iteration), once the direction is known (gtd) and after
 * onIteration (gg, t, dNorm, f, fOld). Returns the reason, or null.
 */
export function stopTest(
  s: LineSearchMethodSettings,
  v: { gg?: number; t?: number; dNorm?: number; f?: number; fOld?: number; iteration?: number; gtd?: number },
): StopReason | null {
  if (v.gg !== undefined && Math.sqrt(v.gg) <= s.optTol) return 'gradient';
  if (v.t !== undefined && v.dNorm !== undefined && v.t * v.dNorm <= s.progTol) return 'step';
  if (v.f !== undefined && v.fOld !== undefined && Math.abs(v.f - v.fOld) < s.progTol) return 'progress';
  if (v.iteration !== undefined && v.iteration >= s.maxIterations) return 'iterations';
  if (v.gtd !== undefined && v.gtd > -s.progTol) return 'progress';
  return null;
}

/** The tests that follow onIteration (kept for the pre-issue-12 reference copies in test/reference). */
export function stopAfterIteration(s: LineSearchMethodSettings, gg: number, t: number, dNorm: number, f: number, fOld: number): StopReason | null {
  return stopTest(s, { gg, t, dNorm, f, fOld });
}
