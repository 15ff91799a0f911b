// REFERENCE COPY (test only): the implementation before issue 12 (one dot readback per inner
// product), kept to check that the one-readback-per-iteration form goes
// through the same iterates (test/train-batched-equivalence.test.ts).
// Limited-memory BFGS in the style of minFunc (Mark Schmidt), as used by the
// UFLDL sparse autoencoder exercise.
//
// Each iteration: the direction d = −H∇J from the two-loop recursion over the
// last `history` correction pairs (s, y), with initial Hessian H₀ = γI,
// γ = sᵀy / yᵀy of the newest pair; a strong-Wolfe line search from t = 1
// (t = min(1, 1/‖∇J‖₁) on the first iteration); then the new pair
// s = t·d, y = ∇J_new − ∇J_old, kept only when sᵀy > 1e-10.
//
// All vectors live in VectorOps: x, d, the history (allocated as it fills,
// then reused circularly) and one spare pair, 2·history + 4 vectors in all,
// freed on return. Scalars come from `dot`:
//   per iteration, with k stored pairs and E line-search evaluations:
//   2k (two-loop) + 1 (∇Jᵀd) + 1 (‖d‖²) + E (line search) + 1 (yᵀy, when the
//   pair is kept) + 1 (‖∇J‖²) dot calls, i.e. at most 2·history + 4 + E, and
//   E cost readbacks (plus, rarely, one gradient-only evaluation when the line
//   search returns a step other than the last it tried). sᵀy needs no dot:
//   sᵀy = t·(∇J_newᵀd − ∇Jᵀd), both known. The first iteration also reads
//   ∇J back once for ‖∇J‖₁.
//
// Checkpoints (`info.checkpoint()`, `resume`): the state holds the stored
// correction pairs (vectors s0, y0, s1, y1, … oldest first, scalars `pairs`,
// `rho0`, `rho1`, … and `gamma`) and the last iteration's J (`f`), previous J
// (`fOld`), ‖∇J‖² (`gg`), step `t` and ‖d‖ (`dNorm`). On resume the
// objective is evaluated once at the restored θ to recover ∇J (and J, checked
// against `f`); then the stopping tests that followed the checkpointed
// iteration run on the stored scalars, and the iterations go on with the
// restored history. The next direction needs nothing else (d is rebuilt from
// ∇J and the history every iteration). With a smaller `history` than the
// state's pair count, only the newest pairs are kept.

import { SpecError } from '../../src/spec.js';
import { lineSearchSettings, norm1, startingPoint, stopAfterIteration, type LineSearchMethodOptions } from '../../src/optim/full-batch.js';
import { wolfeLineSearch } from './linesearch.js';
import { checkState, reportIteration, expectVectors, restoreVector, stateInteger, stateNumber } from '../../src/optim/state.js';
import type { Objective, OptimizeResult, OptimizerState, StopReason } from '../../src/optim/types.js';

export interface LbfgsOptions extends LineSearchMethodOptions {
  /** Number of correction pairs kept, m (default 10; minFunc's `Corr`). */
  history?: number;
  /** Curvature constant of the strong Wolfe conditions (default 0.9). */
  c2?: number;
}

export const LBFGS_DEFAULTS = { maxIterations: 400, history: 10, optTol: 1e-5, progTol: 1e-9, c1: 1e-4, c2: 0.9, maxLineSearch: 25 } as const;

/** Pairs with sᵀy at or below this are skipped (minFunc). */
const CURVATURE_MIN = 1e-10;

/**
 * Minimizes the objective over all examples with L-BFGS. θ ends at the last
 * iterate and `grad` holds ∇J there. `info.epoch` is iteration − 1; `info.cost`
 * is J at the new iterate, `info.stepSize` the line-search step t,
 * `info.gradNorm` ‖∇J‖₂.
 */
