// One training step of a sparse autoencoder, in samples per second:
//   J = (1/m) Σᵢ ½‖h(x⁽ⁱ⁾) − x⁽ⁱ⁾‖² + (λ/2) Σ W² + β Σⱼ KL(ρ‖ρ̂ⱼ),   sigmoid layers,
//   θ ← θ − η ∇J   on mini-batches of `batch` examples cycling over `batches` batches.
//
// Engines, all from the same θ and the same seeded random [0, 1) examples:
// - ours: GpuObjective on the GPU (update recorded into the next evaluation's submit);
// - TF.js webgpu: the same J written with tf ops, tf.train.sgd().minimize(), over the same GPUDevice;
// - TF.js wasm (XNNPACK): the same tf code on the CPU;
// - our float64 CPU reference (cpuCost), as the plain-JS point of comparison.
// Each engine runs `warmup` untimed steps, then `steps` timed ones, then waits
// for its queued work; samples/s = steps · batch / time.

import { cpuCost } from '../cpu/network.js';
import { createGpuModel, type GpuModel } from '../gpu/model.js';
import type { GpuContext } from '../gpu/device.js';
import type { GemmVariant } from '../gpu/kernels.js';
import { GpuObjective } from '../gpu/objective.js';
import { initParameters, paramLayout, type ParamLayout } from '../params.js';
import { Rng } from '../prng.js';
import { resolveSpec, type Matrix, type Network } from '../spec.js';
import { benchMeta, cpuClock, errorMessage, type BenchMeta } from './common.js';
import { tfVersions, useTfWasm, useTfWebGpu, type TF, type TfEngine } from './tfjs.js';

export interface StepBenchOptions {
  /** Units per layer (default [784, 200, 784]); every layer sigmoid, autoencoder. */
  layers?: number[];
  /** Examples per step (default 256). */
  batch?: number;
  /** Distinct batches the steps cycle over (default 4). */
  batches?: number;
  /** Timed steps per GPU / wasm engine (default 20). */
  steps?: number;
  /** Timed steps of TF.js webgpu, which is slow on software adapters (default min(steps, 5)). */
  tfjsWebgpuSteps?: number;
  /** Timed steps of the float64 CPU reference (default min(steps, 3)). */
  cpuSteps?: number;
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
    parameters: number;
    /** Multiply-adds ×2 of the three GEMMs per weight layer (forward, ∇W, δ; no δ below layer 1). */
    flopPerStep: number;
  };
  ours: StepFigure & { readbacksPerStep: number; gemmVariant: string; gflops: number };
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

