// Limited-memory BFGS in the style of minFunc (Mark Schmidt), as used by the
// UFLDL sparse autoencoder exercise, in the vector-free form of Chen, Wang &
// Yang (NIPS 2014): one readback per iteration.
//
// Each iteration: the direction d = −H∇J from the two-loop recursion over the
// last `history` correction pairs (s, y), with initial Hessian H₀ = γI,
// γ = sᵀy / yᵀy of the newest pair; a strong-Wolfe line search from t = 1
// (t = min(1, 1/‖∇J‖₁) on the first iteration); then the new pair
// s = t·d, y = ∇J_new − ∇J_old, kept only when sᵀy > 1e-10.
//
// Vector-free: d lies in the span of the basis b = (s₀…s_{k−1}, y₀…y_{k−1}, ∇J),
// d = Σⱼ δⱼ bⱼ. The recursion runs on the coefficients δ, with every inner
// product bᵢᵀd = Σⱼ δⱼ bᵢᵀbⱼ taken from the Gram matrix of the basis, kept on
// the CPU; the GPU forms d once, as one linear combination (ops.combine:
// ⌈(2k + 1)/G⌉ fused dispatches over the 2k + 1 basis vectors, G ≤ 7).
// The Gram matrix's new entries come with each line-search trial, in that
// trial's readback (evaluateWithDots): with ∇J_T the trial's gradient and
// y_T = ∇J_T − ∇J_old (formed on the GPU right after the evaluation),
//   ∇J_Tᵀd (the line search's slope), ∇J_Tᵀsᵢ, ∇J_Tᵀyᵢ, ∇J_Tᵀ∇J_T, ∇J_Tᵀy_T,
//   y_Tᵀsᵢ, y_Tᵀyᵢ, y_Tᵀy_T: 4k + 4 dot products over k stored pairs.
// The new pair's other entries need no dot: s = t·d, so sᵀbᵢ = t·dᵀbᵢ,
// sᵀs = t²·dᵀd, sᵀy = t·(∇J_newᵀd − ∇Jᵀd) (as before) and ∇J_newᵀs = t·∇J_newᵀd.
// An iteration whose first trial step is accepted costs exactly one readback;
// each further trial one more (and, rarely, one gradient-only evaluation with
// its dots when the line search returns a step other than the last it tried).
// The first iteration also reads ∇J back once for ‖∇J‖₁.
//
// The iterates are those of the pre-vector-free implementation (dots of
// vectors, kept in test/reference/lbfgs.ts) up to float rounding: the
// inner products are the same sums taken in another order.
//
// Vectors: x, d, ∇J_old, the trial's y_T, one spare s and the history
// (allocated as it fills, then reused circularly): 2·history + 5 in all,
// freed on return.
//
// Checkpoints (`info.checkpoint()`, `resume`): the state holds the stored
// correction pairs (vectors s0, y0, s1, y1, … oldest first, scalars `pairs`,
// `rho0`, `rho1`, … and `gamma`), their Gram matrix and ∇J against them
// (scalars `ss_i_j`, `sy_i_j` (sᵢᵀyⱼ), `yy_i_j` for j ≤ i where symmetric,
// `gs_i`, `gy_i`), and the last iteration's J (`f`), previous J (`fOld`),
// ‖∇J‖² (`gg`), step `t` and ‖d‖ (`dNorm`). On resume the objective is
// evaluated once at the restored θ to recover ∇J (and J, checked against `f`);
// a state without the Gram scalars (written before they existed) has them
// recomputed with one batched readback. Then the stopping tests that followed
// the checkpointed iteration run on the stored scalars, and the iterations go
// on with the restored history. With a smaller `history` than the state's pair
// count, only the newest pairs are kept.

import { scratchVectors } from './scratch.js';
import { SpecError } from '../spec.js';
import { assertFixedObjective, lineSearchSettings, norm1, startingPoint, stopTest, type LineSearchMethodOptions } from './full-batch.js';
import { wolfeLineSearch } from './linesearch.js';
import { checkState, reportIteration, expectVectors, restoreVector, stateInteger, stateNumber } from './state.js';
import type { DotPair, Objective, OptimizeResult, OptimizerState, StopReason } from './types.js';

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
 * The Gram matrix of the stored pairs and ∇J, indexed by history slot:
 * ss[i·m + j] = sᵢᵀsⱼ, sy[i·m + j] = sᵢᵀyⱼ, yy[i·m + j] = yᵢᵀyⱼ,
 * gs[i] = ∇Jᵀsᵢ, gy[i] = ∇Jᵀyᵢ, gg = ∇Jᵀ∇J.
 */
