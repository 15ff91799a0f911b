// Checkpoint and resume: a run interrupted at iteration k and resumed from
// the state taken there (θ saved apart, the state through its JSON form, a
// fresh objective) follows the uninterrupted run exactly.
import { describe, expect, it } from 'vitest';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, SpecError } from '../src/spec.js';
import { matrix } from '../src/matrix.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import type { CpuObjective } from '../src/optim/cpu-vectors.js';
import { optimize, type OptimizerOptions } from '../src/optim/optimize.js';
import { OPTIMIZER_STATE_FORMAT, stateFromJSON, stateToJSON } from '../src/optim/state.js';
import type { IterationInfo, OptimizeResult, OptimizerState } from '../src/optim/types.js';
import { quadratic } from './train-problems.js';

// A tiny sparse autoencoder, 4-3-4 sigmoid, on 30 examples: n = 31 parameters.
const net = resolveSpec({ layers: [4, 3, 4], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } });
const rng = new Rng(7);
const X = matrix(30, 4, Array.from({ length: 120 }, () => rng.range(0, 1)));
const theta0 = initParameters(net, { seed: 1 });
const makeObjective = (theta: ArrayLike<number> = theta0): CpuObjective => cpuNetworkObjective(net, theta, X);

type Info = Omit<IterationInfo, 'checkpoint'>;
const strip = ({ checkpoint: _checkpoint, ...rest }: IterationInfo): Info => rest;

interface Trace {
  infos: Info[];
  /** θ after each iteration. */
  thetas: Float64Array[];
  result: OptimizeResult;
  theta: Float64Array;
}

/** Runs to the end, recording every iteration. */
async function trace(options: OptimizerOptions, theta = theta0, resume?: OptimizerState): Promise<Trace> {
  const obj = makeObjective(theta);
  const infos: Info[] = [];
  const thetas: Float64Array[] = [];
  const result = await optimize(obj, {
    ...options,
    resume,
    onIteration: (i) => {
      expect(typeof i.checkpoint).toBe('function');
      infos.push(strip(i));
      thetas.push(obj.theta.slice());
    },
  } as OptimizerOptions);
  return { infos, thetas, result, theta: obj.theta.slice() };
}

/** Runs until iteration k, takes the checkpoint and θ there and stops; the state comes back through JSON text. */
async function interrupt(options: OptimizerOptions, k: number, theta = theta0, resume?: OptimizerState): Promise<{ state: OptimizerState; theta: Float64Array; result: OptimizeResult }> {
  const obj = makeObjective(theta);
  let state: OptimizerState | undefined;
  let saved: Float64Array | undefined;
  const result = await optimize(obj, {
    ...options,
    resume,
    onIteration: async (i) => {
      if (i.iteration < k) return true;
      state = await i.checkpoint!();
      saved = await obj.ops.read(obj.theta);
      return false;
    },
  } as OptimizerOptions);
  expect(result.reason).toBe('callback');
  expect(result.iterations).toBe(k);
  const text = JSON.stringify(stateToJSON(state!));
  const back = stateFromJSON(JSON.parse(text));
  expectSameState(back, state!);
  return { state: back, theta: saved!, result };
}

function bits(v: Float64Array): number[] {
  return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length * 2));
}

function expectSameState(a: OptimizerState, b: OptimizerState): void {
  const { vectors: va, ...ra } = a;
  const { vectors: vb, ...rb } = b;
  expect(ra).toEqual(rb);
  expect(Object.keys(va).sort()).toEqual(Object.keys(vb).sort());
  for (const k of Object.keys(va)) expect(bits(va[k]!)).toEqual(bits(vb[k]!));
}

