// One training step of a sparse autoencoder, in samples per second:
//   J = (1/m) Σᵢ ½‖h(x⁽ⁱ⁾) − x⁽ⁱ⁾‖² + (λ/2) Σ W² + β Σⱼ KL(ρ‖ρ̂ⱼ),   sigmoid layers,
//   θ ← θ − η ∇J   on mini-batches of `batch` examples cycling over `batches` batches.
//
// Engines, all from the same θ and the same seeded random [0, 1) examples:
// - ours: GpuObjective on the GPU (update recorded into the next evaluation's submit);
// - TF.js webgpu: the same J written with tf ops, tf.train.sgd().minimize(), over the same GPUDevice;
// - TF.js wasm (XNNPACK): the same tf code on the CPU;
// - our float64 CPU reference (cpuCost), as the plain-JS point of comparison.
// Each engine runs `warmup` untimed steps; then the timed steps run in rounds,
// the engines taking turns, each turn ending when its queued work is complete;
// samples/s = steps · batch / (its summed time).

import { cpuCost } from '../cpu/network.js';
import { chooseGemmVariant } from '../gpu/autotune.js';
import { createGpuModel, type GpuModel } from '../gpu/model.js';
import type { GpuContext } from '../gpu/device.js';
import type { GemmVariant } from '../gpu/kernels.js';
import type { GpuObjective } from '../gpu/objective.js';
import { initParameters, paramLayout, type ParamLayout } from '../params.js';
import { Rng } from '../prng.js';
import { resolveSpec, type Network } from '../spec.js';
import { type Matrix } from '../matrix.js';
import type { DataPrecision } from '../f16.js';
import { benchMeta, cpuClock, errorMessage, type BenchMeta } from './common.js';
import { tfVersions, useTfWasm, useTfWebGpu, type TF, type TfEngine } from './tfjs.js';
import { instrument } from './optimizer.js';

export interface StepBenchOptions {
  /** Units per layer (default [784, 200, 784]); every layer sigmoid, autoencoder. */
  layers?: number[];
  /** Examples per step (default 256). */
  batch?: number;
  /** Distinct batches the steps cycle over (default 4). */
  batches?: number;
  /** Timed steps of our engine and of TF.js wasm (default 20). */
  steps?: number;
  /** Timed steps of TF.js webgpu, which is slow on software adapters (default min(steps, 6)). */
  tfjsWebgpuSteps?: number;
  /** Timed steps of the float64 CPU reference (default min(steps, 3)). */
  cpuSteps?: number;
  /**
   * The timed steps of every engine are split into this many rounds, engines
   * taking turns within each round, so that other load on the machine falls on
   * all of them alike (default 3).
   */
  rounds?: number;
  /** Untimed steps first (default 2). */
  warmup?: number;
  /** Learning rate η (default 0.1). */
  lr?: number;
  rho?: number;
  beta?: number;
  lambda?: number;
  seed?: number;
  /** Force our GEMM variant (default: autotuned). */
  gemmVariant?: GemmVariant;
  /** How our engine stores the examples on the GPU (DatasetOptions.dataPrecision; default 'f32'). */
  dataPrecision?: DataPrecision;
  /** Which comparisons to run (default: all). */
  tfjsWebgpu?: boolean;
  tfjsWasm?: boolean;
  cpu?: boolean;
  log?: (line: string) => void;
}

export interface StepFigure {
  samplesPerSec: number;
  secondsPerStep: number;
  steps: number;
  /** Process CPU seconds per step (all threads; null outside Node): robust to other load on the machine. */
  cpuSecondsPerStep: number | null;
}