class Gram {
  readonly ss: Float64Array;
  readonly sy: Float64Array;
  readonly yy: Float64Array;
  readonly gs: Float64Array;
  readonly gy: Float64Array;
  gg = 0;
  constructor(readonly m: number) {
    this.ss = new Float64Array(m * m);
    this.sy = new Float64Array(m * m);
    this.yy = new Float64Array(m * m);
    this.gs = new Float64Array(m);
    this.gy = new Float64Array(m);
  }
  setSS(i: number, j: number, v: number): void {
    this.ss[i * this.m + j] = v;
    this.ss[j * this.m + i] = v;
  }
  setYY(i: number, j: number, v: number): void {
    this.yy[i * this.m + j] = v;
    this.yy[j * this.m + i] = v;
  }
}

/**
 * Minimizes the objective over all examples with L-BFGS. θ ends at the last
 * iterate and `grad` holds ∇J there. `info.epoch` is iteration − 1; `info.cost`
 * is J at the new iterate, `info.stepSize` the line-search step t,
 * `info.gradNorm` ‖∇J‖₂.
 */
export async function lbfgs<V>(objective: Objective<V>, options: LbfgsOptions = {}): Promise<OptimizeResult> {
  assertFixedObjective(objective, 'lbfgs');
  const s = lineSearchSettings(options, LBFGS_DEFAULTS.c2);
  const m = options.history ?? LBFGS_DEFAULTS.history;
  if (!Number.isInteger(m) || m < 1) throw new SpecError(`history must be a positive integer, got ${m}`);
  const ops = objective.ops;
  const g = objective.grad;
  const scratch = scratchVectors(ops);
  const alloc = scratch.alloc;

  try {
    const x = alloc();
    const d = alloc();
    const gOld = alloc();
    let yT = alloc();
    let sNew = alloc();
    const S: V[] = [];
    const Y: V[] = [];
    const rho: number[] = [];
    const G = new Gram(m);
    const alpha = new Float64Array(m);
    // Coefficients of d over (s, y by slot) and ∇J, and dᵀsᵢ, dᵀyᵢ by slot.
    const ds = new Float64Array(m);
    const dy = new Float64Array(m);
    const dS = new Float64Array(m);
    const dY = new Float64Array(m);
    let head = 0; // slot of the next pair
    let stored = 0;
    let gamma = 1;
    const slot = (i: number): number => (head - stored + i + m) % m; // i = 0: oldest

    let evaluations = 0;
    let iteration = 0;
    let f: number;
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
      const first = pairs - keep;
      for (let i = 0; i < keep; i++) {
        const j = first + i;
        S[i] = restoreVector(ops, st, `s${j}`, alloc());
        Y[i] = restoreVector(ops, st, `y${j}`, alloc());
        rho[i] = stateNumber(st, `rho${j}`);
      }
      stored = keep;
      head = keep % m;
      iteration = st.iteration;
      evaluations = st.evaluations;
      ({ f } = await startingPoint(objective, x, 'L-BFGS', fState));
      G.gg = ggState;
      if (pairs > 0 && st.scalars['ss_0_0'] === undefined) {
        await rebuildGram(G, S, Y, g, keep, ops.dots.bind(ops));
      } else {
        for (let i = 0; i < keep; i++) {
          G.gs[i] = stateNumber(st, `gs_${first + i}`);
          G.gy[i] = stateNumber(st, `gy_${first + i}`);
          for (let j = 0; j < keep; j++) {
            const [a, b] = i >= j ? [first + i, first + j] : [first + j, first + i];
            G.ss[i * m + j] = stateNumber(st, `ss_${a}_${b}`);
            G.yy[i * m + j] = stateNumber(st, `yy_${a}_${b}`);
            G.sy[i * m + j] = stateNumber(st, `sy_${first + i}_${first + j}`);
          }
        }
      }
      // The tests that followed the checkpointed iteration's onIteration.
      reason = stopTest(s, { gg: ggState, t, dNorm, f: fState, fOld });
    } else {
      let gg: number;
      ({ f, gg } = await startingPoint(objective, x, 'L-BFGS', null));
      G.gg = gg;
      evaluations++;
      reason = stopTest(s, { gg });
    }

    // bᵢᵀd for the basis vector i (slot k of s or y, or ∇J) from the Gram matrix.
    const sDot = (k: number, dg: number): number => {
      let v = dg * G.gs[k]!;
      for (let i = 0; i < stored; i++) {
        const j = slot(i);
        v += ds[j]! * G.ss[k * m + j]! + dy[j]! * G.sy[k * m + j]!;
      }
      return v;
    };
    const yDot = (k: number, dg: number): number => {
      let v = dg * G.gy[k]!;
      for (let i = 0; i < stored; i++) {
        const j = slot(i);
        v += ds[j]! * G.sy[j * m + k]! + dy[j]! * G.yy[k * m + j]!;
      }
      return v;
    };
    const gDot = (dg: number): number => {
      let v = dg * G.gg;
      for (let i = 0; i < stored; i++) {
        const j = slot(i);
        v += ds[j]! * G.gs[j]! + dy[j]! * G.gy[j]!;
      }
      return v;
    };

    while (reason === null) {
      reason = stopTest(s, { iteration });
      if (reason !== null) break;
      // d = −H∇J (two-loop recursion on the coefficients of d).
      ds.fill(0);
      dy.fill(0);
      let dg = -1;
      for (let i = stored - 1; i >= 0; i--) {
        const k = slot(i);
        alpha[i] = rho[k]! * sDot(k, dg);
        dy[k] -= alpha[i]!;
      }
      for (let i = 0; i < stored; i++) {
        const k = slot(i);
        ds[k] *= gamma;
        dy[k] *= gamma;
      }
      dg *= gamma;
      for (let i = 0; i < stored; i++) {
        const k = slot(i);
        const beta = rho[k]! * yDot(k, dg);
        ds[k] += alpha[i]! - beta;
      }
      let gtd = gDot(dg);
      if (!Number.isFinite(gtd)) {
        // An illegal direction: forget the history, take steepest descent.
        stored = 0;
        gamma = 1;
        dg = -1;
        gtd = -G.gg;
      }
      reason = stopTest(s, { gtd });
      if (reason !== null) break;
      // dᵀsᵢ, dᵀyᵢ and ‖d‖², all from the Gram matrix.
      let dd = dg * gtd;
      for (let i = 0; i < stored; i++) {
        const k = slot(i);
        dS[k] = sDot(k, dg);
        dY[k] = yDot(k, dg);
        dd += ds[k]! * dS[k]! + dy[k]! * dY[k]!;
      }
      const coefs: number[] = [];
      const basis: V[] = [];
      for (let i = 0; i < stored; i++) {
        const k = slot(i);
        coefs.push(ds[k]!, dy[k]!);
        basis.push(S[k]!, Y[k]!);
      }
      coefs.push(dg);
      basis.push(g);
      ops.combine(coefs, basis, d);
      const dNorm = Math.sqrt(dd);
      const t0 = iteration === 0 ? Math.min(1, 1 / (await norm1(ops, g))) : 1;

      // Each trial also forms y_T = ∇J_T − ∇J_old and reads its dots (see the top).
      ops.copy(g, gOld);
      const probe: DotPair<V>[] = [];
      for (let i = 0; i < stored; i++) probe.push([g, S[slot(i)]!], [g, Y[slot(i)]!]);
      probe.push([g, g], [g, yT]);
      for (let i = 0; i < stored; i++) probe.push([yT, S[slot(i)]!], [yT, Y[slot(i)]!]);
      probe.push([yT, yT]);
      const after = (): void => {
        ops.copy(g, yT);
        ops.axpy(-1, gOld, yT);
      };
      const fOld = f;
      const ls = await wolfeLineSearch(objective, x, f, gtd, d, t0, dNorm, { c1: s.c1, c2: s.c2, maxEvaluations: s.maxLineSearch, progTol: s.progTol }, { pairs: probe, after });
      evaluations += ls.evaluations;
      iteration++;
      const t = ls.t;
      f = ls.f;
      ops.copy(objective.theta, x);

      const p = ls.probe;
      const gS = (i: number): number => p[2 * i]!;
      const gY = (i: number): number => p[2 * i + 1]!;
      const ggNew = p[2 * stored]!;
      const gyNew = p[2 * stored + 1]!;
      const yS = (i: number): number => p[2 * stored + 2 + 2 * i]!;
      const yY = (i: number): number => p[2 * stored + 3 + 2 * i]!;
      const yy = p[4 * stored + 2]!;
      // ∇J_new against the pairs stored before this iteration.
      for (let i = 0; i < stored; i++) {
        const k = slot(i);
        G.gs[k] = gS(i);
        G.gy[k] = gY(i);
      }
      G.gg = ggNew;

      const ys = t * (ls.gtd - gtd);
      if (ys > CURVATURE_MIN) {
        ops.copy(d, sNew);
        ops.scale(t, sNew);
        // The new pair goes to slot `head` (the oldest pair's when full).
        const h = head;
        const full = stored === m;
        for (let i = full ? 1 : 0; i < stored; i++) {
          const k = slot(i);
          G.setSS(h, k, t * dS[k]!);
          G.sy[h * m + k] = t * dY[k]!;
          G.sy[k * m + h] = yS(i);
          G.setYY(h, k, yY(i));
        }
        G.ss[h * m + h] = t * t * dd;
        G.sy[h * m + h] = ys;
        G.yy[h * m + h] = yy;
        G.gs[h] = t * ls.gtd;
        G.gy[h] = gyNew;
        if (S[h] === undefined) {
          S[h] = sNew;
          Y[h] = yT;
          sNew = alloc();
          yT = alloc();
        } else {
          [S[h], sNew] = [sNew, S[h]!];
          [Y[h], yT] = [yT, Y[h]!];
        }
        rho[h] = 1 / ys;
        gamma = ys / yy;
        head = (head + 1) % m;
        stored = Math.min(stored + 1, m);
      }
      const gg = G.gg;

      if (s.onIteration) {
        const scalars: OptimizerState['scalars'] = { n: ops.n, history: m, pairs: stored, gamma, f, fOld, gg, t, dNorm };
        const vectors: Record<string, V> = {};
        for (let i = 0; i < stored; i++) {
          const k = slot(i);
          scalars[`rho${i}`] = rho[k]!;
          scalars[`gs_${i}`] = G.gs[k]!;
          scalars[`gy_${i}`] = G.gy[k]!;
          for (let j = 0; j < stored; j++) {
            const l = slot(j);
            if (j <= i) {
              scalars[`ss_${i}_${j}`] = G.ss[k * m + l]!;
              scalars[`yy_${i}_${j}`] = G.yy[k * m + l]!;
            }
            scalars[`sy_${i}_${j}`] = G.sy[k * m + l]!;
          }
          vectors[`s${i}`] = S[k]!;
          vectors[`y${i}`] = Y[k]!;
        }
        const info = { iteration, epoch: iteration - 1, cost: f, stepSize: t, evaluations, gradNorm: Math.sqrt(gg) };
        if (await reportIteration(ops, s.onIteration, info, 'lbfgs', scalars, vectors)) {
          reason = 'callback';
          break;
        }
      }
      reason = stopTest(s, { gg, t, dNorm, f, fOld });
    }
    await ops.flush();
    return { iterations: iteration, evaluations, cost: f, reason };
  } finally {
    scratch.freeAll();
  }
}

/** The Gram matrix of `keep` restored pairs (slots 0 … keep−1) and ∇J, in one batched readback. */
async function rebuildGram<V>(G: Gram, S: V[], Y: V[], g: V, keep: number, dots: (pairs: readonly DotPair<V>[]) => Promise<Float64Array>): Promise<void> {
  const pairs: DotPair<V>[] = [];
  const put: ((v: number) => void)[] = [];
  const m = G.m;
  for (let i = 0; i < keep; i++) {
    pairs.push([g, S[i]!], [g, Y[i]!]);
    put.push((v) => (G.gs[i] = v), (v) => (G.gy[i] = v));
    for (let j = 0; j < keep; j++) {
      if (j <= i) {
        pairs.push([S[i]!, S[j]!], [Y[i]!, Y[j]!]);
        put.push((v) => G.setSS(i, j, v), (v) => G.setYY(i, j, v));
      }
      pairs.push([S[i]!, Y[j]!]);
      put.push((v) => (G.sy[i * m + j] = v));
    }
  }
  const v = await dots(pairs);
  put.forEach((f, k) => f(v[k]!));
}
