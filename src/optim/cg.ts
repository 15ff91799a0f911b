// Nonlinear conjugate gradient, Polak–Ribière+ (after minFunc's 'cg'):
//   β = max(0, ∇Jᵀ(∇J − ∇J_old) / ∇J_oldᵀ∇J_old),  d ← −∇J + β·d,
// restarted with d = −∇J every `restartEvery` iterations and whenever d is
// not a descent direction (∇Jᵀd > −progTol). Same strong-Wolfe line search
// as L-BFGS, with minFunc's CG constant c2 = 0.2. The first trial step
// (t = min(1, 1/‖∇J‖₁) on the first iteration) is by default Nocedal &
// Wright's (3.60), t = t_prev·∇J_prevᵀd_prev / ∇Jᵀd, the step that repeats the
// previous iteration's first-order decrease ('previous'). The alternatives:
// 'curvature', the minimizer along d of the quadratic model whose Hessian is
// the Barzilai–Borwein scalar of the last step s = t_prev·d_prev,
// y = ∇J − ∇J_prev:
//   t = −∇Jᵀd / (κ·‖d‖²),  κ = sᵀy / sᵀs = (∇Jᵀd_prev − ∇J_prevᵀd_prev) / (t_prev·‖d_prev‖²)
// (falling back to 'previous' when κ ≤ 0), and 'quadratic', minFunc's CG
// default t = min(1, 2·(J − J_prev)/∇Jᵀd). On the UFLDL problem 'previous'
// needs 2.0–2.3 trials per iteration against 2.4 for 'quadratic' and reaches a
// lower J for the same number of evaluations; 'curvature' needs fewer trials
// still there (2.1 on the GPU) but ends less precisely on an ill-conditioned
// quadratic (README, "Round trips").
//
// Round trips: each trial's evaluation also computes the three dot products
// an iteration needs, ∇Jᵀd (the slope), ∇Jᵀ∇J and ∇Jᵀ∇J_old, and reads them
// back with J (evaluateWithDots). Everything else follows from scalars:
// ∇Jᵀd_new = −‖∇J‖² + β·∇Jᵀd_old and
// ‖d_new‖² = ‖∇J‖² − 2β·∇Jᵀd_old + β²·‖d_old‖². With c2 = 0.2 the first
// trial step rarely meets the strong Wolfe conditions and the second usually
// does, so the line search speculates (`speculate`, default 3): on the GPU the
// search's transitions run on the device after each trial
// (shaders/linesearch.wgsl), which moves θ to the next trial step and
// evaluates there in the same round trip (Objective.evaluateTrials). An
// iteration whose search needs at most 3 trials costs one readback (the first
// iteration one more, for ‖∇J‖₁), at the price of evaluating 3 points when 1
// or 2 would do. The iterates are those of the search without speculation up
// to float32 rounding of the device's steps (linesearch.ts).
//
// Vectors: x, d and ∇J_old (3 in all).
//
// Checkpoints (`info.checkpoint()`, `resume`): the state holds d and ∇J_old
// (vectors `d`, `gOld`), and the scalars J (`f`), J before the last step
// (`fPrev`), ‖∇J‖² (`gg`), ‖∇J_old‖² (`ggOld`), ∇Jᵀ∇J_old (`ggo`), the last
// line search's slope at its start (`gtd0`) and end (`lsGtd`), its step `t`, ‖d‖ (`dNorm`), ‖d‖² (`dd`)
// and the iterations since the last restart (`sinceRestart`). On resume the
// objective is evaluated once at the restored θ to recover ∇J (and J, checked
// against `f`); then the stopping tests that followed the checkpointed
// iteration run on the stored scalars, and the iterations go on: β, the next
// direction, the first trial step and the restart schedule come out as in the
// uninterrupted run. (A state without `ggo`/`dd`, written before they
// existed, has them recomputed from the vectors.)

import { scratchVectors } from './scratch.js';
import { SpecError } from '../spec.js';
import { assertFixedObjective, lineSearchSettings, norm1, startingPoint, stopTest, type LineSearchMethodOptions } from './full-batch.js';
import { wolfeLineSearch } from './linesearch.js';
import { checkState, reportIteration, expectVectors, restoreVector, stateInteger, stateNumber } from './state.js';
import type { Objective, OptimizeResult, StopReason } from './types.js';

