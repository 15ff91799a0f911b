// The line search's transitions on the GPU (shaders/linesearch.wgsl) against
// linesearch-state.ts `advance` (float64), and GpuObjective.evaluateTrials in
// a real line search: the same steps as without speculation, with one readback
// for the first `depth` trials.
import { describe, expect, it } from 'vitest';
import { encodeSearchState, lineSearchParams, LS_STATE_SLOTS } from '../src/gpu/linesearch.js';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { advance, startSearch, type SearchConstants, type SearchState } from '../src/optim/linesearch-state.js';
import { conjugateGradient } from '../src/optim/cg.js';
import { SPECULATIVE_STEP_TOLERANCE, wolfeLineSearch } from '../src/optim/linesearch.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { gpu, harness } from './helpers/gpu.js';
import { instrument } from '../src/bench/optimizer.js';

const phaseOf = (s: SearchState): SearchState['phase'] => s.phase;

const f32 = Math.fround;

/** A random line: a quadratic/quartic with ripples, undefined past a wall, and on half the lines a J rippling within `noise`. */
function randomLine(rng: Rng, noisy: boolean) {
  const a = rng.range(0.1, 3);
  const b = rng.uniform() < 0.5 ? 0 : rng.range(0, 0.5);
  const c = rng.range(0.05, 20);
  const s = rng.uniform() < 0.5 ? 0 : rng.range(0, 0.2);
  const w = rng.range(0.5, 3);
  const wall = rng.uniform() < 0.15 ? rng.range(0.5, 5) : Infinity;
  const j0 = 1 + 3 * rng.uniform();
  // The noise: J's rounding on a line whose decrease is a few times it, or (half of
  // the noisy lines) far below it, where only the approximate Wolfe test can end the search.
  const scale = noisy ? (rng.uniform() < 0.5 ? 3e-9 : 1e-6) : 1;
  const noise = noisy ? 1e-5 * j0 : 0;
  const ripple = (t: number): number => (noisy ? 0.3 * noise * Math.sin(t * 997) : 0);
  const phi = (t: number): number => (t > wall ? NaN : j0 + scale * (a * (t - c) ** 2 + b * (t - c) ** 4 + s * Math.sin(w * t) - a * c * c) + ripple(t));
  const dphi = (t: number): number => (t > wall ? NaN : scale * (2 * a * (t - c) + 4 * b * (t - c) ** 3 + s * w * Math.cos(w * t)));
  return { phi, dphi, noise };
}