export interface StepBenchResult extends BenchMeta {
  bench: 'step';
  config: {
    layers: number[];
    activation: 'sigmoid';
    loss: 'squared';
    batch: number;
    batches: number;
    lr: number;
    rho: number;
    beta: number;
    lambda: number;
    seed: number;
    warmup: number;
    rounds: number;
    parameters: number;
    /** Multiply-adds ×2 of the three GEMMs per weight layer (forward, ∇W, δ; no δ below layer 1). */
    flopPerStep: number;
    /** Our engine's data storage ('f16': halves, unpacked by the mini-batch gather). */
    dataPrecision: DataPrecision;
  };
  ours: StepFigure & {
    readbacksPerStep: number;
    /** Compute dispatches and queue submits of one step, counted on the device (null: not countable). */
    dispatchesPerStep: number | null;
    submitsPerStep: number | null;
    /** The forced variant, or 'autotuned'. */
    gemmVariant: string;
    /** The variant used for each GEMM of the step ('NT 256x200x784' → name). */
    gemmChoices: Record<string, string>;
    gflops: number;
  };
  tfjsWebgpu: (StepFigure & { info: Record<string, string | number | boolean> }) | null;
  tfjsWasm: (StepFigure & { info: Record<string, string | number | boolean> }) | null;
  cpu: StepFigure | null;
  /** ours.samplesPerSec / theirs (wall clock). */
  ratios: { vsTfjsWebgpu: number | null; vsTfjsWasm: number | null; vsCpu: number | null };
  /** Their CPU seconds per sample / ours (process CPU time; null outside Node). */
  cpuTimeRatios: { vsTfjsWebgpu: number | null; vsTfjsWasm: number | null; vsCpu: number | null };
  /** J at the initial θ on the first batch by each engine, and the largest relative difference to ours. */
  costCheck: { ours: number; tfjsWebgpu: number | null; tfjsWasm: number | null; cpu: number | null; maxRelDiff: number };
  notes: string[];
}

function stepFlop(layout: ParamLayout, batch: number): number {
  let f = 0;
  layout.slots.forEach((s, l) => {
    const mac = batch * s.nIn * s.nOut;
    f += 2 * mac * (l === 0 ? 2 : 3);
  });
  return f;
}

/** (their CPU seconds per sample) / (ours). */
function cpuRatio(theirs: StepFigure | null, ours: StepFigure, batch: number): number | null {
  if (!theirs || theirs.cpuSecondsPerStep === null || ours.cpuSecondsPerStep === null) return null;
  return theirs.cpuSecondsPerStep / batch / (ours.cpuSecondsPerStep / batch);
}

function rowsOf(X: Matrix, start: number, count: number): Matrix {
  return { rows: count, cols: X.cols, data: X.data.subarray(start * X.cols, (start + count) * X.cols) };
}


/** The sparse-autoencoder objective in tf ops, on θ's layout; returns J as a scalar. */
function tfObjective(tf: TF, net: Network, vars: { W: ReturnType<TF['variable']>; b: ReturnType<TF['variable']> }[], x: ReturnType<TF['tensor2d']>) {
  const m = x.shape[0];
  const sparse = net.sparsity!;
  let a = x as ReturnType<TF['sigmoid']>;
  let kl = tf.scalar(0);
  const Lw = vars.length;
  for (let l = 0; l < Lw; l++) {
    const { W, b } = vars[l]!;
    a = tf.sigmoid(tf.add(tf.matMul(a, W, false, true), b));
    if (l < Lw - 1) {
      const rhoHat = tf.mean(a, 0);
      const r = sparse.rho;
      // ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂))
      const term = tf.add(tf.mul(-r, tf.log(rhoHat)), tf.mul(-(1 - r), tf.log(tf.sub(1, rhoHat))));
      const constant = rhoHat.shape[0]! * (r * Math.log(r) + (1 - r) * Math.log(1 - r));
      kl = tf.add(kl, tf.add(tf.sum(term), constant));
    }
  }
  const data = tf.mul(0.5 / m, tf.sum(tf.square(tf.sub(a, x))));
  let wd = tf.scalar(0);
  for (const { W } of vars) wd = tf.add(wd, tf.sum(tf.square(W)));
  return tf.add(tf.add(data, tf.mul(net.lambda / 2, wd)), tf.mul(sparse.beta, kl)) as ReturnType<TF['scalar']>;
}

/**
 * One engine under test. setup() builds it, computes J(θ₀) on the first batch and
 * runs the warm-up steps; run() performs steps [from, from + count) and returns
 * once they are complete.
 */
interface Runner {
  cost0: number;
  /** Makes this engine current (TF.js: its backend). */
  activate(): Promise<void>;
  run(from: number, count: number): Promise<void>;
  dispose(): void;
}

