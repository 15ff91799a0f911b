// The GPU benchmark suite (`npm run bench:gpu`): one command, one table.
// Adapter (vendor, architecture, limits, features); GEMM GFLOP/s per variant on
// square and training shapes (and the fraction of fp32 peak with peakTflops); the
// sparse-autoencoder step (samples/s, dispatches and submits per step, GPU time per
// kernel); the UFLDL exercise and the MNIST stacked pipeline (wall time, accuracy);
// the PyTorch peer (bench/peers/torch_bench.py) and TF.js webgpu where they run.
// Every part that fails leaves a note and the suite goes on.

import { BufferPool, readF32, STORAGE, writeF32 } from '../gpu/buffers.js';
import { adapterLabel, type GpuContext } from '../gpu/device.js';
import { availableGemmVariants, GEMM_VARIANTS, gemmVariantsFor, Kernels, recordDispatches, type GemmVariant } from '../gpu/kernels.js';
import { PipelineCache } from '../gpu/shaders.js';
import { Rng } from '../prng.js';
import { BENCH_GEMM_TOL, gemmSamples, poisonSamples, samplesError } from './gemm-samples.js';
import { benchMeta, errorMessage, type BenchMeta } from './common.js';
import { profileStep, type KernelTime } from './profile.js';
import { benchStep } from './step.js';
import type { DataPrecision } from '../f16.js';

export interface SuiteGemmShape {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** 'square' or what the shape is in the training step. */
  role: string;
}

export interface SuiteOptions {
  quick?: boolean;
  /** The card's fp32 peak in TFLOP/s: GEMM rows then show the fraction reached. */
  peakTflops?: number;
  /** Run the PyTorch peer when python3 can import torch (default true). */
  peers?: boolean;
  tfjs?: boolean;
  /** Skip the UFLDL exercise and the MNIST pipeline. */
  training?: boolean;
  /** Square GEMM sizes to time instead of suiteGemmShapes(). */
  gemmSizes?: number[];
  stepConfigs?: SuiteStepConfig[];
  /** Runs the peer with a JSON request, returns its JSON answer (or throws). Node: runPythonPeer. */
  peer?: (request: PeerRequest) => Promise<PeerAnswer>;
  /** Runs the two training workloads (Node only: they read data sets and write run folders). */
  trainingRunner?: () => Promise<TrainingFigures>;
  log?: (line: string) => void;
  /**
   * Called with the figures so far after each GEMM shape, each step row, the
   * peer and the training workloads (`partial` says how far the suite got), so
   * that a run stopped by a time limit still leaves what it measured.
   */
  onPartial?: (partial: SuiteResult) => void;
}

export interface PeerRequest {
  gemm: { M: number; N: number; K: number; transA: boolean; transB: boolean }[];
  step: { layers: number[]; batch: number; steps: number }[];
  quick: boolean;
}
export interface PeerAnswer {
  torch: string;
  device: string;
  tf32: boolean;
  gemm: { M: number; N: number; K: number; transA: boolean; transB: boolean; seconds: number; gflops: number }[];
  step: { layers: number[]; batch: number; samplesPerSec: number; secondsPerStep: number; cost0: number }[];
}

export interface TrainingFigures {
  ufldl: { seconds: number; iterations: number; finalCost: number; patches: number } | null;
  mnistStacked: { seconds: number; testAccuracy: number | null; testAccuracyBeforeFineTuning: number | null; examples: number } | null;
  notes: string[];
}

export interface SuiteAdapter {
  label: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isSoftware: boolean;
  adapterFeatures: string[];
  deviceFeatures: string[];
  limits: Record<string, number>;
}

export interface SuiteGemmRow extends SuiteGemmShape {
  flop: number;
  /** splitK: the K slices the split-K variant used (1: it ran as tiled-128). */
  variants: { variant: GemmVariant; gflops: number; seconds: number; fractionOfPeak: number | null; maxRelErr: number; splitK?: number }[];
  skipped: GemmVariant[];
  best: { variant: GemmVariant; gflops: number; fractionOfPeak: number | null } | null;
  torch: { gflops: number; seconds: number } | null;
  /** best / torch. */
  ratioVsTorch: number | null;
}

/** A training-step row of the suite: the network, the batch, and how the examples are stored (default f32). */
export interface SuiteStepConfig {
  layers: number[];
  batch: number;
  dataPrecision?: DataPrecision;
}