describe('linesearch.wgsl: one transition of the search', () => {
  it('agrees with advance() (float64) at every transition of 160 random searches, every branch; copies the trial exactly; outputs poisoned', async () => {
    const h = await harness();
    const rng = new Rng(11);
    const nDots = 3;
    const width = 2 + 1 + nDots;
    const seen = { extrapolate: 0, zoomFromBracket: 0, zoomStep: 0, wolfe: 0, approximateWolfe: 0, illegal: 0, secant: 0, ended: 0 };
    let [transitions, worst, f32Limit] = [0, 0, 0];
    for (let k = 0; k < 160; k++) {
      const noisy = k % 2 === 1;
      const line = randomLine(rng, noisy);
      const gtd = f32(line.dphi(0));
      if (!(gtd < 0)) continue;
      const c: SearchConstants = { f: line.phi(0), gtd, c1: 1e-4, c2: k % 3 === 0 ? 0.9 : 0.2, maxLS: 25, progTol: 1e-9, dNorm: 1, noise: line.noise };
      const s: SearchState = startSearch(c, f32(Math.exp(rng.range(Math.log(0.01), Math.log(60)))));
      const params = h.upload(lineSearchParams(c, [1]));
      while (s.phase !== 'done') {
        const t = s.t;
        // The trial as the GPU holds it: J in one float32 part, float32 dots.
        const part = f32(line.phi(t));
        const dots = Float32Array.from([line.dphi(t), rng.normal(), rng.normal()]);
        const state = h.upload(encodeSearchState(c, s));
        const scalars = h.upload([part]);
        const dotsBuf = h.upload(dots);
        const out = h.poisoned(width);
        await h.run([await h.kernels.lineSearchStep({ scalars, nScalars: 1, dots: dotsBuf, nDots, params, state, out, base: 0 })]);
        const got = await h.read(out, width);
        const phase = s.phase;
        const fNew = Number.isFinite(part) && Number.isFinite(dots[0]!) ? part : Infinity;
        if (fNew === Infinity) seen.illegal++;
        advance(c, s, fNew, dots[0]!);
        const after = phaseOf(s); // advance() moved it on (read through a call: TypeScript keeps the loop's narrowing of s.phase)
        transitions++;
        if (phase === 'bracket' && after === 'bracket') seen.extrapolate++;
        if (phase === 'bracket' && after === 'zoom') seen.zoomFromBracket++;
        if (phase === 'zoom' && after === 'zoom') seen.zoomStep++;
        if (after === 'done') {
          const curvature = Math.abs(s.g) <= -c.c2 * c.gtd;
          seen[curvature && s.f <= c.f + c.c1 * s.t * c.gtd ? 'wolfe' : curvature && s.f - c.f <= c.noise ? 'approximateWolfe' : 'ended']++;
        }
        if (noisy && s.bt.length === 2 && Math.abs(s.bf[0]! - s.bf[1]!) <= c.noise) seen.secant++;
        expect(got[2]).toBe(part);
        expect(Array.from(got.subarray(3))).toEqual(Array.from(dots));
        if (got[1] !== (after === 'done' ? 0 : 1) && s.bt.length === 2 && Math.abs(s.bt[0]! - s.bt[1]!) <= 4e-7 * Math.abs(s.t)) {
          // A bracket within a few float32 ulps of t: its width against progTol (1e-9) is
          // decided on float32 ends there. (θ moves by float32 steps on the GPU anyway.)
          f32Limit++;
          for (const b of [state, scalars, dotsBuf, out]) h.pool.release(b);
          continue;
        }
        expect(got[1], `search ${k}, trial at ${t}: a next trial?`).toBe(after === 'done' ? 0 : 1);
        const e = Math.abs(got[0]! - s.t) / Math.abs(s.t);
        worst = Math.max(worst, e);
        // Well inside the tolerance within which the search takes a device step.
        expect(e, `search ${k}, trial at ${t}: step ${got[0]} vs ${s.t}`).toBeLessThan(SPECULATIVE_STEP_TOLERANCE / 2);
        for (const b of [state, scalars, dotsBuf, out]) h.pool.release(b);
      }
      h.pool.release(params);
    }
    console.log(`line search transitions, GPU vs float64: ${transitions} transitions, worst relative step difference ${worst.toExponential(2)}, ${f32Limit} at float32's resolution of t; ${JSON.stringify(seen)}`);
    expect(f32Limit).toBeLessThanOrEqual(0.01 * transitions);
    for (const [name, count] of Object.entries(seen)) expect(count, name).toBeGreaterThan(3);
    expect(LS_STATE_SLOTS).toBe(encodeSearchState({ f: 0, gtd: -1, c1: 0, c2: 0, maxLS: 1, progTol: 0, dNorm: 1, noise: 0 }, startSearch({ f: 0, gtd: -1, c1: 0, c2: 0, maxLS: 1, progTol: 0, dNorm: 1, noise: 0 }, 1)).length);
  });
});