const CASES: [string, OptimizerOptions, number[]][] = [
  ['gd', { method: 'gd', learningRate: { type: 'step', lr: 2, gamma: 0.8, every: 4 }, iterations: 20, costEvery: 3, finalCost: true }, [1, 7, 19]],
  [
    'sgd (batch 7 of 30, step schedule per epoch, iterations limit)',
    { method: 'sgd', learningRate: { type: 'step', lr: 1, gamma: 0.7, every: 1 }, batchSize: 7, seed: 3, iterations: 23, costEvery: 2, finalCost: true },
    [3, 5, 10, 12, 22],
  ],
  [
    'momentum, Nesterov (batch 7, exponential schedule per iteration, epochs limit)',
    { method: 'momentum', momentum: 0.9, nesterov: true, learningRate: { type: 'exponential', lr: 0.5, decay: 0.97, per: 'iteration' }, batchSize: 7, seed: 5, epochs: 4, costEvery: 1 },
    [1, 4, 5, 6, 19],
  ],
  ['adam (batch 7)', { method: 'adam', learningRate: 0.05, batchSize: 7, seed: 2, epochs: 5, costEvery: 3 }, [2, 9, 15, 24]],
  ['lbfgs (history 3)', { method: 'lbfgs', history: 3, maxIterations: 30 }, [1, 2, 3, 4, 9, 29]],
  ['cg (restart every 4)', { method: 'cg', restartEvery: 4, maxIterations: 30 }, [1, 3, 4, 5, 13, 29]],
];

describe.each(CASES)('resume: %s', (_name, options, points) => {
  it('continues on exactly the same path from every checkpoint', async () => {
    const full = await trace(options);
    const K = full.result.iterations;
    expect(K).toBeGreaterThan(Math.max(...points)); // the run did not stop before the checkpoints
    for (const k of points) {
      const cut = await interrupt(options, k);
      expect(bits(cut.theta)).toEqual(bits(full.thetas[k - 1]!));
      expect(cut.state).toMatchObject({ method: options.method, iteration: k, epoch: full.infos[k - 1]!.epoch, evaluations: full.infos[k - 1]!.evaluations });
      const rest = await trace(options, cut.theta, cut.state);
      // Same iterations, costs, steps, evaluation counts and iterates after k; same end.
      expect(rest.infos).toEqual(full.infos.slice(k));
      rest.thetas.forEach((t, i) => expect(bits(t)).toEqual(bits(full.thetas[k + i]!)));
      expect(bits(rest.theta)).toEqual(bits(full.theta));
      expect(rest.result).toEqual(full.result);
    }
  });

  it('survives two interruptions (a checkpoint taken in a resumed run)', async () => {
    const full = await trace(options);
    const [k1, k2] = [points[1]!, points[points.length - 1]!];
    const a = await interrupt(options, k1);
    const b = await interrupt(options, k2, a.theta, a.state);
    const rest = await trace(options, b.theta, b.state);
    expect(rest.infos).toEqual(full.infos.slice(k2));
    expect(bits(rest.theta)).toEqual(bits(full.theta));
    expect(rest.result).toEqual(full.result);
  });
});