export interface CgOptions extends LineSearchMethodOptions {
  /** Curvature constant of the strong Wolfe conditions (default 0.2, minFunc's for CG). */
  c2?: number;
  /** Restart with steepest descent every this many iterations (default: the number of parameters n). */
  restartEvery?: number;
  /**
   * The first trial step of each line search after the first: 'previous'
   * (default), t_prev·∇J_prevᵀd_prev/∇Jᵀd (Nocedal & Wright 3.60);
   * 'curvature', −∇Jᵀd/(κ‖d‖²) with κ the Barzilai–Borwein curvature sᵀy/sᵀs
   * of the last step; or 'quadratic', min(1, 2·(J − J_prev)/∇Jᵀd) (minFunc's CG default).
   */
  initialStep?: (typeof CG_INITIAL_STEPS)[number];
  /**
   * Line-search trials evaluated in one round trip on an objective that can
   * (the GPU: Objective.evaluateTrials): the first, and the ones the search
   * would take next, chosen on the device (default 3). Each iteration then
   * evaluates this many points even when the first or second is accepted, so
   * more trades GPU work for round trips; 1 waits for each trial.
   */
  speculate?: number;
}

export const CG_INITIAL_STEPS = ['previous', 'curvature', 'quadratic'] as const;

export const CG_DEFAULTS = { maxIterations: 400, optTol: 1e-5, progTol: 1e-9, c1: 1e-4, c2: 0.2, maxLineSearch: 25, speculate: 3 } as const;

/**
 * Minimizes the objective over all examples with Polak–Ribière+ conjugate
 * gradient. θ ends at the last iterate and `grad` holds ∇J there. The info
 * passed to `onIteration` is as for L-BFGS.
 */
export async function conjugateGradient<V>(objective: Objective<V>, options: CgOptions = {}): Promise<OptimizeResult> {
  assertFixedObjective(objective, 'cg');
  const s = lineSearchSettings(options, CG_DEFAULTS.c2);
  const ops = objective.ops;
  const restartEvery = options.restartEvery ?? Math.max(1, ops.n);
  const initialStep = options.initialStep ?? 'previous';
  const speculate = options.speculate ?? CG_DEFAULTS.speculate;
  if (!(Number.isInteger(speculate) && speculate >= 1)) throw new SpecError(`speculate must be a positive integer (trials per round trip), got ${JSON.stringify(speculate)}`);
  if (!CG_INITIAL_STEPS.includes(initialStep)) {
    throw new SpecError(`initialStep must be one of ${CG_INITIAL_STEPS.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(initialStep)}`);
  }
  if (!(restartEvery === Infinity || (Number.isInteger(restartEvery) && restartEvery >= 1))) {
    throw new SpecError(`restartEvery must be a positive integer, got ${restartEvery}`);
  }
  const scratch = scratchVectors(ops);
  const alloc = scratch.alloc;

  try {
    const x = alloc();
    const d = alloc();
    const gOld = alloc();
    const g = objective.grad;

    let evaluations = 0;
    let iteration = 0;
    let f: number;
    let gg: number;
    let reason: StopReason | null = null;
    let fPrev: number;
    let ggOld: number;
    let ggo = 0; // ∇Jᵀ∇J_old
    let dd = 0; // ‖d‖²
    let lsGtd = 0; // ∇J_newᵀd_old from the last line search
    let lsStep = NaN; // the last line search's step,
    let lsGtd0 = NaN; // its ∇Jᵀd at the start
    let lsDd = NaN; // and ‖d‖² of its direction
    let sinceRestart = 0;
    if (s.resume) {
      const st = s.resume;
      checkState(st, 'cg', ops.n);
      expectVectors(st, ['d', 'gOld'], 'CG');
      const fState = stateNumber(st, 'f');
      const ggState = stateNumber(st, 'gg');
      const t = stateNumber(st, 't');
      const dNorm = stateNumber(st, 'dNorm');
      lsStep = t;
      // A state written before 'previous' existed lacks gtd0: its next first step is the quadratic one.
      lsGtd0 = st.scalars['gtd0'] === undefined ? NaN : stateNumber(st, 'gtd0');
      fPrev = stateNumber(st, 'fPrev');
      ggOld = stateNumber(st, 'ggOld');
      lsGtd = stateNumber(st, 'lsGtd');
      sinceRestart = stateInteger(st, 'sinceRestart');
      restoreVector(ops, st, 'd', d);
      restoreVector(ops, st, 'gOld', gOld);
      iteration = st.iteration;
      evaluations = st.evaluations;
      ({ f } = await startingPoint(objective, x, 'CG', fState));
      gg = ggState;
      if (st.scalars['ggo'] === undefined || st.scalars['dd'] === undefined) {
        [ggo, dd] = await ops.dots([[g, gOld], [d, d]]);
      } else {
        ggo = stateNumber(st, 'ggo');
        dd = stateNumber(st, 'dd');
      }
      lsDd = dd;
      // The tests that followed the checkpointed iteration's onIteration.
      reason = stopTest(s, { gg: ggState, t, dNorm, f: fState, fOld: fPrev });
    } else {
      ({ f, gg } = await startingPoint(objective, x, 'CG', null));
      evaluations++;
      fPrev = f;
      ggOld = gg;
      reason = stopTest(s, { gg });
    }

    while (reason === null) {
      reason = stopTest(s, { iteration });
      if (reason !== null) break;
      let gtd = 0;
      let restart = iteration === 0 || sinceRestart >= restartEvery;
      if (!restart) {
        const beta = Math.max(0, (gg - ggo) / ggOld);
        gtd = -gg + beta * lsGtd;
        if (beta > 0 && Number.isFinite(gtd) && gtd <= -s.progTol) {
          ops.axpby(-1, g, beta, d);
          dd = gg - 2 * beta * lsGtd + beta * beta * dd;
        } else {
          restart = true;
        }
      }
      if (restart) {
        ops.copy(g, d);
        ops.scale(-1, d);
        gtd = -gg;
        dd = gg;
        sinceRestart = 0;
      }
      reason = stopTest(s, { gtd });
      if (reason !== null) break;
      const dNorm = Math.sqrt(dd);
      let t0: number;
      if (iteration === 0) {
        t0 = Math.min(1, 1 / (await norm1(ops, g)));
      } else {
        t0 = firstStep(initialStep, { f, fPrev, gtd, dd, lsStep, lsGtd0, lsGtd, lsDd });
      }
      fPrev = f;
      ops.copy(g, gOld);
      ggOld = gg;

      const ls = await wolfeLineSearch(objective, x, f, gtd, d, t0, dNorm, { c1: s.c1, c2: s.c2, maxEvaluations: s.maxLineSearch, progTol: s.progTol, speculate }, { pairs: [[g, g], [g, gOld]] });
      evaluations += ls.evaluations;
      iteration++;
      sinceRestart++;
      const t = ls.t;
      lsStep = t;
      lsGtd0 = gtd;
      lsDd = dd;
      f = ls.f;
      lsGtd = ls.gtd;
      ops.copy(objective.theta, x);
      [gg, ggo] = [ls.probe[0]!, ls.probe[1]!];

      if (s.onIteration) {
        const scalars = { n: ops.n, f, fPrev, gg, ggOld, ggo, dd, lsGtd, gtd0: gtd, sinceRestart, t, dNorm };
        const info = { iteration, epoch: iteration - 1, cost: f, stepSize: t, evaluations, gradNorm: Math.sqrt(gg) };
        if (await reportIteration(ops, s.onIteration, info, 'cg', scalars, { d, gOld })) {
          reason = 'callback';
          break;
        }
      }
      reason = stopTest(s, { gg, t, dNorm, f, fOld: fPrev });
    }
    await ops.flush();
    return { iterations: iteration, evaluations, cost: f, reason };
  } finally {
    scratch.freeAll();
  }
}