export interface SuiteStepRow {
  layers: number[];
  batch: number;
  dataPrecision: DataPrecision;
  samplesPerSec: number;
  secondsPerStep: number;
  dispatchesPerStep: number;
  submitsPerStep: number;
  profileMethod: string;
  kernels: KernelTime[];
  gemmChoices: Record<string, string>;
  cost0: number;
  tfjsWebgpu: { samplesPerSec: number } | null;
  /** cost0: J(θ₀) on the peer's own seeded data (same objective and initialisation, different draws). */
  torch: { samplesPerSec: number; cost0: number } | null;
  ratioVsTorch: number | null;
}

export interface SuiteResult extends BenchMeta {
  bench: 'gpu-suite';
  quick: boolean;
  peakTflops: number | null;
  gpu: SuiteAdapter;
  gemm: SuiteGemmRow[];
  step: SuiteStepRow[];
  training: TrainingFigures | null;
  peer: { torch: string; device: string; tf32: boolean } | null;
  seconds: number;
  notes: string[];
  /** Set on the snapshots given to onPartial: the last part finished ("GEMM 4096x4096x4096 NN", …). */
  partial?: string;
  /** The targets of the suite, judged on the figures above (suiteTargets). */
  targets?: SuiteTarget[];
}

/** One target the suite's figures are judged against, and what they show. */
export interface SuiteTarget {
  /** What is measured, e.g. 'GEMM 4096³ (NN), best variant, fraction of fp32 peak'. */
  what: string;
  /** The bar, e.g. '≥ 40%'. */
  target: string;
  /** The figure, formatted ('—' when not measured). */
  value: string;
  status: 'met' | 'missed' | 'not measured' | 'info';
  /** Why not measured, or what the figure points at. */
  note: string;
}

/** GEMM: the best variant reaches this fraction of the card's fp32 peak at 4096³. */
export const TARGET_GEMM_PEAK_FRACTION = 0.4;
/** SAE step 784-200-784 at batch 4096: at least this fraction of PyTorch CUDA's samples/s (within 2×). */
export const TARGET_STEP_VS_TORCH = 0.5;

/**
 * The suite's verdict: the GEMM fraction of peak at 4096³ and the SAE step at batch
 * 4096 against PyTorch CUDA (fp32, TF32 off), each met, missed or not measured (and
 * why), and the step's slowest kernel, where the next optimization should go.
 */