export async function lbfgs<V>(objective: Objective<V>, options: LbfgsOptions = {}): Promise<OptimizeResult> {
  const s = lineSearchSettings(options, LBFGS_DEFAULTS.c2);
  const m = options.history ?? LBFGS_DEFAULTS.history;
  if (!Number.isInteger(m) || m < 1) throw new SpecError(`history must be a positive integer, got ${m}`);
  const ops = objective.ops;
  const owned: V[] = [];
  const alloc = (): V => {
    const v = ops.alloc();
    owned.push(v);
    return v;
  };

  try {
    const x = alloc();
    const d = alloc();
    let sNew = alloc();
    let yNew = alloc();
    const S: V[] = [];
    const Y: V[] = [];
    const rho: number[] = [];
    const alpha = new Float64Array(m);
    let head = 0; // slot of the next pair
    let stored = 0;
    let gamma = 1;
    const slot = (i: number): number => (head - stored + i + m) % m; // i = 0: oldest

    let evaluations = 0;
    let iteration = 0;
    let f: number;
    let gg: number;
    let reason: StopReason | null = null;
    if (s.resume) {
      const st = s.resume;
      checkState(st, 'lbfgs', ops.n);
      const pairs = stateInteger(st, 'pairs');
      const names: string[] = [];
      for (let i = 0; i < pairs; i++) names.push(`s${i}`, `y${i}`);
      expectVectors(st, names, `an L-BFGS state with pairs = ${pairs}`);
      const fState = stateNumber(st, 'f');
      const fOld = stateNumber(st, 'fOld');
      const ggState = stateNumber(st, 'gg');
      const t = stateNumber(st, 't');
      const dNorm = stateNumber(st, 'dNorm');
      gamma = stateNumber(st, 'gamma');
      const keep = Math.min(pairs, m);
      for (let i = 0; i < keep; i++) {
        const j = pairs - keep + i;
        S[i] = restoreVector(ops, st, `s${j}`, alloc());
        Y[i] = restoreVector(ops, st, `y${j}`, alloc());
        rho[i] = stateNumber(st, `rho${j}`);
      }
      stored = keep;
      head = keep % m;
      iteration = st.iteration;
      evaluations = st.evaluations;
      ({ f, gg } = await startingPoint(objective, x, 'L-BFGS', fState));
      // The tests that followed the checkpointed iteration's onIteration.
      reason = stopAfterIteration(s, ggState, t, dNorm, fState, fOld);
    } else {
      ({ f, gg } = await startingPoint(objective, x, 'L-BFGS', null));
      evaluations++;
      if (Math.sqrt(gg) <= s.optTol) reason = 'gradient';
    }

    if (reason === null) {
      for (;;) {
        if (iteration >= s.maxIterations) {
          reason = 'iterations';
          break;
        }
        // d = −H∇J (two-loop recursion).
        ops.copy(objective.grad, d);
        ops.scale(-1, d);
        for (let i = stored - 1; i >= 0; i--) {
          const k = slot(i);
          alpha[i] = rho[k]! * (await ops.dot(S[k]!, d));
          ops.axpy(-alpha[i]!, Y[k]!, d);
        }
        ops.scale(gamma, d);
        for (let i = 0; i < stored; i++) {
          const k = slot(i);
          const beta = rho[k]! * (await ops.dot(Y[k]!, d));
          ops.axpy(alpha[i]! - beta, S[k]!, d);
        }
        let gtd = await ops.dot(objective.grad, d);
        if (!Number.isFinite(gtd)) {
          // An illegal direction: forget the history, take steepest descent.
          stored = 0;
          gamma = 1;
          ops.copy(objective.grad, d);
          ops.scale(-1, d);
          gtd = -gg;
        }
        if (gtd > -s.progTol) {
          reason = 'progress';
          break;
        }
        const dNorm = Math.sqrt(await ops.dot(d, d));
        const t0 = iteration === 0 ? Math.min(1, 1 / (await norm1(ops, objective.grad))) : 1;

        ops.copy(objective.grad, yNew);
        ops.scale(-1, yNew); // y = −∇J_old, completed after the line search
        const fOld = f;
        const ls = await wolfeLineSearch(objective, x, f, gtd, d, t0, dNorm, { c1: s.c1, c2: s.c2, maxEvaluations: s.maxLineSearch, progTol: s.progTol });
        evaluations += ls.evaluations;
        iteration++;
        const t = ls.t;
        f = ls.f;
        ops.copy(objective.theta, x);

        const ys = t * (ls.gtd - gtd);
        if (ys > CURVATURE_MIN) {
          ops.axpy(1, objective.grad, yNew);
          ops.copy(d, sNew);
          ops.scale(t, sNew);
          const yy = await ops.dot(yNew, yNew);
          if (S[head] === undefined) {
            S[head] = sNew;
            Y[head] = yNew;
            sNew = alloc();
            yNew = alloc();
          } else {
            [S[head], sNew] = [sNew, S[head]!];
            [Y[head], yNew] = [yNew, Y[head]!];
          }
          rho[head] = 1 / ys;
          gamma = ys / yy;
          head = (head + 1) % m;
          stored = Math.min(stored + 1, m);
        }
        gg = await ops.dot(objective.grad, objective.grad);

        if (s.onIteration) {
          const scalars: OptimizerState['scalars'] = { n: ops.n, history: m, pairs: stored, gamma, f, fOld, gg, t, dNorm };
          const vectors: Record<string, V> = {};
          for (let i = 0; i < stored; i++) {
            const k = slot(i);
            scalars[`rho${i}`] = rho[k]!;
            vectors[`s${i}`] = S[k]!;
            vectors[`y${i}`] = Y[k]!;
          }
          const info = { iteration, epoch: iteration - 1, cost: f, stepSize: t, evaluations, gradNorm: Math.sqrt(gg) };
          if (await reportIteration(ops, s.onIteration, info, 'lbfgs', scalars, vectors)) {
            reason = 'callback';
            break;
          }
        }
        reason = stopAfterIteration(s, gg, t, dNorm, f, fOld);
        if (reason !== null) break;
      }
    }
    await ops.flush();
    return { iterations: iteration, evaluations, cost: f, reason };
  } finally {
    for (const v of owned) ops.free(v);
  }
}
