// Issue 12: the one-readback-per-iteration L-BFGS (vector-free, Gram matrix
// on the CPU) and CG go through the iterates of the implementations they
// replaced (kept in test/reference), up to float rounding, on the float64
// CPU vector backend.
import { describe, expect, it } from 'vitest';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { matrix } from '../src/matrix.js';
import { conjugateGradient } from '../src/optim/cg.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import { lbfgs } from '../src/optim/lbfgs.js';
import type { IterationInfo, Objective, OptimizeResult } from '../src/optim/types.js';
import { conjugateGradient as referenceCg } from './reference/cg.js';
import { lbfgs as referenceLbfgs } from './reference/lbfgs.js';
import { rosenbrock } from './train-problems.js';

type Method = (obj: Objective<Float64Array>, o: Record<string, unknown>) => Promise<OptimizeResult>;

/** A small UFLDL-style sparse autoencoder (sigmoid, ρ 0.01, β 3, λ 1e-4) on random patches in [0.1, 0.9]. */
function sparseAutoencoder(): Objective<Float64Array> {
  const net = resolveSpec({ layers: [20, 7, 20], activation: 'sigmoid', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } });
  const rng = new Rng(12);
  const m = 50;
  const X = matrix(m, 20, Array.from({ length: m * 20 }, () => 0.1 + 0.8 * rng.uniform()));
  return cpuNetworkObjective(net, initParameters(net, { seed: 3 }), X);
}