describe('resume: stopping at the same total', () => {
  it('mini-batch: epochs and iterations count on from the state', async () => {
    const o: OptimizerOptions = { method: 'sgd', learningRate: 0.3, batchSize: 7, epochs: 3 };
    const full = await trace(o);
    expect(full.result).toMatchObject({ iterations: 15, reason: 'epochs' });
    // At the end of the last epoch: nothing left to do.
    const end = await interrupt(o, 15);
    const rest = await trace(o, end.theta, end.state);
    expect(rest.infos).toEqual([]);
    expect(rest.result).toMatchObject({ iterations: 15, reason: 'epochs' });
    expect(bits(rest.theta)).toEqual(bits(full.theta));
  });

  for (const method of ['lbfgs', 'cg'] as const) {
    it(`${method}: a run that stopped on a test right after the checkpointed iteration stops there again`, async () => {
      const q = quadratic(6, 3, 1, 5);
      const o: OptimizerOptions = { method, optTol: 1e-6 };
      const full = q.objective();
      const r = await optimize(full, o);
      expect(['gradient', 'step', 'progress']).toContain(r.reason);
      let state: OptimizerState | undefined;
      let theta: Float64Array | undefined;
      const cut = q.objective();
      await optimize(cut, {
        ...o,
        onIteration: async (i) => {
          if (i.iteration < r.iterations) return;
          state = await i.checkpoint!();
          theta = await cut.ops.read(cut.theta);
          return false;
        },
      });
      const again = q.objective(theta);
      const calls: number[] = [];
      const r2 = await optimize(again, { ...o, resume: stateFromJSON(JSON.stringify(stateToJSON(state!))), onIteration: (i) => void calls.push(i.iteration) });
      expect(calls).toEqual([]);
      expect(r2).toEqual(r);
      expect(bits(again.theta)).toEqual(bits(full.theta));
    });
  }

  it('lbfgs with a smaller history keeps the newest pairs', async () => {
    const o: OptimizerOptions = { method: 'lbfgs', history: 5, maxIterations: 12 };
    const cut = await interrupt(o, 8);
    expect(cut.state.scalars.pairs).toBe(5);
    const r = await optimize(makeObjective(cut.theta), { ...o, history: 2, resume: cut.state });
    expect(r.iterations).toBe(12);
  });
});

describe('resume: mismatches are errors', () => {
  it('a state of another method', async () => {
    const cut = await interrupt({ method: 'sgd', batchSize: 7, learningRate: 0.1, epochs: 2 }, 3);
    for (const method of ['adam', 'momentum', 'gd', 'lbfgs', 'cg'] as const) {
      const p = optimize(makeObjective(cut.theta), { method, resume: cut.state });
      await expect(p).rejects.toThrow(SpecError);
      await expect(optimize(makeObjective(cut.theta), { method, resume: cut.state })).rejects.toThrow(
        new RegExp(`taken by optimizer 'sgd', but the options select '${method}'`),
      );
    }
  });

  it('a vector of the wrong length, a missing or extra vector, another parameter count', async () => {
    const m = await interrupt({ method: 'momentum', batchSize: 7, learningRate: 0.1, epochs: 2 }, 3);
    const short = { ...m.state, vectors: { velocity: new Float64Array(30) } };
    await expect(optimize(makeObjective(m.theta), { method: 'momentum', resume: short })).rejects.toThrow(SpecError);
    await expect(optimize(makeObjective(m.theta), { method: 'momentum', resume: short })).rejects.toThrow(/vector 'velocity' has 30 values, but the objective has n = 31/);

    const a = await interrupt({ method: 'adam', batchSize: 7, epochs: 2 }, 4);
    const { m: _m, ...onlyV } = a.state.vectors;
    await expect(optimize(makeObjective(a.theta), { method: 'adam', resume: { ...a.state, vectors: onlyV } })).rejects.toThrow(/lacks 'm'/);
    // Momentum μ = 0 keeps no velocity: a state with one does not fit.
    await expect(optimize(makeObjective(m.theta), { method: 'momentum', momentum: 0, resume: m.state })).rejects.toThrow(/has 'velocity' which momentum 0/);
    await expect(optimize(makeObjective(m.theta), { method: 'momentum', nesterov: true, resume: m.state })).rejects.toThrow(/nesterov/);

    const l = await interrupt({ method: 'lbfgs', maxIterations: 10 }, 4);
    const bad = { ...l.state, vectors: { ...l.state.vectors, s0: new Float64Array(32) } };
    await expect(optimize(makeObjective(l.theta), { method: 'lbfgs', resume: bad })).rejects.toThrow(/vector 's0' has 32 values, but the objective has n = 31/);

    const g = await interrupt({ method: 'gd', iterations: 10 }, 4);
    const other = quadratic(5, 1).objective();
    await expect(optimize(other, { method: 'gd', resume: g.state })).rejects.toThrow(/state is for 31 parameters, but the objective has n = 5/);
  });

  it('mid-epoch: another batch size or seed; at an epoch boundary they may change', async () => {
    const o = { method: 'sgd', batchSize: 7, seed: 1, learningRate: 0.1, epochs: 3 } as const;
    const mid = await interrupt(o, 7);
    await expect(optimize(makeObjective(mid.theta), { ...o, batchSize: 6, resume: mid.state })).rejects.toThrow(/middle of epoch 1 \(after batch 2 of 5\)/);
    await expect(optimize(makeObjective(mid.theta), { ...o, seed: 2, resume: mid.state })).rejects.toThrow(SpecError);
    const edge = await interrupt(o, 10);
    const r = await optimize(makeObjective(edge.theta), { ...o, batchSize: 10, resume: edge.state });
    expect(r).toMatchObject({ iterations: 13, reason: 'epochs' });
  });

  it('lbfgs and cg reject a θ that is not the one saved with the state', async () => {
    for (const method of ['lbfgs', 'cg'] as const) {
      const cut = await interrupt({ method, maxIterations: 10 }, 5);
      await expect(optimize(makeObjective(theta0), { method, resume: cut.state })).rejects.toThrow(/restore the θ saved with the checkpoint/);
    }
  });

  it('checkpoint() after its onIteration returned', async () => {
    let later: (() => Promise<OptimizerState>) | undefined;
    const obj = makeObjective();
    await optimize(obj, { method: 'adam', batchSize: 7, iterations: 3, onIteration: (i) => void (later ??= i.checkpoint) });
    await expect(later!()).rejects.toThrow(/after its onIteration returned/);
  });
});