function figure(steps: number, batch: number, seconds: number, cpu0: number | null): StepFigure {
  const cpu1 = cpuClock();
  return { samplesPerSec: (steps * batch) / seconds, secondsPerStep: seconds / steps, steps, cpuSecondsPerStep: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / steps };
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

/** Times `steps` SGD steps of the tf objective on the current TF.js backend. */
async function tfSteps(
  eng: TfEngine,
  net: Network,
  layout: ParamLayout,
  theta0: Float64Array,
  X: Matrix,
  o: { batch: number; batches: number; lr: number; warmup: number; steps: number },
): Promise<{ figure: StepFigure; cost0: number }> {
  const tf = eng.tf;
  const vars = layout.slots.map((s) => ({
    W: tf.variable(tf.tensor2d(Float32Array.from(theta0.subarray(s.w, s.w + s.nOut * s.nIn)), [s.nOut, s.nIn])),
    b: tf.variable(tf.tensor1d(Float32Array.from(theta0.subarray(s.b, s.b + s.nOut)))),
  }));
  const batches = Array.from({ length: o.batches }, (_, k) => tf.tensor2d(Float32Array.from(rowsOf(X, k * o.batch, o.batch).data), [o.batch, X.cols]));
  const varList = vars.flatMap((v) => [v.W, v.b]);
  const opt = tf.train.sgd(o.lr);
  try {
    const j0 = tf.tidy(() => tfObjective(tf, net, vars, batches[0]!));
    const cost0 = (await j0.data())[0]!;
    j0.dispose();
    const step = (s: number): void => {
      opt.minimize(() => tfObjective(tf, net, vars, batches[s % o.batches]!), false, varList);
    };
    for (let s = 0; s < o.warmup; s++) step(s);
    await eng.sync();
    const c0 = cpuClock();
    const t0 = performance.now();
    for (let s = 0; s < o.steps; s++) step(s);
    await eng.sync();
    const seconds = (performance.now() - t0) / 1000;
    return { figure: figure(o.steps, o.batch, seconds, c0), cost0 };
  } finally {
    opt.dispose();
    vars.forEach((v) => {
      v.W.dispose();
      v.b.dispose();
    });
    batches.forEach((t) => t.dispose());
  }
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

  // Ours.
  log('step: webgpu-nn');
  let model: GpuModel | null = null;
  let objective: GpuObjective | null = null;
  let ours: StepBenchResult['ours'];
  let cost0: number;
  try {
    model = await createGpuModel(net, theta0, ctx.device, opts.gemmVariant ? { gemmVariant: opts.gemmVariant } : {});
    cost0 = (await model.cost(first, undefined, { gradient: false })).cost;
    objective = new GpuObjective(model, X);
    objective.shuffle(seed);
    const obj = objective;
    const step = async (s: number): Promise<void> => {
      obj.ops.axpy(-lr, obj.grad, obj.theta);
      await obj.evaluate({ batch: { start: (s % batches) * batch, count: batch }, cost: false });
    };
    for (let s = 0; s < warmup; s++) await step(s);
    await obj.ops.flush();
    const reads0 = obj.readbacks;
    const c0 = cpuClock();
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) await step(s);
    await obj.ops.flush();
    const seconds = (performance.now() - t0) / 1000;
    const f = figure(steps, batch, seconds, c0);
    ctx.check();
    ours = { ...f, readbacksPerStep: (obj.readbacks - reads0) / steps, gemmVariant: opts.gemmVariant ?? 'autotuned', gflops: (stepFlop(layout, batch) * steps) / seconds / 1e9 };
  } finally {
    objective?.dispose();
    model?.dispose();
  }

  let versions: Record<string, string> = {};
  const tfOpts = { batch, batches, lr, warmup };
  let tfjsWebgpu: StepBenchResult['tfjsWebgpu'] = null;
  let costWebgpu: number | null = null;
  if (opts.tfjsWebgpu ?? true) {
    log('step: tfjs-webgpu');
    try {
      const eng = await useTfWebGpu(ctx);
      versions = { ...versions, ...(await tfVersions(eng.tf, ['tfjs-backend-webgpu'])) };
      const r = await tfSteps(eng, net, layout, theta0, X, { ...tfOpts, steps: opts.tfjsWebgpuSteps ?? Math.min(steps, 5) });
      tfjsWebgpu = { ...r.figure, info: eng.info };
      costWebgpu = r.cost0;
    } catch (e) {
      notes.push(`TF.js webgpu not timed: ${errorMessage(e)}`);
    }
  }
  let tfjsWasm: StepBenchResult['tfjsWasm'] = null;
  let costWasm: number | null = null;
  if (opts.tfjsWasm ?? true) {
    log('step: tfjs-wasm');
    try {
      const eng = await useTfWasm();
      versions = { ...versions, ...(await tfVersions(eng.tf, ['tfjs-backend-wasm'])) };
      const r = await tfSteps(eng, net, layout, theta0, X, { ...tfOpts, steps });
      tfjsWasm = { ...r.figure, info: eng.info };
      costWasm = r.cost0;
    } catch (e) {
      notes.push(`TF.js wasm not timed: ${errorMessage(e)}`);
    }
  }

  let cpu: StepFigure | null = null;
  let costCpu: number | null = null;
  if (opts.cpu ?? true) {
    log('step: cpu reference');
    const cpuSteps = opts.cpuSteps ?? Math.min(steps, 3);
    const theta = Float64Array.from(theta0);
    const X64: Matrix = { rows: X.rows, cols: X.cols, data: Float64Array.from(X.data) };
    const one = async (s: number): Promise<number> => {
      const r = await cpuCost(net, theta, rowsOf(X64, (s % batches) * batch, batch), undefined, { gradient: true });
      const g = r.grad!;
      for (let i = 0; i < theta.length; i++) theta[i] -= lr * g[i]!;
      return r.cost;
    };
    costCpu = await one(0);
    theta.set(theta0);
    const c0 = cpuClock();
    const t0 = performance.now();
    for (let s = 0; s < cpuSteps; s++) await one(s);
    cpu = figure(cpuSteps, batch, (performance.now() - t0) / 1000, c0);
  }

  const rel = (c: number | null): number => (c === null ? 0 : Math.abs(c - cost0) / Math.max(1e-12, Math.abs(cost0)));
  const meta = await benchMeta(ctx, versions);
  return {
    bench: 'step',
    ...meta,
    date,
    config: {
      layers: [...layers], activation: 'sigmoid', loss: 'squared', batch, batches, lr, rho, beta, lambda, seed, warmup,
      parameters: layout.size, flopPerStep: stepFlop(layout, batch),
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
}
