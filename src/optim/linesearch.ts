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
import type { DotPair, Objective, VectorOps } from './types.js';

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
   * Evaluate the second trial in the first trial's round trip where the
   * objective can (Objective.evaluateTwoTrials, the GPU): worth it when the
   * first step is rarely accepted (CG), wasted work when it usually is (L-BFGS).
   * Default false.
   */
  speculate?: boolean;
  /**
   * How far apart two values of J must be to tell them apart (absolute;
   * default: the objective's costResolution × |J(x)|, 0 when it states none). In the zoom, a trial that meets the strong Wolfe conditions
   * but whose J is above the bracket's low end by no more than this ends the
   * search there: on a float32 J (the GPU) the low end may be lower only by
   * rounding, and shrinking the bracket towards it cannot meet the curvature
   * condition (Objective.costResolution).
   */
  costNoise?: number;
}

/**
 * The relative distance within which a second trial step computed on the
 * device (float32) stands for the one computed here: the search then takes the
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
  /** True when t satisfies the strong Wolfe conditions. */
  wolfe: boolean;
  /** Evaluations made ahead (speculate) that the search did not use. */
  unused: number;
}

/**
 * Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2) (values and
 * slopes), clamped to [lo, hi] (default: between the two points); the middle
 * of [lo, hi] when the cubic has no minimizer. minFunc's polyinterp for two
 * points with derivatives.
 */
export function cubicMinimizer(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, lo?: number, hi?: number): number {
  const [a, fa, ga, b, fb, gb] = x1 <= x2 ? [x1, f1, g1, x2, f2, g2] : [x2, f2, g2, x1, f1, g1];
  const low = lo ?? a;
  const high = hi ?? b;
  const d1 = ga + gb - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - ga * gb;
  if (disc >= 0) {
    const d2 = Math.sqrt(disc);
    const t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2));
    if (Number.isFinite(t)) return Math.min(Math.max(t, low), high);
  }
  return (low + high) / 2;
}

/**
 * The step of wolfeLineSearch's second trial, given the first: J(x) = f,
 * φ'(0) = gtd, the first step t and its J(x + t·d) = ft, φ'(t) = gt. Null when
 * the first trial meets the strong Wolfe conditions (the search ends there).
 * The GPU computes the same in float32 (shaders/linesearch.wgsl) to evaluate
 * the second trial without a round trip.
 */