describe('GpuObjective.evaluateTrials in a line search', () => {
  it('same steps as without speculation, and the first `depth` trials in one readback (depth 2 and 3)', async () => {
    const net = resolveSpec({ layers: [13, 6, 13], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } });
    const rng = new Rng(4);
    const X = { rows: 37, cols: 13, data: Float64Array.from({ length: 37 * 13 }, () => rng.uniform()) };
    const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 2 })));
    const ctx = await gpu();
    const model = await createGpuModel(net, theta0, ctx.device);
    const obj = new GpuObjective(model, X);
    const ops = obj.ops;
    const x = ops.alloc();
    const d = ops.alloc();
    try {
      const saved = { 2: 0, 3: 0 };
      let skipped = 0;
      for (const t0 of [0.01, 0.3, 3, 30, 100]) {
        const results = [];
        // Speculation 1, 2, 3 with the gate (trialgate.wgsl), then 2 and 3 running every trial recorded.
        for (const [speculate, gate] of [[1, true], [2, true], [3, true], [2, false], [3, false]] as const) {
          obj.gateTrials = gate;
          const evals0 = obj.deviceEvaluations;
          ops.write(obj.theta, theta0);
          const f = (await obj.evaluate()) as number;
          ops.copy(obj.theta, x);
          ops.copy(obj.grad, d);
          ops.scale(-1, d);
          const [gg] = await ops.dots([[obj.grad, obj.grad]]);
          const reads0 = obj.readbacks;
          const ls = await wolfeLineSearch(obj, x, f, -gg!, d, t0, Math.sqrt(gg!), { c1: 1e-4, c2: 0.2, speculate }, { pairs: [[obj.grad, obj.grad]] });
          const gAt = (await ops.dots([[obj.grad, obj.grad]]))[0]!;
          const thetaAt = await ops.read(obj.theta);
          const xs = await ops.read(x);
          const ds = await ops.read(d);
          results.push({ ls, gAt, thetaAt, device: obj.deviceEvaluations - evals0 - 1, reads: obj.readbacks - reads0 - 4, thetaErr: Math.max(...thetaAt.map((v, i) => Math.abs(v - (xs[i]! + ls.t * ds[i]!)))) });
        }
        const plain = results[0]!;
        for (const depth of [2, 3] as const) {
          const spec = results[depth - 1]!;
          const ungated = results[depth + 1]!;
          // The gate changes nothing but the work done: the same search, bitwise, and θ, ∇J where they were.
          expect(spec.ls, `t0 ${t0}, depth ${depth}: gated vs not`).toEqual(ungated.ls);
          expect(spec.gAt).toBe(ungated.gAt);
          expect(spec.thetaAt).toEqual(ungated.thetaAt);
          expect(spec.reads).toBe(ungated.reads);
          // Not gated: every trial recorded runs. Gated: those the search used, and at most one repeat of
          // the step it returned (when that is not the last trial it evaluated).
          expect(ungated.device, `t0 ${t0}, depth ${depth}`).toBe(spec.ls.evaluations + (depth - Math.min(spec.ls.dots, depth)));
          expect(spec.device - spec.ls.evaluations, `t0 ${t0}, depth ${depth}`).toBeGreaterThanOrEqual(0);
          expect(spec.device - spec.ls.evaluations, `t0 ${t0}, depth ${depth}`).toBeLessThanOrEqual(1);
          skipped += ungated.device - spec.device;
          // The device's float32 steps (1e-7 relative) move the later trials slightly; J moves along with them.
          expect(Math.abs(spec.ls.t - plain.ls.t) / plain.ls.t, `t0 ${t0}, depth ${depth}`).toBeLessThan(1e-4);
          expect(Math.abs(spec.ls.f - (plain.ls.f + plain.ls.gtd * (spec.ls.t - plain.ls.t))) / plain.ls.f).toBeLessThan(1e-5);
          expect(spec.ls.dots, `t0 ${t0}, depth ${depth}: trials`).toBe(plain.ls.dots);
          expect(spec.ls.unused).toBe(0);
          // θ ends at x + t·d for the step returned, and the probe is ∇Jᵀ∇J there.
          expect(spec.thetaErr).toBeLessThan(1e-5);
          expect(Math.abs(spec.ls.probe[0]! - spec.gAt) / spec.gAt).toBeLessThan(1e-6);
          // One readback for the first min(trials, depth) trials.
          const fewer = Math.min(plain.ls.dots, depth) - 1;
          expect(spec.reads, `t0 ${t0}, depth ${depth}`).toBe(plain.reads - fewer);
          saved[depth] += fewer;
        }
      }
      expect(saved[2]).toBeGreaterThanOrEqual(2);
      expect(saved[3]).toBeGreaterThan(saved[2]);
      expect(skipped).toBeGreaterThan(0);
    } finally {
      ops.free(x);
      ops.free(d);
      obj.dispose();
      model.dispose();
    }
  });
});

