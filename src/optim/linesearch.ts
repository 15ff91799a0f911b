// Line search for the strong Wolfe conditions, after minFunc's
// WolfeLineSearch (Mark Schmidt) with cubic interpolation (LS_interp = 2):
// a bracketing phase that extrapolates with a safeguarded cubic until an
// interval holding an acceptable step is found, then a zoom phase that
// shrinks it by cubic interpolation, with minFunc's guard against trial steps
// too close to the ends of the interval.
//
// Differences from minFunc:
// - Only the scalars φ(t) = J(x + t·d) and φ'(t) = ∇J(x + t·d)ᵀd of each trial
//   point are kept, not its gradient. If the step returned is not the last
//   one evaluated (the bracket shrank below progTol, or the evaluation budget
//   ran out), the objective is evaluated there once more, gradient only, so
//   that θ and ∇J on return belong to the returned step.
// - A trial point with a non-finite cost or directional derivative counts as
//   a point of infinite cost: it closes the bracket and the next trial
//   bisects it (minFunc switches to Armijo backtracking and returns).
// - The low end of the bracket is the point of lowest cost among those that
//   satisfy sufficient decrease (as in Nocedal & Wright's zoom); minFunc takes
//   the lowest cost, so a first trial that fails sufficient decrease but lies
//   below J(x) became the low end and the search could end, after maxLS
//   evaluations, at a step that fails sufficient decrease (e.g. on
//   φ(t) = −t/(t² + 2) from t = 1000).
// - When the search ends without a Wolfe point (evaluation budget spent, or
//   bracket shorter than progTol) it returns, like minFunc, the lowest-cost
//   point tried (or t = 0 when none is below J(x)).
// - The bracket-width test |t₁ − t₂|·‖d‖ < progTol uses the ‖d‖ the caller
//   passes (‖d‖₂ from `dot`; minFunc uses ‖d‖∞).

import { evaluateWithDots } from './batched.js';
import { advance, meetsWolfe, startSearch, type SearchConstants } from './linesearch-state.js';
import type { DotPair, Objective, Trial, VectorOps } from './types.js';

export interface LineSearchOptions {
  /** Sufficient-decrease constant c1 of φ(t) ≤ φ(0) + c1·t·φ'(0) (default 1e-4). */
  c1?: number;
  /** Curvature constant c2 of |φ'(t)| ≤ c2·|φ'(0)| (default 0.9). */
  c2?: number;
  /** Most evaluations in one line search (minFunc's maxLS, default 25). */
  maxEvaluations?: number;
  /** The search stops once the bracket is shorter than this along d (default 1e-9). */
  progTol?: number;
  /**
   * How many trials to evaluate in the first trial's round trip where the
   * objective can (Objective.evaluateTrials, the GPU, which runs the search's
   * transitions on the device): 1 evaluates one trial per round trip. Worth it
   * when the first step is rarely accepted (CG); wasted work when it usually
   * is (L-BFGS). Default 1.
   */
  speculate?: number;
  /**
   * How far apart two values of J must be to tell them apart (absolute;
   * default: the objective's costResolution × |J(x)|, 0 when it states none).
   * On a float32 J (the GPU) late in a run, a line's decrease of J is a few
   * times its rounding: a trial whose J is level with the bracket's low end
   * within this is judged by its slope (it becomes the low end rather than
   * the high end), and a step from two points whose J are level comes from
   * their slopes alone (secantStep) instead of the cubic
   * (Objective.costResolution).
   */
  costNoise?: number;
}

/**
 * The relative distance within which a trial step computed on the device
 * (float32) stands for the one computed here: the search then takes the
 * device's step, whose J and φ' are exact for it.
 */
export const SPECULATIVE_STEP_TOLERANCE = 1e-4;

/**
 * What each trial evaluation also computes, in the same round trip (see
 * evaluateWithDots): the vector operations `after` records once ∇J of the
 * trial point is known (e.g. y = ∇J − ∇J_old), then the dot products `pairs`.
 */
export interface LineSearchProbe<V> {
  pairs: readonly DotPair<V>[];
  after?: () => void;
}

export const LINE_SEARCH_DEFAULTS = { c1: 1e-4, c2: 0.9, maxEvaluations: 25, progTol: 1e-9 } as const;

export interface LineSearchResult {
  /** The step t (0 when no point better than the start was found). */
  t: number;
  /** J(x + t·d). */
  f: number;
  /** ∇J(x + t·d)ᵀd. */
  gtd: number;
  /** Objective evaluations made (each but a final gradient-only one requests the cost). */
  evaluations: number;
  /** Directional derivatives ∇Jᵀd computed (one per trial, in that trial's readback). */
  dots: number;
  /** The probe's dot products at the returned step (empty without a probe). */
  probe: Float64Array;
  /** True when t satisfies the strong Wolfe conditions (on a noisy J: or Hager & Zhang's approximate ones). */
  wolfe: boolean;
  /** Evaluations made ahead (speculate) that the search did not use. */
  unused: number;
}

export { cubicMinimizer, interpolateStep, secantStep } from './linesearch-state.js';

