// REFERENCE COPY (test only): the implementation before issue 12 (one dot readback per inner
// product), kept to check that the one-readback-per-iteration form goes
// through the same iterates (test/train-batched-equivalence.test.ts).
// Nonlinear conjugate gradient, Polak–Ribière+ (after minFunc's 'cg'):
//   β = max(0, ∇Jᵀ(∇J − ∇J_old) / ∇J_oldᵀ∇J_old),  d ← −∇J + β·d,
// restarted with d = −∇J every `restartEvery` iterations and whenever d is
// not a descent direction (∇Jᵀd > −progTol). Same strong-Wolfe line search
// as L-BFGS, with minFunc's CG defaults: c2 = 0.2 and the first trial step
// t = min(1, 2·(J − J_prev)/∇Jᵀd) (t = min(1, 1/‖∇J‖₁) on the first iteration).
//
// Vectors: x, d and ∇J_old (3 in all). Dot calls per iteration, with E
// line-search evaluations: 1 (∇Jᵀ∇J_old) + 1 (‖d‖²) + E + 1 (‖∇J‖²), and E
// cost readbacks. ∇Jᵀd needs no dot: ∇Jᵀd = −‖∇J‖² + β·∇Jᵀd_old, and
// ∇Jᵀd_old is the line search's final slope.
//
// Checkpoints (`info.checkpoint()`, `resume`): the state holds d and ∇J_old
// (vectors `d`, `gOld`), and the scalars J (`f`), J before the last step
// (`fPrev`), ‖∇J‖² (`gg`), ‖∇J_old‖² (`ggOld`), the last line search's slope
// (`lsGtd`), its step `t`, ‖d‖ (`dNorm`) and the iterations since the last
// restart (`sinceRestart`). On resume the objective is evaluated once at the
// restored θ to recover ∇J (and J, checked against `f`); then the stopping
// tests that followed the checkpointed iteration run on the stored scalars,
// and the iterations go on: β, the next direction, the first trial step and
// the restart schedule come out as in the uninterrupted run.

import { SpecError } from '../../src/spec.js';
import { lineSearchSettings, norm1, startingPoint, stopAfterIteration, type LineSearchMethodOptions } from '../../src/optim/full-batch.js';
import { wolfeLineSearch } from './linesearch.js';
import { checkState, reportIteration, expectVectors, restoreVector, stateInteger, stateNumber } from '../../src/optim/state.js';
import type { Objective, OptimizeResult, StopReason } from '../../src/optim/types.js';

export interface CgOptions extends LineSearchMethodOptions {
  /** Curvature constant of the strong Wolfe conditions (default 0.2, minFunc's for CG). */
  c2?: number;
  /** Restart with steepest descent every this many iterations (default: the number of parameters n). */
  restartEvery?: number;
}

export const CG_DEFAULTS = { maxIterations: 400, optTol: 1e-5, progTol: 1e-9, c1: 1e-4, c2: 0.2, maxLineSearch: 25 } as const;

/**
 * Minimizes the objective over all examples with Polak–Ribière+ conjugate
 * gradient. θ ends at the last iterate and `grad` holds ∇J there. The info
 * passed to `onIteration` is as for L-BFGS.
 */