export function suiteTargets(r: Pick<SuiteResult, 'gpu' | 'gemm' | 'step' | 'peakTflops' | 'peer'>): SuiteTarget[] {
  const software = r.gpu.isSoftware ? 'software adapter (correctness run)' : null;
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const out: SuiteTarget[] = [];

  const gemm = r.gemm.find((g) => g.M === 4096 && g.N === 4096 && g.K === 4096);
  const gWhat = 'GEMM 4096³, best variant, fraction of fp32 peak';
  const gTarget = `≥ ${pct(TARGET_GEMM_PEAK_FRACTION)}`;
  if (!gemm?.best) out.push({ what: gWhat, target: gTarget, value: '—', status: 'not measured', note: software ?? (gemm ? 'no variant gave a right result' : '4096³ not in this run') });
  else if (r.peakTflops === null) out.push({ what: gWhat, target: gTarget, value: `${gemm.best.gflops.toFixed(0)} GFLOP/s`, status: 'not measured', note: 'the card\'s peak not given (--peak-tflops X)' });
  else {
    const frac = gemm.best.fractionOfPeak!;
    out.push({ what: gWhat, target: gTarget, value: `${pct(frac)} (${gemm.best.variant})`, status: software ? 'not measured' : frac >= TARGET_GEMM_PEAK_FRACTION ? 'met' : 'missed', note: software ?? `${gemm.best.gflops.toFixed(0)} GFLOP/s of ${r.peakTflops} TFLOP/s` });
  }

  const step = r.step.find((s) => s.layers.join('-') === '784-200-784' && s.batch === 4096 && s.dataPrecision === 'f32');
  const sWhat = 'SAE step 784-200-784, batch 4096: ours ÷ PyTorch samples/s';
  const sTarget = `≥ ${TARGET_STEP_VS_TORCH} (within 2× of PyTorch CUDA, TF32 off)`;
  const cuda = r.peer !== null && r.peer.device !== 'cpu' && !r.peer.tf32; // the peer names its CUDA device, or says 'cpu'
  if (!step) out.push({ what: sWhat, target: sTarget, value: '—', status: 'not measured', note: software ?? 'batch 4096 not in this run' });
  else if (step.ratioVsTorch === null) out.push({ what: sWhat, target: sTarget, value: '—', status: 'not measured', note: 'the PyTorch peer did not run (notes)' });
  else {
    const why = software ?? (cuda ? null : r.peer?.tf32 ? 'PyTorch ran with TF32 on' : 'PyTorch ran on the CPU (no CUDA device), not CUDA');
    out.push({ what: sWhat, target: sTarget, value: step.ratioVsTorch.toFixed(2), status: why ? 'not measured' : step.ratioVsTorch >= TARGET_STEP_VS_TORCH ? 'met' : 'missed', note: why ?? `${step.samplesPerSec.toFixed(0)} vs ${step.torch!.samplesPerSec.toFixed(0)} samples/s` });
  }
  // Where the next optimization goes: the step's slowest kernel (timestamp queries where the device has them).
  const profiled = step ?? [...r.step].reverse().find((s) => s.dataPrecision === 'f32' && s.kernels.length);
  const top = profiled?.kernels[0];
  if (profiled && top) {
    out.push({ what: `slowest kernel of the step ${profiled.layers.join('-')} at batch ${profiled.batch}`, target: '—', value: `${top.label}: ${pct(top.share)}`, status: 'info', note: `${(top.seconds * 1e3).toPrecision(3)} ms per step in ${top.count} dispatch${top.count === 1 ? '' : 'es'} (share of the profiled kernels' time, ${profiled.profileMethod})` });
  }
  // Whether split-K pays where it was built for: ∇W of the step at batch 4096 (both variants right and timed).
  const wgrad = r.gemm.find((g) => g.M === 200 && g.N === 784 && g.K === 4096 && g.transA && !g.transB);
  const timed = (v: GemmVariant): SuiteGemmRow['variants'][number] | undefined => wgrad?.variants.find((x) => x.variant === v && x.maxRelErr <= BENCH_GEMM_TOL);
  const [split, plain] = [timed('tiled-128-splitk'), timed('tiled-128')];
  if (split && plain) {
    out.push({ what: 'split-K on ∇W 200×784×4096: tiled-128-splitk ÷ tiled-128 GFLOP/s', target: '—', value: (split.gflops / plain.gflops).toFixed(2), status: 'info', note: `S = ${split.splitK ?? '?'}; ${split.gflops.toFixed(0)} vs ${plain.gflops.toFixed(0)} GFLOP/s` });
  }
  return out;
}

/** The square sizes and the GEMMs of the 784-200-784 step at batch 256 and 4096 (forward, decoder, ∇W, backprop). */
export function suiteGemmShapes(quick: boolean): SuiteGemmShape[] {
  // --quick: one square and one training-layout product, every variant (each is a pipeline to compile).
  if (quick) {
    return [
      { M: 32, N: 32, K: 32, transA: false, transB: false, role: 'square' },
      { M: 16, N: 12, K: 20, transA: false, transB: true, role: 'encoder forward, batch 16' },
    ];
  }
  const out: SuiteGemmShape[] = [256, 512, 1024, 2048, 4096, 8192].map((n) => ({ M: n, N: n, K: n, transA: false, transB: false, role: 'square' }));
  for (const m of [256, 4096]) {
    out.push({ M: m, N: 200, K: 784, transA: false, transB: true, role: `encoder forward, batch ${m}` });
    out.push({ M: m, N: 784, K: 200, transA: false, transB: true, role: `decoder forward, batch ${m}` });
    out.push({ M: 200, N: 784, K: m, transA: true, transB: false, role: `encoder ∇W, batch ${m}` });
    out.push({ M: m, N: 200, K: 784, transA: false, transB: false, role: `backprop to hidden, batch ${m}` });
  }
  return out;
}

export function suiteStepConfigs(quick: boolean): SuiteStepConfig[] {
  // One row with the examples stored as halves (the f16 data path: half the bytes the gather reads).
  if (quick) return [{ layers: [20, 12, 20], batch: 16 }, { layers: [20, 12, 20], batch: 16, dataPrecision: 'f16' }];
  const out: SuiteStepConfig[] = [];
  for (const hidden of [200, 1024]) for (const batch of [256, 1024, 4096, 8192]) out.push({ layers: [784, hidden, 784], batch });
  out.push({ layers: [784, 200, 784], batch: 4096, dataPrecision: 'f16' });
  return out;
}