async function trace(method: Method, obj: Objective<Float64Array>, o: Record<string, unknown>): Promise<{ infos: IterationInfo[]; result: OptimizeResult; theta: Float64Array }> {
  const infos: IterationInfo[] = [];
  const result = await method(obj, { ...o, onIteration: (i: IterationInfo) => void infos.push({ ...i, checkpoint: undefined }) });
  return { infos, result, theta: obj.theta.slice() };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

const CASES: [string, Method, Method, Record<string, unknown>][] = [
  ['L-BFGS (history 10)', lbfgs as Method, referenceLbfgs as Method, {}],
  ['L-BFGS (history 3, the history wraps)', lbfgs as Method, referenceLbfgs as Method, { history: 3 }],
  ["CG (minFunc's quadratic first step, as the reference)", conjugateGradient as Method, referenceCg as Method, { initialStep: 'quadratic' }],
  ["CG (restart every 7)", conjugateGradient as Method, referenceCg as Method, { restartEvery: 7, initialStep: 'quadratic' }],
];

describe.each(CASES)('%s: the same iterates as the reference implementation', (_name, method, reference, extra) => {
  it('sparse autoencoder, 50 iterations: costs agree to 1e-10 relative, same steps and evaluation counts', async () => {
    const o = { maxIterations: 50, optTol: 0, progTol: 0, ...extra };
    const a = await trace(method, sparseAutoencoder(), o);
    const b = await trace(reference, sparseAutoencoder(), o);
    expect(a.result.iterations).toBe(50);
    expect(b.result.iterations).toBe(50);
    expect(a.infos.map((i) => i.evaluations)).toEqual(b.infos.map((i) => i.evaluations));
    a.infos.forEach((ia, k) => {
      const ib = b.infos[k]!;
      expect(rel(ia.cost!, ib.cost!), `cost at iteration ${ia.iteration}`).toBeLessThan(1e-10);
      expect(rel(ia.stepSize, ib.stepSize), `step at iteration ${ia.iteration}`).toBeLessThan(1e-6);
      expect(rel(ia.gradNorm!, ib.gradNorm!), `‖∇J‖ at iteration ${ia.iteration}`).toBeLessThan(1e-6);
    });
    // The run went somewhere: the cost fell by more than rounding.
    expect(a.infos[49]!.cost!).toBeLessThan(0.5 * a.infos[0]!.cost!);
  });

  it('10-D Rosenbrock to convergence: the same stopping iteration and reason', async () => {
    const x0 = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const a = await trace(method, rosenbrock(x0), { ...extra });
    const b = await trace(reference, rosenbrock(x0), { ...extra });
    expect(a.result.reason).toBe(b.result.reason);
    expect(a.result.iterations).toBe(b.result.iterations);
    // Rosenbrock's curved valley amplifies rounding differences along the
    // path (by ~1.5× per iteration: 1e-10 relative near iteration 35), so the
    // costs agree only early; both runs still end at the same place.
    a.infos.slice(0, 20).forEach((ia, k) => expect(rel(ia.cost!, b.infos[k]!.cost!), `iteration ${ia.iteration}`).toBeLessThan(1e-10));
    for (const th of [a.theta, b.theta]) for (const v of th) expect(Math.abs(v - 1)).toBeLessThan(1e-3);
  });
});

describe('resuming from a state written before the Gram matrix was stored', () => {
  // CG as such states were written, with the quadratic first step: under 'curvature' the
  // rebuilt ‖d‖² (rounded differently) enters the next step and the paths part at 1e-10.
  for (const [name, method, drop, extra] of [
    ['lbfgs', lbfgs as Method, (k: string) => /^(ss|sy|yy|gs|gy)_/.test(k), {}],
    ['cg', conjugateGradient as Method, (k: string) => k === 'ggo' || k === 'dd', { initialStep: 'quadratic' }],
  ] as const) {
    it(`${name}: rebuilds it from the vectors (one batched readback) and follows the uninterrupted run`, async () => {
      const full = await trace(method, sparseAutoencoder(), { maxIterations: 20, optTol: 0, progTol: 0, ...extra });
      const cut = sparseAutoencoder();
      let state: Awaited<ReturnType<NonNullable<IterationInfo['checkpoint']>>> | null = null;
      let theta: Float64Array | null = null;
      await method(cut, {
        maxIterations: 20, optTol: 0, progTol: 0, ...extra,
        onIteration: async (i: IterationInfo) => {
          if (i.iteration !== 8) return true;
          state = await i.checkpoint!();
          theta = cut.theta.slice();
          return false;
        },
      });
      const old = { ...state!, scalars: Object.fromEntries(Object.entries(state!.scalars).filter(([k]) => !drop(k))) };
      expect(Object.keys(old.scalars).length).toBeLessThan(Object.keys(state!.scalars).length);
      const again = sparseAutoencoder();
      again.theta.set(theta!);
      const rest = await trace(method, again, { maxIterations: 20, optTol: 0, progTol: 0, ...extra, resume: old });
      expect(rest.infos.map((i) => i.iteration)).toEqual(Array.from({ length: 12 }, (_, k) => k + 9));
      rest.infos.forEach((ia, k) => expect(rel(ia.cost!, full.infos[8 + k]!.cost!), `iteration ${ia.iteration}`).toBeLessThan(1e-10));
    });
  }
});

describe("CG's first trial step", () => {
  it("'previous' (the default), 'curvature' and 'quadratic' take different paths; all descend", async () => {
    const o = { maxIterations: 30, optTol: 0, progTol: 0 };
    const byRule = await Promise.all([undefined, 'curvature', 'previous', 'quadratic'].map((initialStep) => trace(conjugateGradient as Method, sparseAutoencoder(), { ...o, initialStep })));
    const [dflt, curv, prev, quad] = byRule.map((r) => r.infos.map((i) => i.cost));
    expect(dflt).toEqual(prev);
    expect(curv).not.toEqual(prev);
    expect(curv).not.toEqual(quad);
    expect(prev).not.toEqual(quad);
    for (const r of byRule) expect(r.infos[29]!.cost!).toBeLessThan(0.5 * r.infos[0]!.cost!);
  });

  it.each(['previous', 'curvature'] as const)("'%s': each first trial step follows its formula (recomputed from the iterates)", async (rule) => {
    // previous: t_prev·∇J_prevᵀd_prev / ∇Jᵀd; curvature: −∇Jᵀd / (κ‖d‖²), κ = sᵀy/sᵀs of the last step.
    const obj = sparseAutoencoder();
    const evaluated: Float64Array[] = [];
    const evaluate = obj.evaluate.bind(obj);
    obj.evaluate = (opts) => {
      evaluated.push(obj.theta.slice());
      return evaluate(opts);
    };
    const its: { x: Float64Array; g: Float64Array; t: number; evals: number }[] = [];
    await conjugateGradient(obj, {
      maxIterations: 25, optTol: 0, progTol: 0, initialStep: rule,
      onIteration: (i) => void its.push({ x: obj.theta.slice(), g: obj.grad.slice(), t: i.stepSize, evals: evaluated.length }),
    });
    const dot = (a: Float64Array, b: Float64Array): number => a.reduce((acc, v, i) => acc + v * b[i]!, 0);
    const sub = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v - b[i]!);
    let checked = 0;
    for (let k = 2; k < its.length; k++) {
      // Iteration k + 1 searched along d = (x_{k+1} − x_k)/t from x_k; its first trial is the first evaluation after iteration k.
      const [a, b, c] = [its[k - 2]!, its[k - 1]!, its[k]!];
      const d = sub(c.x, b.x).map((v) => v / c.t);
      const dPrev = sub(b.x, a.x).map((v) => v / b.t);
      const first = evaluated[b.evals]!;
      const t0 = dot(sub(first, b.x), d) / dot(d, d);
      const s = sub(b.x, a.x);
      const kappa = dot(s, sub(b.g, a.g)) / dot(s, s);
      const want = rule === 'previous' ? (b.t * dot(a.g, dPrev)) / dot(b.g, d) : kappa > 0 ? -dot(b.g, d) / (kappa * dot(d, d)) : NaN;
      if (!(want > 0)) continue;
      expect(Math.abs(t0 - want) / want, `iteration ${k + 1}`).toBeLessThan(1e-6);
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('a state written before gtd0 was stored resumes (its next first step is the quadratic one)', async () => {
    const cut = sparseAutoencoder();
    let state: Awaited<ReturnType<NonNullable<IterationInfo['checkpoint']>>> | null = null;
    await conjugateGradient(cut, {
      maxIterations: 20, optTol: 0, progTol: 0,
      onIteration: async (i: IterationInfo) => {
        if (i.iteration !== 8) return true;
        state = await i.checkpoint!();
        return false;
      },
    });
    expect(state!.scalars['gtd0']).toBeDefined();
    const old = { ...state!, scalars: Object.fromEntries(Object.entries(state!.scalars).filter(([k]) => k !== 'gtd0')) };
    const again = sparseAutoencoder();
    again.theta.set(cut.theta);
    const rest = await trace(conjugateGradient as Method, again, { maxIterations: 20, optTol: 0, progTol: 0, resume: old });
    expect(rest.infos.map((i) => i.iteration)).toEqual(Array.from({ length: 12 }, (_, k) => k + 9));
    expect(rest.infos[11]!.cost!).toBeLessThan(rest.infos[0]!.cost!);
  });

  it('an unknown initialStep is refused by name', async () => {
    await expect(conjugateGradient(sparseAutoencoder(), { initialStep: 'cubic' as never })).rejects.toThrow(/initialStep must be one of 'previous', 'curvature', 'quadratic', got "cubic"/);
  });
});