/**
 * The first trial step of a line search after the first (see the top of this
 * file): gtd = ∇Jᵀd and dd = ‖d‖² of the new direction; lsStep, lsGtd0, lsGtd
 * and lsDd the last search's step, slopes at its start and end, and ‖d_prev‖².
 * A rule whose inputs are missing (a state from before they were stored) or
 * give no positive finite step falls back to the next: curvature → previous →
 * quadratic → 1.
 */
function firstStep(
  rule: (typeof CG_INITIAL_STEPS)[number],
  v: { f: number; fPrev: number; gtd: number; dd: number; lsStep: number; lsGtd0: number; lsGtd: number; lsDd: number },
): number {
  const ok = (t: number): boolean => t > 0 && Number.isFinite(t);
  if (rule === 'curvature') {
    // κ = sᵀy/sᵀs with s = t_prev·d_prev: sᵀy = t_prev·(∇Jᵀd_prev − ∇J_prevᵀd_prev).
    const kappa = (v.lsGtd - v.lsGtd0) / (v.lsStep * v.lsDd);
    const t = -v.gtd / (kappa * v.dd);
    if (kappa > 0 && ok(t)) return t;
  }
  if (rule !== 'quadratic') {
    const t = (v.lsStep * v.lsGtd0) / v.gtd;
    if (ok(t)) return t;
  }
  const t = Math.min(1, (2 * (v.f - v.fPrev)) / v.gtd);
  return ok(t) ? t : 1;
}
