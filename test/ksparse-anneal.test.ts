// k-sparse annealing (kSparse.anneal; Makhzani & Frey 2014): the schedule
// k(e) = round(from + (k − from)·min(1, e/epochs)), its validation, the CPU
// objective following it (the number of units each example keeps), the GPU
// following the CPU step for step (Adam, same θ trajectory), no pipelines, bind
// groups or buffers made per step while k changes, line-search methods refused,
// evaluation at the final k, and a resumed run continuing the schedule.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kSparseAt, networkWithK } from '../src/ksparse-anneal.js';
import { networkToSpec, resolveSpec, SpecError, type NetworkSpec } from '../src/spec.js';
import { initParameters, paramLayout } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { matrix, type Matrix } from '../src/matrix.js';
import { cpuCost } from '../src/cpu/network.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import { createModel } from '../src/model.js';
import { createGpuModel, type GpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { engineCounters } from '../src/gpu/counters.js';
import { optimize, type OptimizerOptions } from '../src/optim/optimize.js';
import { stateFromJSON, stateToJSON } from '../src/optim/state.js';
import type { Objective, OptimizerState } from '../src/optim/types.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';
import { checkConfig, type TrainConfig } from '../src/train/config.js';
import { relNormDiff } from './helpers/gpu.js';

// Makhzani & Frey's MNIST setting: k 25, annealed from 100 over 5 epochs.
const mnist = resolveSpec({ layers: [784, 196, 784], activation: ['identity', 'sigmoid'], autoencoder: true, kSparse: { k: 25, anneal: { from: 100, epochs: 5 } } });

// The tiny net of the training tests: 12-9-12, linear hidden units, k 2 annealed from 8 over 2 epochs.
const spec: NetworkSpec = { layers: [12, 9, 12], activation: ['identity', 'sigmoid'], autoencoder: true, lambda: 1e-3, kSparse: { k: 2, anneal: { from: 8, epochs: 2 } } };
const net = resolveSpec(spec);
const fixed = resolveSpec({ ...spec, kSparse: { k: 2 } });
const rng = new Rng(11);
const X: Matrix = matrix(20, 12, Array.from({ length: 240 }, () => rng.range(0, 1)));
const theta0 = initParameters(net, { seed: 3 });
/** 20 examples in batches of 5: 4 steps per epoch, 12 over 3 epochs; k goes 8 7 7 6 5 4 4 3 2 2 2 2. */
const ADAM: OptimizerOptions = { method: 'adam', learningRate: 0.01, batchSize: 5, epochs: 3, seed: 4 };
const SCHEDULE = [8, 7, 7, 6, 5, 4, 4, 3, 2, 2, 2, 2];

/** Units kept for example 0 at progress e: with one example, the non-zero entries of ∇b(1) (a dropped unit passes no gradient). */
async function keptUnits(obj: Objective<unknown>, read: () => Promise<Float64Array>, epochs: number): Promise<number> {
  obj.setProgress!(epochs);
  await obj.evaluate({ batch: { start: 0, count: 1 }, cost: false });
  const g = await read();
  const s = paramLayout(net).slots[0]!;
  return Array.from(g.subarray(s.b, s.b + 9)).filter((v) => v !== 0).length;
}

/** θ after every iteration of `options` on `obj`. */
async function trajectory(obj: Objective<unknown>, read: () => Promise<Float64Array>, options: OptimizerOptions, resume?: OptimizerState): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  await optimize(obj, { ...options, resume, onIteration: async () => void out.push(await read()) } as OptimizerOptions);
  return out;
}