export async function conjugateGradient<V>(objective: Objective<V>, options: CgOptions = {}): Promise<OptimizeResult> {
  const s = lineSearchSettings(options, CG_DEFAULTS.c2);
  const ops = objective.ops;
  const restartEvery = options.restartEvery ?? Math.max(1, ops.n);
  if (!(restartEvery === Infinity || (Number.isInteger(restartEvery) && restartEvery >= 1))) {
    throw new SpecError(`restartEvery must be a positive integer, got ${restartEvery}`);
  }
  const owned: V[] = [];
  const alloc = (): V => {
    const v = ops.alloc();
    owned.push(v);
    return v;
  };

  try {
    const x = alloc();
    const d = alloc();
    const gOld = alloc();

    let evaluations = 0;
    let iteration = 0;
    let f: number;
    let gg: number;
    let reason: StopReason | null = null;
    let fPrev: number;
    let ggOld: number;
    let lsGtd = 0; // ∇J_newᵀd_old from the last line search
    let sinceRestart = 0;
    if (s.resume) {
      const st = s.resume;
      checkState(st, 'cg', ops.n);
      expectVectors(st, ['d', 'gOld'], 'CG');
      const fState = stateNumber(st, 'f');
      const ggState = stateNumber(st, 'gg');
      const t = stateNumber(st, 't');
      const dNorm = stateNumber(st, 'dNorm');
      fPrev = stateNumber(st, 'fPrev');
      ggOld = stateNumber(st, 'ggOld');
      lsGtd = stateNumber(st, 'lsGtd');
      sinceRestart = stateInteger(st, 'sinceRestart');
      restoreVector(ops, st, 'd', d);
      restoreVector(ops, st, 'gOld', gOld);
      iteration = st.iteration;
      evaluations = st.evaluations;
      ({ f, gg } = await startingPoint(objective, x, 'CG', fState));
      // The tests that followed the checkpointed iteration's onIteration.
      reason = stopAfterIteration(s, ggState, t, dNorm, fState, fPrev);
    } else {
      ({ f, gg } = await startingPoint(objective, x, 'CG', null));
      evaluations++;
      fPrev = f;
      ggOld = gg;
      if (Math.sqrt(gg) <= s.optTol) reason = 'gradient';
    }

    if (reason === null) {
      for (;;) {
        if (iteration >= s.maxIterations) {
          reason = 'iterations';
          break;
        }
        let gtd: number;
        let restart = iteration === 0 || sinceRestart >= restartEvery;
        if (!restart) {
          const ggo = await ops.dot(objective.grad, gOld);
          const beta = Math.max(0, (gg - ggo) / ggOld);
          gtd = -gg + beta * lsGtd;
          if (beta > 0 && Number.isFinite(gtd) && gtd <= -s.progTol) {
            ops.axpby(-1, objective.grad, beta, d);
          } else {
            restart = true;
          }
        }
        if (restart) {
          ops.copy(objective.grad, d);
          ops.scale(-1, d);
          gtd = -gg;
          sinceRestart = 0;
        }
        if (gtd! > -s.progTol) {
          reason = 'progress';
          break;
        }
        const dNorm = Math.sqrt(await ops.dot(d, d));
        let t0: number;
        if (iteration === 0) {
          t0 = Math.min(1, 1 / (await norm1(ops, objective.grad)));
        } else {
          t0 = Math.min(1, (2 * (f - fPrev)) / gtd!);
          if (!(t0 > 0)) t0 = 1;
        }
        fPrev = f;
        ops.copy(objective.grad, gOld);
        ggOld = gg;

        const ls = await wolfeLineSearch(objective, x, f, gtd!, d, t0, dNorm, { c1: s.c1, c2: s.c2, maxEvaluations: s.maxLineSearch, progTol: s.progTol });
        evaluations += ls.evaluations;
        iteration++;
        sinceRestart++;
        const t = ls.t;
        f = ls.f;
        lsGtd = ls.gtd;
        ops.copy(objective.theta, x);
        gg = await ops.dot(objective.grad, objective.grad);

        if (s.onIteration) {
          const scalars = { n: ops.n, f, fPrev, gg, ggOld, lsGtd, sinceRestart, t, dNorm };
          const info = { iteration, epoch: iteration - 1, cost: f, stepSize: t, evaluations, gradNorm: Math.sqrt(gg) };
          if (await reportIteration(ops, s.onIteration, info, 'cg', scalars, { d, gOld })) {
            reason = 'callback';
            break;
          }
        }
        reason = stopAfterIteration(s, gg, t, dNorm, f, fPrev);
        if (reason !== null) break;
      }
    }
    await ops.flush();
    return { iterations: iteration, evaluations, cost: f, reason };
  } finally {
    for (const v of owned) ops.free(v);
  }
}