describe('stateToJSON / stateFromJSON', () => {
  it('round-trips every number bitwise, special values included', () => {
    const r = new Rng(3);
    for (const n of [0, 1, 2, 3, 17]) {
      const v = Float64Array.from({ length: n }, () => r.normal() * 10 ** r.int(40));
      if (n >= 3) [v[0], v[1], v[2]] = [-0, 5e-324, NaN];
      const state: OptimizerState = {
        method: 'lbfgs',
        iteration: 12,
        epoch: 11,
        evaluations: 40,
        scalars: { n, a: 0.1 + 0.2, b: -0, c: Infinity, d: -Infinity, e: NaN, f: true, g: null, h: 1e-310, i: -Number.MAX_VALUE },
        vectors: { v, w: v.map((x) => -x) },
      };
      const json = stateToJSON(state);
      expect(json.format).toBe(OPTIMIZER_STATE_FORMAT);
      // The vectors are standard base64 of the little-endian float64 bytes.
      expect(json.vectors.v).toBe(Buffer.from(v.buffer).toString('base64'));
      const text = JSON.stringify(json);
      const back = stateFromJSON(text);
      expectSameState(back, state);
      expect(Object.is(back.scalars.b, -0)).toBe(true);
      expect(back.scalars.e).toBeNaN();
      expectSameState(stateFromJSON(JSON.parse(text)), state);
    }
  });

  it('rejects what is not a state', () => {
    const good = stateToJSON({ method: 'gd', iteration: 1, epoch: 0, evaluations: 1, scalars: { n: 1 }, vectors: { x: new Float64Array([1]) } });
    expect(() => stateFromJSON({ ...good, format: 'x' } as never)).toThrow(SpecError);
    expect(() => stateFromJSON({ ...good, version: 2 })).toThrow(/version/);
    expect(() => stateFromJSON({ ...good, iteration: 1.5 })).toThrow(/iteration/);
    expect(() => stateFromJSON({ ...good, scalars: { n: 'one' } })).toThrow(/scalar n/);
    expect(() => stateFromJSON({ ...good, vectors: { x: 'AAAA' } })).toThrow(/float64/);
    expect(() => stateFromJSON({ ...good, vectors: { x: 'AA*AAAAAAAA=' } })).toThrow(/base64/);
  });
});