function describeGpu(ctx: GpuContext): SuiteAdapter {
  const limits: Record<string, number> = {};
  const l = ctx.device.limits as unknown as Record<string, number>;
  for (let proto = Object.getPrototypeOf(l); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const k of Object.getOwnPropertyNames(proto)) {
      if (k === 'constructor' || k in limits) continue;
      const v = l[k];
      if (typeof v === 'number') limits[k] = v;
    }
  }
  for (const [k, v] of Object.entries(l)) if (typeof v === 'number') limits[k] = v;
  const a = ctx.adapter;
  return {
    label: adapterLabel(a), vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description, isSoftware: a.isSoftware,
    adapterFeatures: [...ctx.adapterFeatures], deviceFeatures: [...ctx.device.features].map(String).sort(), limits,
  };
}

/** GEMM timing: products per submit sized so each submit does ≥ ~20 GFLOP on a real GPU; median of `reps` submits. */
async function gemmPart(ctx: GpuContext, shapes: SuiteGemmShape[], opts: { quick: boolean; peak: number | null; log: (l: string) => void; notes: string[]; rows: SuiteGemmRow[]; done: (part: string) => void }): Promise<SuiteGemmRow[]> {
  const { device } = ctx;
  const pool = new BufferPool(device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
  const kernels = new Kernels(ctx, pool, new PipelineCache(device));
  // Software adapters: only the variants the autotuner times there (the others compile for tens of seconds).
  const all = availableGemmVariants(device);
  const variants = ctx.adapter.isSoftware ? gemmVariantsFor(true, device) : all;
  if (variants.length < all.length) opts.notes.push(`software adapter: GEMM variants ${all.filter((v) => !variants.includes(v)).join(', ')} not timed (as the autotuner does there)`);
  if (!device.features.has('subgroups')) opts.notes.push('no subgroups feature: subgroup-8x4 not available');
  const slow = new Set<GemmVariant>();
  const rows = opts.rows;
  const maxBytes = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  try {
    for (const s of shapes) {
      const flop = 2 * s.M * s.N * s.K;
      if (Math.max(s.M * s.K, s.K * s.N, s.M * s.N) * 4 > maxBytes) {
        opts.notes.push(`GEMM ${s.M}x${s.N}x${s.K} skipped: larger than the device's storage binding limit`);
        continue;
      }
      const rng = new Rng(s.M * 31 + s.N * 7 + s.K);
      const a = new Float32Array(s.M * s.K).map(() => rng.range(-1, 1));
      const b = new Float32Array(s.K * s.N).map(() => rng.range(-1, 1));
      const A = pool.acquire(a.length * 4, STORAGE, 'suite A');
      const B = pool.acquire(b.length * 4, STORAGE, 'suite B');
      const C = pool.acquire(s.M * s.N * 4, STORAGE, 'suite C');
      writeF32(device, A, a);
      writeF32(device, B, b);
      const samples = gemmSamples(a, b, s, rng);
      const perSubmit = opts.quick || ctx.adapter.isSoftware ? 1 : Math.max(1, Math.min(64, Math.ceil(2e10 / flop)));
      const reps = opts.quick ? 1 : 3;
      const row: SuiteGemmRow = { ...s, flop, variants: [], skipped: [], best: null, torch: null, ratioVsTorch: null };
      try {
        for (const variant of variants) {
          if (slow.has(variant)) {
            row.skipped.push(variant);
            continue;
          }
          opts.log(`gemm ${s.M}x${s.N}x${s.K} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'} ${variant}`);
          // The sampled entries poisoned: a variant that leaves them unwritten reads as wrong, not as the last variant's result.
          poisonSamples(device, C, samples);
          const d = await kernels.gemm({ ...s, A: { buffer: A }, B: { buffer: B }, C: { buffer: C }, variant });
          try {
            const run = async (): Promise<number> => {
              const t0 = performance.now();
              const enc = device.createCommandEncoder();
              const pass = enc.beginComputePass();
              for (let r = 0; r < perSubmit; r++) recordDispatches(pass, d);
              pass.end();
              device.queue.submit([enc.finish()]);
              await device.queue.onSubmittedWorkDone();
              return (performance.now() - t0) / 1000 / perSubmit;
            };
            const first = await run();
            const times: number[] = [];
            // A variant slower than 3 s per product is timed once here and dropped from the larger shapes.
            if (first > 3 && !opts.quick) {
              times.push(first);
              slow.add(variant);
            } else for (let r = 0; r < reps; r++) times.push(await run());
            ctx.check();
            times.sort((x, y) => x - y);
            const seconds = times[times.length >> 1]!;
            const gflops = flop / seconds / 1e9;
            row.variants.push({
              variant, gflops, seconds, fractionOfPeak: opts.peak ? gflops / (opts.peak * 1e3) : null, maxRelErr: await samplesError(device, pool, C, samples),
              // The slices it ran: split-K's first dispatch has a row of workgroups per 128 rows per slice.
              ...(GEMM_VARIANTS[variant].SPLIT_K ? { splitK: d.length > 1 ? d[0]!.y / Math.ceil(s.M / 128) : 1 } : {}),
            });
          } finally {
            kernels.release(d);
          }
        }
      } finally {
        [A, B, C].forEach((buf) => pool.release(buf));
      }
      // A variant with a wrong result is reported (its error in the JSON, 'wrong' in the table) and never the best.
      const right = row.variants.filter((v) => v.maxRelErr <= BENCH_GEMM_TOL);
      for (const v of row.variants) if (!right.includes(v)) opts.notes.push(`GEMM ${s.M}x${s.N}x${s.K} ${v.variant}: WRONG result, max relative error ${v.maxRelErr.toPrecision(3)} on sampled entries (excluded from best)`);
      const best = right.reduce<SuiteGemmRow['variants'][number] | null>((x, y) => (!x || y.gflops > x.gflops ? y : x), null);
      row.best = best && { variant: best.variant, gflops: best.gflops, fractionOfPeak: best.fractionOfPeak };
      rows.push(row);
      opts.done(`GEMM ${s.M}x${s.N}x${s.K} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`);
    }
  } finally {
    pool.destroy();
  }
  return rows;
}

async function stepPart(ctx: GpuContext, configs: SuiteStepConfig[], opts: { quick: boolean; tfjs: boolean; log: (l: string) => void; notes: string[]; rows: SuiteStepRow[]; done: (part: string) => void }): Promise<SuiteStepRow[]> {
  const rows = opts.rows;
  for (const c of configs) {
    const dataPrecision = c.dataPrecision ?? 'f32';
    opts.log(`step ${c.layers.join('-')} batch ${c.batch}${dataPrecision === 'f16' ? ' (f16 data)' : ''}`);
    try {
      const steps = opts.quick ? 2 : c.batch >= 4096 ? 20 : 50;
      const tfjs = opts.tfjs && c.batch <= 1024;
      const r = await benchStep(ctx, {
        layers: c.layers, batch: c.batch, batches: 2, steps, warmup: opts.quick ? 1 : 3, rounds: 1,
        tfjsWebgpu: tfjs && dataPrecision === 'f32', tfjsWebgpuSteps: opts.quick ? 1 : 10, tfjsWasm: false, cpu: false, log: opts.log, dataPrecision,
      });
      for (const n of r.notes) opts.notes.push(`step ${c.layers.join('-')} batch ${c.batch}: ${n}`);
      const prof = await profileStep(ctx, { layers: c.layers, batch: c.batch, warmup: 1, reps: opts.quick ? 1 : 5, log: opts.log, dataPrecision });
      rows.push({
        layers: c.layers, batch: c.batch, dataPrecision, samplesPerSec: r.ours.samplesPerSec, secondsPerStep: r.ours.secondsPerStep,
        dispatchesPerStep: prof.dispatchesPerStep, submitsPerStep: prof.submitsPerStep, profileMethod: prof.method, kernels: prof.kernels,
        gemmChoices: r.ours.gemmChoices, cost0: r.costCheck.ours,
        tfjsWebgpu: r.tfjsWebgpu ? { samplesPerSec: r.tfjsWebgpu.samplesPerSec } : null, torch: null, ratioVsTorch: null,
      });
    } catch (e) {
      opts.notes.push(`step ${c.layers.join('-')} batch ${c.batch} failed: ${errorMessage(e)}`);
    }
    opts.done(`step ${c.layers.join('-')} batch ${c.batch}${dataPrecision === 'f16' ? ' (f16 data)' : ''}`);
  }
  return rows;
}

/** PyTorch's figures beside each row of the same shape (and the ratios ours ÷ PyTorch). */
function attachPeer(ans: PeerAnswer, gemm: SuiteGemmRow[], step: SuiteStepRow[]): void {
  for (const row of gemm) {
    const t = ans.gemm.find((g) => g.M === row.M && g.N === row.N && g.K === row.K && g.transA === row.transA && g.transB === row.transB);
    if (t) {
      row.torch = { gflops: t.gflops, seconds: t.seconds };
      row.ratioVsTorch = row.best ? row.best.gflops / t.gflops : null;
    }
  }
  for (const row of step) {
    const t = ans.step.find((s) => s.batch === row.batch && s.layers.join() === row.layers.join());
    if (t) {
      row.torch = { samplesPerSec: t.samplesPerSec, cost0: t.cost0 };
      row.ratioVsTorch = row.samplesPerSec / t.samplesPerSec;
    }
  }
}

export async function runGpuSuite(ctx: GpuContext, opts: SuiteOptions = {}): Promise<SuiteResult> {
  const t0 = performance.now();
  const quick = !!opts.quick;
  const log = opts.log ?? (() => {});
  const notes: string[] = [];
  const peak = opts.peakTflops ?? null;
  if (peak !== null && !(peak > 0)) throw new RangeError(`peakTflops must be a positive number of TFLOP/s, got ${peak}`);
  const date = new Date().toISOString();
  const gpu = describeGpu(ctx);
  log(`adapter: ${gpu.label}`);
  const shapes = opts.gemmSizes ? opts.gemmSizes.map((n) => ({ M: n, N: n, K: n, transA: false, transB: false, role: 'square' })) : suiteGemmShapes(quick);
  const meta = await benchMeta(ctx);
  const gemm: SuiteGemmRow[] = [];
  const step: SuiteStepRow[] = [];
  let peer: SuiteResult['peer'] = null;
  let training: TrainingFigures | null = null;
  const result = (): SuiteResult => {
    const r: SuiteResult = { bench: 'gpu-suite', ...meta, date, quick, peakTflops: peak, gpu, gemm, step, training, peer, seconds: (performance.now() - t0) / 1000, notes };
    return { ...r, targets: suiteTargets(r) };
  };
  // A snapshot after each part (deep-copied: later parts add to the rows).
  const done = (part: string): void => opts.onPartial?.({ ...(JSON.parse(JSON.stringify(result())) as SuiteResult), partial: part });
  const stepConfigs = opts.stepConfigs ?? suiteStepConfigs(quick);

  // The peer first: a run stopped by a time limit then still has PyTorch beside every row it measured.
  let answer: PeerAnswer | null = null;
  if ((opts.peers ?? true) && opts.peer) {
    log('peer: PyTorch');
    try {
      answer = await opts.peer({
        gemm: shapes.map(({ M, N, K, transA, transB }) => ({ M, N, K, transA, transB })),
        // The peer stores f32 only: one request per shape (an f16 row is compared with it too).
        step: stepConfigs.filter((c) => (c.dataPrecision ?? 'f32') === 'f32').map((c) => ({ layers: c.layers, batch: c.batch, steps: quick ? 2 : c.batch >= 4096 ? 20 : 50 })),
        quick,
      });
      peer = { torch: answer.torch, device: answer.device, tf32: answer.tf32 };
    } catch (e) {
      notes.push(`PyTorch peer not run: ${errorMessage(e)}`);
    }
  } else if (opts.peers ?? true) {
    notes.push('PyTorch peer not run: no peer runner (Node only)');
  }
  done('the PyTorch peer');
  const withTorch = (part: string): void => {
    if (answer) attachPeer(answer, gemm, step);
    done(part);
  };

  await gemmPart(ctx, shapes, { quick, peak, log, notes, rows: gemm, done: withTorch });
  await stepPart(ctx, stepConfigs, { quick, tfjs: opts.tfjs ?? true, log, notes, rows: step, done: withTorch });

  if ((opts.training ?? true) && opts.trainingRunner) {
    try {
      training = await opts.trainingRunner();
      notes.push(...training.notes);
    } catch (e) {
      notes.push(`training workloads failed: ${errorMessage(e)}`);
    }
  }
  if (answer) attachPeer(answer, gemm, step);
  return result();
}