/** The tf objective on TF.js engine `eng` (its backend current), with its own copies of θ and the batches. */
async function tfRunner(eng: TfEngine, net: Network, layout: ParamLayout, theta0: Float64Array, X: Matrix, o: { batch: number; batches: number; lr: number; warmup: number }): Promise<Runner> {
  const tf = eng.tf;
  const activate = async (): Promise<void> => {
    if (tf.getBackend() !== eng.name && !(await tf.setBackend(eng.name))) throw new Error(`TF.js backend ${eng.name} could not be made current`);
  };
  await activate();
  const vars = layout.slots.map((s) => ({
    W: tf.variable(tf.tensor2d(Float32Array.from(theta0.subarray(s.w, s.w + s.nOut * s.nIn)), [s.nOut, s.nIn])),
    b: tf.variable(tf.tensor1d(Float32Array.from(theta0.subarray(s.b, s.b + s.nOut)))),
  }));
  const batches = Array.from({ length: o.batches }, (_, k) => tf.tensor2d(Float32Array.from(rowsOf(X, k * o.batch, o.batch).data), [o.batch, X.cols]));
  const varList = vars.flatMap((v) => [v.W, v.b]);
  const opt = tf.train.sgd(o.lr);
  const dispose = (): void => {
    opt.dispose();
    vars.forEach((v) => {
      v.W.dispose();
      v.b.dispose();
    });
    batches.forEach((t) => t.dispose());
  };
  try {
    const j0 = tf.tidy(() => tfObjective(tf, net, vars, batches[0]!));
    const cost0 = (await j0.data())[0]!;
    j0.dispose();
    const step = (s: number): void => {
      opt.minimize(() => tfObjective(tf, net, vars, batches[s % o.batches]!), false, varList);
    };
    for (let s = 0; s < o.warmup; s++) step(s);
    await eng.sync();
    return {
      cost0,
      activate,
      async run(from, count) {
        for (let s = from; s < from + count; s++) step(s);
        await eng.sync();
      },
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

/** Splits `total` steps over `rounds` rounds (earlier rounds take the remainder). */
function share(total: number, rounds: number, round: number): number {
  if (round >= rounds) return 0;
  return Math.floor(total / rounds) + (round < total % rounds ? 1 : 0);
}

export async function benchStep(ctx: GpuContext, opts: StepBenchOptions = {}): Promise<StepBenchResult> {
  const date = new Date().toISOString();
  const layers = opts.layers ?? [784, 200, 784];
  const batch = opts.batch ?? 256;
  const batches = opts.batches ?? 4;
  const steps = opts.steps ?? 20;
  const warmup = opts.warmup ?? 2;
  const lr = opts.lr ?? 0.1;
  const rho = opts.rho ?? 0.1;
  const beta = opts.beta ?? 3;
  const lambda = opts.lambda ?? 3e-3;
  const seed = opts.seed ?? 1;
  const dataPrecision = opts.dataPrecision ?? 'f32';
  const log = opts.log ?? (() => {});
  const notes: string[] = [];
  if (!(steps >= 1) || !(batch >= 1) || !(batches >= 1)) throw new RangeError('steps, batch and batches must be ≥ 1');

  const net = resolveSpec({ layers, activation: 'sigmoid', loss: 'squared', autoencoder: true, lambda, sparsity: { rho, beta } });
  const layout = paramLayout(net);
  const theta0 = initParameters(net, { init: 'ufldl', seed });
  const rng = new Rng(seed + 1);
  const n1 = layers[0]!;
  const X: Matrix = { rows: batch * batches, cols: n1, data: new Float32Array(batch * batches * n1) };
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.uniform();
  const first = rowsOf(X, 0, batch);

  type Name = 'ours' | 'tfjsWebgpu' | 'tfjsWasm' | 'cpu';
  const runners = new Map<Name, Runner & { steps: number; seconds: number; cpu: number | null; info?: Record<string, string | number | boolean> }>();
  let versions: Record<string, string> = {};
  let model: GpuModel | null = null;
  let objective: GpuObjective | null = null;
  const rounds = Math.max(1, Math.min(opts.rounds ?? 3, steps));
  try {
    // Ours: the update is recorded into the next evaluation's submit; nothing is read back.
    log('step: webgpu-nn (setup)');
    model = await createGpuModel(net, theta0, ctx.device, opts.gemmVariant ? { gemmVariant: opts.gemmVariant } : {});
    const ourCost0 = (await model.cost(first, undefined, { gradient: false })).cost;
    objective = model.objective(model.dataset(X, undefined, { dataPrecision }));
    objective.shuffle(seed);
    const obj = objective;
    const ourStep = async (s: number): Promise<void> => {
      obj.ops.axpy(-lr, obj.grad, obj.theta);
      await obj.evaluate({ batch: { start: (s % batches) * batch, count: batch }, cost: false });
    };
    for (let s = 0; s < warmup; s++) await ourStep(s);
    await obj.ops.flush();
    // One more untimed step, its dispatches and submits counted (the update travels in the step's submit).
    const counter = instrument(ctx.device);
    await ourStep(warmup);
    await obj.ops.flush();
    counter?.stop();
    const perStep = counter ? { dispatchesPerStep: counter.dispatches, submitsPerStep: counter.submits } : { dispatchesPerStep: null, submitsPerStep: null };
    if (!counter) notes.push('dispatches and submits not counted: the device objects could not be wrapped');
    runners.set('ours', {
      cost0: ourCost0, steps, seconds: 0, cpu: 0,
      activate: async () => {},
      async run(from, count) {
        for (let s = from; s < from + count; s++) await ourStep(s);
        await obj.ops.flush();
      },
      dispose: () => {},
    });
    const reads0 = obj.readbacks;
    // The variant each GEMM of the step uses (the same shapes as GpuModel's plan; cached after the warm-up).
    const gemmChoices: Record<string, string> = {};
    const m = model;
    const choose = async (M: number, N: number, K: number, transA: boolean, transB: boolean): Promise<void> => {
      gemmChoices[`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${M}x${N}x${K}`] = opts.gemmVariant ?? (await chooseGemmVariant(m.kernels, { M, N, K, transA, transB }));
    };
    for (const [l, s] of layout.slots.entries()) {
      await choose(batch, s.nOut, s.nIn, false, true);
      await choose(s.nOut, s.nIn, batch, true, false);
      if (l > 0) await choose(batch, s.nIn, s.nOut, false, false);
    }

    if (opts.tfjsWebgpu ?? true) {
      log('step: tfjs-webgpu (setup)');
      try {
        const eng = await useTfWebGpu(ctx);
        versions = { ...versions, ...(await tfVersions(eng.tf, ['tfjs-backend-webgpu'])) };
        const r = await tfRunner(eng, net, layout, theta0, X, { batch, batches, lr, warmup });
        runners.set('tfjsWebgpu', { ...r, steps: Math.min(opts.tfjsWebgpuSteps ?? Math.min(steps, 6), steps), seconds: 0, cpu: 0, info: eng.info });
      } catch (e) {
        notes.push(`TF.js webgpu not timed: ${errorMessage(e)}`);
      }
    }
    if (opts.tfjsWasm ?? true) {
      log('step: tfjs-wasm (setup)');
      try {
        const eng = await useTfWasm();
        versions = { ...versions, ...(await tfVersions(eng.tf, ['tfjs-backend-wasm'])) };
        const r = await tfRunner(eng, net, layout, theta0, X, { batch, batches, lr, warmup });
        runners.set('tfjsWasm', { ...r, steps, seconds: 0, cpu: 0, info: eng.info });
      } catch (e) {
        notes.push(`TF.js wasm not timed: ${errorMessage(e)}`);
      }
    }
    if (opts.cpu ?? true) {
      const theta = Float64Array.from(theta0);
      const X64: Matrix = { rows: X.rows, cols: X.cols, data: Float64Array.from(X.data) };
      const one = async (s: number): Promise<number> => {
        const r = await cpuCost(net, theta, rowsOf(X64, (s % batches) * batch, batch), undefined, { gradient: true });
        const g = r.grad!;
        for (let i = 0; i < theta.length; i++) theta[i] -= lr * g[i]!;
        return r.cost;
      };
      const cpuCost0 = await one(0);
      runners.set('cpu', {
        cost0: cpuCost0, steps: Math.min(opts.cpuSteps ?? Math.min(steps, 3), steps), seconds: 0, cpu: 0,
        activate: async () => {},
        async run(from, count) {
          for (let s = from; s < from + count; s++) await one(s + 1);
        },
        dispose: () => {},
      });
    }

    // Timed rounds: every engine runs a share of its steps in each round, so that
    // other load on the machine falls on all of them alike.
    const done = new Map<Name, number>();
    for (let round = 0; round < rounds; round++) {
      for (const [name, r] of runners) {
        const count = share(r.steps, Math.min(rounds, r.steps), round);
        if (count === 0) continue;
        log(`step: ${name} round ${round + 1}/${rounds} (${count} steps)`);
        await r.activate();
        const c0 = cpuClock();
        const t0 = performance.now();
        await r.run(done.get(name) ?? 0, count);
        r.seconds += (performance.now() - t0) / 1000;
        const c1 = cpuClock();
        r.cpu = r.cpu === null || c0 === null || c1 === null ? null : r.cpu + (c1 - c0);
        done.set(name, (done.get(name) ?? 0) + count);
      }
    }
    ctx.check();
    const ourReads = (obj.readbacks - reads0) / steps;
    const fig = (name: Name): StepFigure | null => {
      const r = runners.get(name);
      if (!r) return null;
      return { samplesPerSec: (r.steps * batch) / r.seconds, secondsPerStep: r.seconds / r.steps, steps: r.steps, cpuSecondsPerStep: r.cpu === null ? null : r.cpu / r.steps };
    };
    const o = runners.get('ours')!;
    const ours: StepBenchResult['ours'] = { ...fig('ours')!, readbacksPerStep: ourReads, ...perStep, gemmVariant: opts.gemmVariant ?? 'autotuned', gemmChoices, gflops: (stepFlop(layout, batch) * steps) / o.seconds / 1e9 };
    const withInfo = (name: Name): (StepFigure & { info: Record<string, string | number | boolean> }) | null => {
      const f = fig(name);
      return f ? { ...f, info: runners.get(name)!.info ?? {} } : null;
    };
    const tfjsWebgpu = withInfo('tfjsWebgpu');
    const tfjsWasm = withInfo('tfjsWasm');
    const cpu = fig('cpu');
    const cost0 = o.cost0;
    const costOf = (name: Name): number | null => runners.get(name)?.cost0 ?? null;
    const costWebgpu = costOf('tfjsWebgpu');
    const costWasm = costOf('tfjsWasm');
    const costCpu = costOf('cpu');
    const rel = (c: number | null): number => (c === null ? 0 : Math.abs(c - cost0) / Math.max(1e-12, Math.abs(cost0)));
    const meta = await benchMeta(ctx, versions);
    return {
      bench: 'step',
      ...meta,
      date,
      config: {
        layers: [...layers], activation: 'sigmoid', loss: 'squared', batch, batches, lr, rho, beta, lambda, seed, warmup, rounds,
        parameters: layout.size, flopPerStep: stepFlop(layout, batch), dataPrecision,
      },
      ours,
      tfjsWebgpu,
      tfjsWasm,
      cpu,
      ratios: {
        vsTfjsWebgpu: tfjsWebgpu ? ours.samplesPerSec / tfjsWebgpu.samplesPerSec : null,
        vsTfjsWasm: tfjsWasm ? ours.samplesPerSec / tfjsWasm.samplesPerSec : null,
        vsCpu: cpu ? ours.samplesPerSec / cpu.samplesPerSec : null,
      },
      cpuTimeRatios: {
        vsTfjsWebgpu: cpuRatio(tfjsWebgpu, ours, batch),
        vsTfjsWasm: cpuRatio(tfjsWasm, ours, batch),
        vsCpu: cpuRatio(cpu, ours, batch),
      },
      costCheck: { ours: cost0, tfjsWebgpu: costWebgpu, tfjsWasm: costWasm, cpu: costCpu, maxRelDiff: Math.max(rel(costWebgpu), rel(costWasm), rel(costCpu)) },
      notes,
    };
  } finally {
    for (const r of runners.values()) r.dispose();
    objective?.dispose();
    model?.dispose();
  }
}