export function secondTrialStep(f: number, gtd: number, t: number, ft: number, gt: number, c1: number, c2: number): number | null {
  // As phi: an illegal point has J = +∞, which fails sufficient decrease.
  const legal = Number.isFinite(ft) && Number.isFinite(gt);
  const fv = legal ? ft : Infinity;
  const zoom = (): number => {
    // The bracket [0, t]: the zoom's first step (insufProgress still false).
    let s = legal ? cubicMinimizer(0, f, gtd, t, fv, gt) : t / 2;
    if (Math.min(t - s, s) / t < 0.1 && (s >= t || s <= 0)) s = Math.abs(s - t) < Math.abs(s) ? t - 0.1 * t : 0.1 * t;
    return s;
  };
  if (fv > f + c1 * t * gtd) return zoom();
  if (Math.abs(gt) <= -c2 * gtd) return null;
  if (gt >= 0) return zoom();
  return cubicMinimizer(0, f, gtd, t, fv, gt, t + 0.01 * t, t * 10);
}

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
  const c1 = options.c1 ?? LINE_SEARCH_DEFAULTS.c1;
  const c2 = options.c2 ?? LINE_SEARCH_DEFAULTS.c2;
  const maxLS = options.maxEvaluations ?? LINE_SEARCH_DEFAULTS.maxEvaluations;
  const progTol = options.progTol ?? LINE_SEARCH_DEFAULTS.progTol;
  const costNoise = options.costNoise ?? (objective.costResolution ?? 0) * Math.abs(f);
  const ops: VectorOps<V> = objective.ops;
  let evaluations = 0;
  let dots = 0;
  let lastT = NaN;
  let lastProbe: Float64Array = new Float64Array(0);

  const moveTo = (s: number): void => {
    ops.copy(x, objective.theta);
    if (s !== 0) ops.axpy(s, d, objective.theta);
  };
  const pairs: DotPair<V>[] = [[objective.grad, d], ...probe.pairs];
  /** The second trial, evaluated ahead with the first (speculate). */
  let ahead: { t: number; f: number; dots: Float64Array } | null = null;
  let unused = 0;
  /** A trial's value and slope; an illegal point (non-finite value or slope) gets φ = +∞. */
  const trial = (s: number, fs: number, ds: Float64Array): [number, number, number] => {
    evaluations++;
    dots++;
    const gs = ds[0]!;
    lastProbe = ds.subarray(1);
    return [Number.isFinite(fs) && Number.isFinite(gs) ? fs : Infinity, gs, s];
  };
  /** φ(s), φ'(s) and the step evaluated: s, or the step evaluated ahead when it is within SPECULATIVE_STEP_TOLERANCE of s. */
  const phi = async (s: number): Promise<[number, number, number]> => {
    if (ahead) {
      const a = ahead;
      ahead = null;
      if (Math.abs(a.t - s) <= SPECULATIVE_STEP_TOLERANCE * Math.abs(s)) return trial(a.t, a.f, a.dots);
      unused++;
    }
    moveTo(s);
    lastT = s;
    const r = await evaluateWithDots(objective, pairs, { cost: true, after: probe.after });
    return trial(s, r.cost as number, r.dots);
  };
  /** The first trial, with the second evaluated ahead in the same round trip where the objective can. */
  const firstPhi = async (s: number): Promise<[number, number, number]> => {
    if (!(options.speculate && objective.evaluateTwoTrials && !probe.after)) return phi(s);
    moveTo(s);
    const r = await objective.evaluateTwoTrials(pairs, x, d, { f, gtd, t: s, c1, c2 });
    // θ, ∇J and the dots now belong to the step evaluated last.
    lastT = r.next.t;
    if (r.next.second) ahead = { t: r.next.t, f: r.next.cost, dots: r.next.dots };
    const out = trial(s, r.cost, r.dots);
    if (!r.next.second) lastProbe = r.next.dots.subarray(1);
    return out;
  };

  // The bracket: up to two points (step, value, slope).
  let bt: number[];
  let bf: number[];
  let bg: number[];
  let done = false;

  // ---- Bracketing phase
  let [fNew, gNew] = await firstPhi(t);
  let iter = 0;
  let tPrev = 0;
  let fPrev = f;
  let gPrev = gtd;
  for (;;) {
    if (iter >= maxLS) {
      bt = [0, t];
      bf = [f, fNew];
      bg = [gtd, gNew];
      break;
    }
    if (fNew > f + c1 * t * gtd || (iter > 1 && fNew >= fPrev)) {
      bt = [tPrev, t];
      bf = [fPrev, fNew];
      bg = [gPrev, gNew];
      break;
    }
    if (Math.abs(gNew) <= -c2 * gtd) {
      bt = [t];
      bf = [fNew];
      bg = [gNew];
      done = true;
      break;
    }
    if (gNew >= 0) {
      bt = [tPrev, t];
      bf = [fPrev, fNew];
      bg = [gPrev, gNew];
      break;
    }
    const temp = tPrev;
    tPrev = t;
    const minStep = t + 0.01 * (t - temp);
    const maxStep = t * 10;
    t = cubicMinimizer(temp, fPrev, gPrev, t, fNew, gNew, minStep, maxStep);
    fPrev = fNew;
    gPrev = gNew;
    [fNew, gNew, t] = await phi(t);
    iter++;
  }

  // ---- Zoom phase
  // The low end: lowest cost among the points with sufficient decrease.
  const merit = (i: number): number => (bf[i]! <= f + c1 * bt[i]! * gtd ? bf[i]! : Infinity);
  let insufProgress = false;
  while (!done && iter < maxLS) {
    const lo = merit(0) <= merit(1) ? 0 : 1;
    const hi = 1 - lo;
    const fLo = bf[lo]!;
    const legal = bf.every(Number.isFinite) && bg.every(Number.isFinite);
    t = legal ? cubicMinimizer(bt[0]!, bf[0]!, bg[0]!, bt[1]!, bf[1]!, bg[1]!) : (bt[0]! + bt[1]!) / 2;

    // Keep trial steps away from the ends of the bracket.
    const bMax = Math.max(bt[0]!, bt[1]!);
    const bMin = Math.min(bt[0]!, bt[1]!);
    if (Math.min(bMax - t, t - bMin) / (bMax - bMin) < 0.1) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - 0.1 * (bMax - bMin) : bMin + 0.1 * (bMax - bMin);
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }

    [fNew, gNew, t] = await phi(t);
    iter++;
    const armijo = fNew < f + c1 * t * gtd;
    if (armijo && fNew >= fLo && fNew - fLo <= costNoise && Math.abs(gNew) <= -c2 * gtd) {
      // A Wolfe point whose J is as low as the low end's within J's resolution.
      bt = [t];
      bf = [fNew];
      bg = [gNew];
      done = true;
      break;
    }
    if (!armijo || fNew >= fLo) {
      bt[hi] = t;
      bf[hi] = fNew;
      bg[hi] = gNew;
    } else {
      if (Math.abs(gNew) <= -c2 * gtd) {
        done = true;
      } else if (gNew * (bt[hi]! - bt[lo]!) >= 0) {
        bt[hi] = bt[lo]!;
        bf[hi] = bf[lo]!;
        bg[hi] = bg[lo]!;
      }
      bt[lo] = t;
      bf[lo] = fNew;
      bg[lo] = gNew;
    }
    if (!done && Math.abs(bt[0]! - bt[1]!) * dNorm < progTol) break;
  }

  const best = bf.length === 1 ? 0 : done ? (merit(0) <= merit(1) ? 0 : 1) : bf[0]! <= bf[1]! ? 0 : 1;
  t = bt[best]!;
  fNew = bf[best]!;
  gNew = bg[best]!;
  if (ahead) unused++;
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
  const wolfe = fNew <= f + c1 * t * gtd && Math.abs(gNew) <= -c2 * gtd;
  return { t, f: fNew, gtd: gNew, evaluations, dots, wolfe, probe: lastProbe, unused };
}