describe('k-sparse annealing: the schedule', () => {
  it('starts at from, falls linearly (rounded), reaches k exactly at `epochs` and stays there', () => {
    const ks = mnist.kSparse!;
    expect(kSparseAt(ks, 0)).toBe(100);
    expect(kSparseAt(ks, 1)).toBe(85); // 100 − 75/5
    expect(kSparseAt(ks, 2.5)).toBe(63); // round(62.5)
    expect(kSparseAt(ks, 4.99)).toBe(25); // round(25.15)
    expect(kSparseAt(ks, 5)).toBe(25);
    expect(kSparseAt(ks, 7.3)).toBe(25);
    let prev = Infinity;
    for (let e = 0; e <= 6; e += 1 / 97) {
      const k = kSparseAt(ks, e);
      expect(Number.isInteger(k) && k <= prev && k >= 25 && k <= 100, `e = ${e}`).toBe(true);
      prev = k;
    }
    // No annealing: always the spec's k.
    expect(kSparseAt(fixed.kSparse!, 0)).toBe(2);
    expect(kSparseAt(fixed.kSparse!, 9)).toBe(2);
    expect(() => kSparseAt(ks, -1)).toThrow(/training progress must be a finite number of epochs ≥ 0, got -1/);
    expect(() => kSparseAt(ks, NaN)).toThrow(/got NaN/);
    // The schedule of the training tests.
    expect(Array.from({ length: 12 }, (_, i) => kSparseAt(net.kSparse!, i / 4))).toEqual(SCHEDULE);
  });

  it('validation names the offending value', () => {
    const base = { layers: [6, 5, 6], activation: 'identity' as const, autoencoder: true };
    const bad = (anneal: unknown): (() => unknown) => () => resolveSpec({ ...base, kSparse: { k: 2, anneal } } as NetworkSpec);
    expect(bad({ from: 2, epochs: 1 })).toThrow(/kSparse\.anneal\.from must be an integer in 3 … 5 \(above k = 2, at most the 5 units of layer 2\), got 2/);
    expect(bad({ from: 6, epochs: 1 })).toThrow(/kSparse\.anneal\.from must be an integer in 3 … 5 .*got 6/);
    expect(bad({ from: 3.5, epochs: 1 })).toThrow(/network\.kSparse\.anneal\.from must be an integer, got the number 3\.5/);
    expect(bad({ from: 4, epochs: 0 })).toThrow(/kSparse\.anneal\.epochs must be a positive number of epochs, got 0/);
    expect(bad({ from: 4, epochs: -2 })).toThrow(/got -2/);
    expect(bad({ from: 4, epochs: '3' })).toThrow(/network\.kSparse\.anneal\.epochs must be a number, got the string "3"/);
    expect(bad({ from: 4 })).toThrow(/network\.kSparse\.anneal.*epochs/);
    expect(bad({ from: 4, epoch: 2, epochs: 1 })).toThrow(/network\.kSparse\.anneal\.epoch is not a known key \(did you mean network\.kSparse\.anneal\.epochs\?\)/);
    // Two k-sparse layers: `from` is bounded by the smaller.
    expect(() => resolveSpec({ layers: [6, 5, 3, 5, 6], activation: 'identity', autoencoder: true, kSparse: { k: 2, anneal: { from: 4, epochs: 1 } } })).toThrow(/in 3 … 3 .*3 units of layer 3\), got 4/);
    expect(bad({ from: 4, epochs: 1 })).not.toThrow();
  });

  it('round-trips through networkToSpec and the model file; inference reads the final k', () => {
    expect(networkToSpec(net).kSparse).toEqual({ k: 2, layers: [2], anneal: { from: 8, epochs: 2 } });
    expect(resolveSpec(networkToSpec(net)).kSparse).toEqual(net.kSparse);
    const back = decodeModel(encodeModel(net, theta0)).network;
    expect(back.kSparse).toEqual({ k: 2, onLayer: [true, false], anneal: { from: 8, epochs: 2 } });
    // networkWithK: the network a training evaluation at k computes (no schedule).
    expect(networkWithK(net, 5).kSparse).toEqual({ k: 5, onLayer: [true, false] });
    expect(networkWithK(net, 5)).toBe(networkWithK(net, 5));
  });

  it('configurations: line-search methods and runs shorter than the schedule are refused', () => {
    const cfg = (optimizer: OptimizerOptions, anneal = { from: 8, epochs: 2 }): TrainConfig => ({ network: { ...spec, kSparse: { k: 2, anneal } }, data: { source: 'mnist' }, optimizer });
    expect(() => checkConfig(cfg({ method: 'lbfgs' }))).toThrow(/network\.kSparse\.anneal changes k during training, but optimizer\.method lbfgs needs a fixed objective/);
    expect(() => checkConfig(cfg({ method: 'cg' }))).toThrow(/optimizer\.method cg/);
    expect(() => checkConfig(cfg({ method: 'adam', epochs: 1 }))).toThrow(/network\.kSparse\.anneal\.epochs \(2\) is more than the run's 1 epoch \(optimizer\.epochs\): training would end before k reaches 2/);
    expect(() => checkConfig(cfg({ method: 'gd', iterations: 1 }, { from: 8, epochs: 1.5 }))).toThrow(/\(1\.5\) is more than the run's 1 epoch \(optimizer\.iterations\)/);
    expect(() => checkConfig(cfg({ method: 'adam', epochs: 2 }))).not.toThrow();
    expect(() => checkConfig(cfg({ method: 'sgd', iterations: 5 }))).not.toThrow(); // limited by iterations only
    expect(() => checkConfig(cfg({ method: 'adam' }, { from: 8, epochs: 11 }))).toThrow(/run's 10 epochs/);
  });
});

describe('k-sparse annealing on the CPU (the reference)', () => {
  it('each example keeps k(e) units; the full cost and a CPU model evaluate at the final k', async () => {
    const obj = cpuNetworkObjective(net, theta0, X);
    expect(obj.schedule).toBe('kSparse k annealed from 8 to 2 over 2 epochs');
    const read = async (): Promise<Float64Array> => obj.grad.slice();
    for (const e of [0, 0.25, 0.5, 1, 1.5, 1.9, 2, 5]) expect(await keptUnits(obj, read, e), `e = ${e}`).toBe(kSparseAt(net.kSparse!, e));
    // Evaluations at e use the network with k(e).
    obj.setProgress!(1);
    const J = await obj.evaluate();
    expect(J).toBe(cpuCost(networkWithK(net, 5), theta0, X, undefined, { gradient: false }).cost);
    // A model's objective: fullCost (what fit reports) and cost() at the final k, whatever the progress.
    const model = await createModel(net, { backend: 'cpu', parameters: theta0 });
    const mo = model.objective(model.dataset(X));
    mo.setProgress!(0);
    await mo.evaluate({ cost: false });
    const final = cpuCost(fixed, theta0, X, undefined, { gradient: false }).cost;
    expect((await mo.fullCost()).cost).toBe(final);
    expect((await model.cost(X, undefined, { gradient: false })).cost).toBe(final);
    expect(final).not.toBe(cpuCost(networkWithK(net, 8), theta0, X, undefined, { gradient: false }).cost);
  });

  it('L-BFGS and CG refuse an annealed objective; a fixed k trains with them', async () => {
    for (const method of ['lbfgs', 'cg'] as const) {
      await expect(optimize(cpuNetworkObjective(net, theta0, X), { method, maxIterations: 2 })).rejects.toThrow(
        new RegExp(`${method} needs a fixed objective for its line search, but this one changes during training \\(kSparse k annealed from 8 to 2 over 2 epochs\\)`),
      );
      await expect(optimize(cpuNetworkObjective(net, theta0, X), { method, maxIterations: 2 })).rejects.toThrow(SpecError);
      await expect(optimize(cpuNetworkObjective(fixed, theta0, X), { method, maxIterations: 2 })).resolves.toBeTruthy();
    }
  });

  it('Adam hands the objective the progress of each step: k goes 8 7 7 6 5 4 4 3 2 2 2 2', async () => {
    const obj = cpuNetworkObjective(net, theta0, X);
    const seen: number[] = [];
    const inner = obj.setProgress!.bind(obj);
    obj.setProgress = (e: number): void => {
      seen.push(kSparseAt(net.kSparse!, e));
      inner(e);
    };
    const thetas = await trajectory(obj, async () => obj.theta.slice(), ADAM);
    expect(seen).toEqual(SCHEDULE);
    // The run differs from one with k = 2 throughout.
    const fixedObj = cpuNetworkObjective(fixed, theta0, X);
    const fixedThetas = await trajectory(fixedObj, async () => fixedObj.theta.slice(), ADAM);
    expect(relNormDiff(thetas[11]!, fixedThetas[11]!)).toBeGreaterThan(1e-3);
  });

  it('a resumed run continues the schedule (mid-epoch and at an epoch boundary), bitwise', async () => {
    const full = cpuNetworkObjective(net, theta0, X);
    const want = await trajectory(full, async () => full.theta.slice(), ADAM);
    for (const at of [3, 4, 6]) {
      const first = cpuNetworkObjective(net, theta0, X);
      let state: OptimizerState | undefined;
      await optimize(first, { ...ADAM, onIteration: async (i) => (i.iteration < at ? true : ((state = await i.checkpoint!()), false)) } as OptimizerOptions);
      const back = stateFromJSON(JSON.parse(JSON.stringify(stateToJSON(state!))));
      // A fresh objective (its k at `from`), θ restored: the optimizer sets the progress of the restored position.
      const second = cpuNetworkObjective(net, first.theta, X);
      const rest = await trajectory(second, async () => second.theta.slice(), ADAM, back);
      expect(rest.length, `from ${at}`).toBe(12 - at);
      rest.forEach((t, i) => expect(Array.from(t), `from ${at}, iteration ${at + i + 1}`).toEqual(Array.from(want[at + i]!)));
    }
  });
});

describe('k-sparse annealing on WebGPU', () => {
  const models: GpuModel[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const m of models.splice(0)) m.dispose();
  });
  const gpuRun = async (spec0 = net): Promise<{ model: GpuModel; obj: GpuObjective; read: () => Promise<Float64Array> }> => {
    const model = await createGpuModel(spec0, theta0, undefined, { gemmVariant: 'unrolled-8x4' });
    models.push(model);
    const obj = new GpuObjective(model, X);
    return { model, obj, read: () => obj.ops.read(obj.theta) };
  };

  it('keeps k(e) units per example, as the CPU does', async () => {
    const { obj } = await gpuRun();
    expect(obj.schedule).toBe('kSparse k annealed from 8 to 2 over 2 epochs');
    for (const e of [0, 0.25, 0.75, 1.25, 1.75, 2, 3]) expect(await keptUnits(obj, () => obj.ops.read(obj.grad), e), `e = ${e}`).toBe(kSparseAt(net.kSparse!, e));
    await expect(optimize(obj, { method: 'lbfgs', maxIterations: 1 })).rejects.toThrow(/lbfgs needs a fixed objective/);
  });

  it('Adam with annealing: the GPU follows the CPU θ trajectory (‖Δθ‖/‖θ‖ ≤ 1e-5 at every step; 1.3e-6 measured)', async () => {
    const cpu = cpuNetworkObjective(net, theta0, X);
    const want = await trajectory(cpu, async () => cpu.theta.slice(), ADAM);
    const { obj, read } = await gpuRun();
    const got = await trajectory(obj, read, ADAM);
    expect(got.length).toBe(12);
    const errs = got.map((t, i) => relNormDiff(t, want[i]!));
    expect(Math.max(...errs), errs.map((e) => e.toExponential(1)).join(' ')).toBeLessThan(1e-5);
    // The full cost is at the final k, as the CPU's.
    const f = await obj.fullCost();
    expect(Math.abs(f.cost - cpuCost(fixed, want[11]!, X, undefined, { gradient: false }).cost)).toBeLessThan(1e-5 * f.cost);
    // Examples streamed from host memory (over maxDataBytes): the same steps, bitwise.
    const model = await createGpuModel(net, theta0, undefined, { gemmVariant: 'unrolled-8x4' });
    models.push(model);
    const streamed = new GpuObjective(model, X, undefined, { maxDataBytes: 400 });
    expect(streamed.streaming).toBe(true);
    const viaHost = await trajectory(streamed, () => streamed.ops.read(streamed.theta), ADAM);
    viaHost.forEach((t, i) => expect(Array.from(t), `streamed, iteration ${i + 1}`).toEqual(Array.from(got[i]!)));
  });

  it('no pipeline, bind group or buffer is made per step while k changes; k is one 4-byte write per change', async () => {
    const { model, obj } = await gpuRun();
    const device = model.ctx.device;
    // Epoch 1 builds every batch shape's plan and gather (k 8 → 5); epochs 2–3 reuse them while k falls 5 → 2.
    const counts = { bindGroups: 0, pipelines: 0, kWrites: 0 };
    let pipelines0 = 0;
    let buffers0 = 0;
    let warmup = { ...counts };
    const bindGroup = device.createBindGroup.bind(device);
    vi.spyOn(device, 'createBindGroup').mockImplementation((d) => (counts.bindGroups++, bindGroup(d)));
    for (const f of ['createComputePipeline', 'createComputePipelineAsync'] as const) {
      const orig = (device[f] as (...a: unknown[]) => unknown).bind(device);
      vi.spyOn(device, f).mockImplementation(((...a: unknown[]) => (counts.pipelines++, orig(...a))) as never);
    }
    const write = device.queue.writeBuffer.bind(device.queue);
    vi.spyOn(device.queue, 'writeBuffer').mockImplementation(((b: GPUBuffer, ...rest: unknown[]) => {
      if (b.label === 'k-sparse k') counts.kWrites++;
      return (write as (...a: unknown[]) => void)(b, ...rest);
    }) as never);
    await optimize(obj, {
      ...ADAM,
      onIteration: (i) => {
        if (i.iteration === 4) {
          // After epoch 1 (which built the plans: the spies see them): start counting.
          warmup = { ...counts };
          Object.assign(counts, { bindGroups: 0, pipelines: 0, kWrites: 0 });
          pipelines0 = engineCounters().pipelines;
          buffers0 = engineCounters().buffers;
        }
      },
    });
    await obj.commit();
    expect(warmup.bindGroups).toBeGreaterThan(10);
    expect(warmup.kWrites).toBe(3); // steps 1–4: k 8 7 7 6 (the model starts at the final k, 2)
    // Steps 5–12 use k = 5 4 4 3 2 2 2 2: four changes, four writes, nothing created.
    expect(counts).toEqual({ bindGroups: 0, pipelines: 0, kWrites: 4 });
    expect(engineCounters().pipelines).toBe(pipelines0);
    expect(engineCounters().buffers).toBe(buffers0);
  });

  it('a resumed run continues the schedule (same θ as the uninterrupted run; bitwise on SwiftShader)', async () => {
    const a = await gpuRun();
    const want = await trajectory(a.obj, a.read, ADAM);
    const at = 6; // mid-epoch 2, k = 4
    const b = await gpuRun();
    let state: OptimizerState | undefined;
    let saved: Float64Array | undefined;
    await optimize(b.obj, { ...ADAM, onIteration: async (i) => (i.iteration < at ? true : ((state = await i.checkpoint!()), (saved = await b.read()), false)) } as OptimizerOptions);
    const c = await gpuRun();
    c.model.setParameters(saved!);
    const rest = await trajectory(c.obj, c.read, ADAM, stateFromJSON(JSON.parse(JSON.stringify(stateToJSON(state!)))));
    expect(rest.length).toBe(12 - at);
    rest.forEach((t, i) => expect(relNormDiff(t, want[at + i]!), `iteration ${at + i + 1}`).toBeLessThan(1e-6));
  });
});