describe('CG with its line-search trials speculated (CgOptions.speculate)', () => {
  it('the same iterates (up to float32 steps) with 1, 2 or 3 trials per round trip, fewer readbacks with more; a bad value is refused', async () => {
    const net = resolveSpec({ layers: [13, 6, 13], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } });
    const rng = new Rng(8);
    const X = { rows: 41, cols: 13, data: Float64Array.from({ length: 41 * 13 }, () => rng.uniform()) };
    const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 3 })));
    const ctx = await gpu();
    const runs: { costs: number[]; reads: number; device: number; theta: Float64Array; submits: number }[] = [];
    // Speculation 1, 2, 3 (trials gated by trialgate.wgsl), then 3 running every trial recorded.
    for (const [speculate, gate] of [[1, true], [2, true], [3, true], [3, false]] as const) {
      const model = await createGpuModel(net, theta0, ctx.device);
      const obj = new GpuObjective(model, X);
      obj.gateTrials = gate;
      try {
        const costs: number[] = [];
        const counter = instrument(ctx.device)!;
        const r = await conjugateGradient(obj, { maxIterations: 15, optTol: 0, progTol: 0, speculate, onIteration: (i) => void costs.push(i.cost!) });
        counter.stop();
        expect(r.iterations).toBe(15);
        runs.push({ costs, reads: obj.readbacks, device: obj.deviceEvaluations, theta: await obj.ops.read(obj.theta), submits: counter.submits });
      } finally {
        obj.dispose();
        model.dispose();
      }
    }
    const ungated = runs.pop()!;
    // The gate skips work and nothing else: bitwise the same run.
    expect(runs[2]!.costs).toEqual(ungated.costs);
    expect(runs[2]!.theta).toEqual(ungated.theta);
    expect(runs[2]!.reads).toBe(ungated.reads);
    // Gated, the three trials of an iteration's first round trip share one submit; not gated, one submit each.
    expect(ungated.submits - runs[2]!.submits).toBe(2 * 15);
    console.log(`CG, 15 iterations, 3 trials per round trip: ${ungated.device} evaluations on the device, ${runs[2]!.device} with the gate (1 trial per round trip: ${runs[0]!.device}); submits ${ungated.submits} → ${runs[2]!.submits}`);
    expect(runs[2]!.device).toBeLessThan(ungated.device);
    expect(runs[2]!.device).toBeLessThanOrEqual(runs[0]!.device + 15);
    for (const run of runs.slice(1)) {
      // The device's float32 steps (1e-7 relative) are where the runs part; CG
      // amplifies that (measured: 1e-7 over the first 7 iterations, 1e-3 after 15).
      for (let i = 0; i < 7; i++) expect(Math.abs(run.costs[i]! - runs[0]!.costs[i]!) / runs[0]!.costs[i]!, `iteration ${i + 1}`).toBeLessThan(1e-5);
      expect(Math.abs(run.costs[14]! - runs[0]!.costs[14]!) / runs[0]!.costs[14]!).toBeLessThan(1e-2);
    }
    console.log(`CG, 15 iterations: readbacks ${runs.map((r) => r.reads).join(' / ')} with 1 / 2 / 3 trials per round trip`);
    expect(runs[1]!.reads).toBeLessThan(runs[0]!.reads);
    expect(runs[2]!.reads).toBeLessThanOrEqual(runs[1]!.reads);
    const obj = new GpuObjective(await createGpuModel(net, theta0, ctx.device), X);
    await expect(conjugateGradient(obj, { speculate: 0 })).rejects.toThrow(/speculate must be a positive integer.*got 0/);
    obj.dispose();
  });
});