/**
 * Searches along d from x for a step t satisfying the strong Wolfe conditions
 *   J(x + t·d) ≤ J(x) + c1·t·∇J(x)ᵀd  and  |∇J(x + t·d)ᵀd| ≤ c2·|∇J(x)ᵀd|.
 *
 * @param objective moved to x + t·d; on return `objective.theta` = x + t·d and
 *   `objective.grad` = ∇J there, for the returned t.
 * @param x the start point (not modified; must not be `objective.theta`).
 * @param f J(x).
 * @param gtd ∇J(x)ᵀd, negative.
 * @param d the search direction (not modified).
 * @param t the first trial step, > 0.
 * @param dNorm ‖d‖, for the bracket-width test.
 *
 * Cost: one readback per trial, holding J, ∇Jᵀd and the `probe`'s dot
 * products (plus, rarely, one more when the step returned is not the last
 * one tried).
 */
export async function wolfeLineSearch<V>(
  objective: Objective<V>,
  x: V,
  f: number,
  gtd: number,
  d: V,
  t: number,
  dNorm: number,
  options: LineSearchOptions = {},
  probe: LineSearchProbe<V> = { pairs: [] },
): Promise<LineSearchResult> {
  const c: SearchConstants = {
    f, gtd, dNorm,
    c1: options.c1 ?? LINE_SEARCH_DEFAULTS.c1,
    c2: options.c2 ?? LINE_SEARCH_DEFAULTS.c2,
    maxLS: options.maxEvaluations ?? LINE_SEARCH_DEFAULTS.maxEvaluations,
    progTol: options.progTol ?? LINE_SEARCH_DEFAULTS.progTol,
    noise: options.costNoise ?? (objective.costResolution ?? 0) * Math.abs(f),
  };
  const depth = Math.max(1, Math.floor(options.speculate ?? 1));
  const ops: VectorOps<V> = objective.ops;
  let evaluations = 0;
  let dots = 0;
  /** The step θ is at, and the dots there. */
  let lastT = NaN;
  let lastDots: Float64Array = new Float64Array(1);

  const moveTo = (s: number): void => {
    ops.copy(x, objective.theta);
    if (s !== 0) ops.axpy(s, d, objective.theta);
  };
  const pairs: DotPair<V>[] = [[objective.grad, d], ...probe.pairs];
  /** The trials evaluated ahead in the first round trip (speculate), in order. */
  let ahead: Trial[] = [];
  let unused = 0;
  /** A trial's value and slope; an illegal point (non-finite value or slope) gets φ = +∞. */
  const trial = (s: number, fs: number, ds: Float64Array): [number, number, number] => {
    evaluations++;
    dots++;
    const gs = ds[0]!;
    return [Number.isFinite(fs) && Number.isFinite(gs) ? fs : Infinity, gs, s];
  };
  /** φ(s), φ'(s) and the step evaluated: s, or the next step evaluated ahead when it is within SPECULATIVE_STEP_TOLERANCE of s. */
  const phi = async (s: number): Promise<[number, number, number]> => {
    const a = ahead.shift();
    if (a) {
      if (a.real && Math.abs(a.t - s) <= SPECULATIVE_STEP_TOLERANCE * Math.abs(s)) return trial(a.t, a.cost, a.dots);
      // The device's search went another way: what it evaluated after is of no use.
      unused += [a, ...ahead].filter((u) => u.real).length;
      ahead = [];
    }
    moveTo(s);
    const r = await evaluateWithDots(objective, pairs, { cost: true, after: probe.after });
    lastT = s;
    lastDots = r.dots;
    return trial(s, r.cost as number, r.dots);
  };
  /** The first trial, with the next ones evaluated ahead in the same round trip where the objective can. */
  const firstPhi = async (s: number): Promise<[number, number, number]> => {
    if (!(depth > 1 && objective.evaluateTrials && !probe.after)) return phi(s);
    moveTo(s);
    const r = await objective.evaluateTrials(pairs, x, d, { ...c, t: s }, depth);
    // θ, ∇J and the dots now belong to the step evaluated last.
    const last = r[r.length - 1]!;
    lastT = last.t;
    lastDots = last.dots;
    ahead = r.slice(1);
    return trial(s, r[0]!.cost, r[0]!.dots);
  };

  const st = startSearch(c, t);
  while (st.phase !== 'done') {
    const [fNew, gNew, used] = await (st.first ? firstPhi : phi)(st.t);
    st.t = used;
    advance(c, st, fNew, gNew);
  }
  unused += ahead.filter((u) => u.real).length;
  t = st.t;
  let lastProbe = lastDots.subarray(1);
  if (t !== lastT) {
    // θ and ∇J must belong to the step returned.
    moveTo(t);
    if (probe.pairs.length) {
      lastProbe = (await evaluateWithDots(objective, probe.pairs, { cost: false, after: probe.after })).dots;
    } else {
      await objective.evaluate({ cost: false });
    }
    evaluations++;
  }
  return { t, f: st.f, gtd: st.g, evaluations, dots, wolfe: meetsWolfe(c, t, st.f, st.g), probe: lastProbe, unused };
}
