// GEMM throughput: this engine's kernel variants against TF.js's WebGPU matMul
// on the same GPUDevice, square n × n × n (C = A·B, row-major f32).
//
// Both sides are timed the same way: one product per run, submitted and waited
// for (queue.onSubmittedWorkDone) with no readback; pipelines are compiled and
// warmed by untimed runs first. Ratio = our best variant / TF.js.

import { BufferPool, readF32, STORAGE, writeF32 } from '../gpu/buffers.js';
import type { GpuContext } from '../gpu/device.js';
import { availableGemmVariants, GEMM_VARIANT_NAMES, Kernels, recordDispatches, type GemmVariant } from '../gpu/kernels.js';
import { PipelineCache } from '../gpu/shaders.js';
import { Rng } from '../prng.js';
import { BENCH_GEMM_TOL, gemmSamples, poisonSamples, samplesError } from './gemm-samples.js';
import { benchMeta, errorMessage, maxRelDiff, timeRuns, type BenchMeta, type Timing } from './common.js';
import { useTfWebGpu, tfVersions } from './tfjs.js';

export interface GemmBenchOptions {
  /** Square sizes n (default [256, 512, 1024]). */
  sizes?: number[];
  /** Timed runs per size and engine (default: 5 below 512, 3 below 1024, 1 from 1024). */
  reps?: number | ((n: number) => number);
  /** Untimed runs first (default 2: SwiftShader's second run is still slow). */
  warmup?: number;
  /** Time only this variant (default: every variant the device can run, availableGemmVariants). */
  variant?: GemmVariant;
  /** Time only these variants (default: every variant); per size when a function (e.g. skip slow ones at 1024). */
  variants?: GemmVariant[] | ((n: number) => GemmVariant[]);
  /** Also time TF.js (default true; skipped with a note when TF.js is missing). */
  tfjs?: boolean;
  /** Seed of the random A and B (default 1). */
  seed?: number;
  /** Called with a line of progress (sizes, engines). */
  log?: (line: string) => void;
}

export interface GemmFigure {
  gflops: number;
  /** Median seconds per product. */
  seconds: number;
  minSeconds: number;
  reps: number;
  /** Process CPU seconds per product (both cores count; null outside Node). */
  cpuSeconds: number | null;
}

export interface GemmSizeResult {
  n: number;
  /** 2n³. */
  flop: number;
  /**
   * Every variant timed, in GEMM_VARIANT_NAMES order; maxRelErr: the largest
   * |c − ref| / (1 + |ref|) over 16 sampled entries of C (poisoned before the run)
   * against float64.
   */
  variants: ({ variant: GemmVariant; maxRelErr: number } & GemmFigure)[];
  /** The fastest variant whose maxRelErr ≤ BENCH_GEMM_TOL. */
  ours: { variant: GemmVariant; maxRelErr: number } & GemmFigure;
  tfjs: GemmFigure | null;
  /** ours.gflops / tfjs.gflops (wall clock). */
  ratio: number | null;
  /** tfjs.cpuSeconds / ours.cpuSeconds (process CPU time, robust to other load; null outside Node). */
  cpuTimeRatio: number | null;
  /** max |C_ours − C_tfjs| / (1 + |C_tfjs|): both engines computed the same product. */
  maxRelDiffVsTfjs: number | null;
}

export interface GemmBenchResult extends BenchMeta {
  bench: 'gemm';
  warmup: number;
  sizes: GemmSizeResult[];
  /** Why a comparison is missing, and other remarks. */
  notes: string[];
}

function defaultReps(n: number): number {
  return n >= 1024 ? 1 : n >= 512 ? 3 : 5;
}

function figure(flop: number, t: Timing): GemmFigure {
  return { gflops: flop / t.seconds / 1e9, seconds: t.seconds, minSeconds: t.minSeconds, reps: t.reps, cpuSeconds: t.cpuSeconds };
}

export async function benchGemm(ctx: GpuContext, opts: GemmBenchOptions = {}): Promise<GemmBenchResult> {
  const sizes = opts.sizes ?? [256, 512, 1024];
  const warmup = opts.warmup ?? 2;
  const repsFor = (n: number): number => (typeof opts.reps === 'function' ? opts.reps(n) : opts.reps ?? defaultReps(n));
  const variantsFor = (n: number): GemmVariant[] => {
    if (opts.variant) return [opts.variant];
    const v = typeof opts.variants === 'function' ? opts.variants(n) : opts.variants ?? availableGemmVariants(ctx.device);
    for (const name of v) if (!GEMM_VARIANT_NAMES.includes(name)) throw new RangeError(`unknown GEMM variant ${name}; expected one of ${GEMM_VARIANT_NAMES.join(', ')}`);
    if (!v.length) throw new RangeError('no GEMM variant to time');
    return v;
  };
  const log = opts.log ?? (() => {});
  const notes: string[] = [];
  let extraVersions: Record<string, string> = {};
  const { device } = ctx;
  const pool = new BufferPool(device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
  const kernels = new Kernels(ctx, pool, new PipelineCache(device));
  const rows: GemmSizeResult[] = [];
  let tfjsWanted = opts.tfjs ?? true;
  const date = new Date().toISOString();

  try {
    for (const n of sizes) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`GEMM size must be a positive integer, got ${n}`);
      const reps = repsFor(n);
      const flop = 2 * n * n * n;
      const rng = new Rng((opts.seed ?? 1) * 7919 + n);
      const a = new Float32Array(n * n);
      const b = new Float32Array(n * n);
      for (let i = 0; i < a.length; i++) a[i] = rng.range(-1, 1);
      for (let i = 0; i < b.length; i++) b[i] = rng.range(-1, 1);
      const A = pool.acquire(n * n * 4, STORAGE, 'bench A');
      const B = pool.acquire(n * n * 4, STORAGE, 'bench B');
      const C = pool.acquire(n * n * 4, STORAGE, 'bench C');
      writeF32(device, A, a);
      writeF32(device, B, b);
      const samples = gemmSamples(a, b, { M: n, N: n, K: n, transA: false, transB: false }, rng);
      const timed: GemmSizeResult['variants'] = [];
      let bestC: Float32Array | null = null;
      try {
        for (const variant of variantsFor(n)) {
          log(`gemm ${n}³ ${variant}`);
          poisonSamples(device, C, samples);
          const d = await kernels.gemm({ M: n, N: n, K: n, A: { buffer: A }, B: { buffer: B }, C: { buffer: C }, variant });
          const run = async (): Promise<void> => {
            const enc = device.createCommandEncoder();
            const pass = enc.beginComputePass();
            recordDispatches(pass, d);
            pass.end();
            device.queue.submit([enc.finish()]);
            await device.queue.onSubmittedWorkDone();
          };
          try {
            const t = await timeRuns(run, warmup, reps);
            ctx.check();
            const maxRelErr = await samplesError(device, pool, C, samples);
            timed.push({ variant, ...figure(flop, t), maxRelErr });
            if (maxRelErr > BENCH_GEMM_TOL) notes.push(`${n}³ ${variant}: WRONG result, max relative error ${maxRelErr.toPrecision(3)} on sampled entries (not counted as ours)`);
            else if (timed.every((v) => v.maxRelErr > BENCH_GEMM_TOL || v.gflops <= timed[timed.length - 1]!.gflops)) {
              [bestC] = await readF32(device, pool, [{ buffer: C, count: n * n }]);
            }
          } finally {
            kernels.release(d);
          }
        }
      } finally {
        [A, B, C].forEach((buf) => pool.release(buf));
      }
      const right = timed.filter((v) => v.maxRelErr <= BENCH_GEMM_TOL);
      if (!right.length) throw new Error(`GEMM ${n}³: every variant timed gave a wrong result (${notes.join('; ')})`);
      const ours = right.reduce((x, y) => (y.gflops > x.gflops ? y : x));

      let tfjs: GemmFigure | null = null;
      let diff: number | null = null;
      if (tfjsWanted) {
        try {
          log(`gemm ${n}³ tfjs-webgpu`);
          const eng = await useTfWebGpu(ctx);
          const tf = eng.tf;
          extraVersions = await tfVersions(tf, ['tfjs-backend-webgpu']);
          const ta = tf.tensor2d(a, [n, n]);
          const tb = tf.tensor2d(b, [n, n]);
          try {
            const t = await timeRuns(
              async () => {
                const tc = tf.matMul(ta, tb);
                await eng.sync();
                tc.dispose();
              },
              warmup,
              reps,
            );
            tfjs = figure(flop, t);
            const tc = tf.matMul(ta, tb);
            const got = (await tc.data()) as Float32Array;
            tc.dispose();
            if (bestC) diff = maxRelDiff(bestC, got);
          } finally {
            ta.dispose();
            tb.dispose();
          }
        } catch (e) {
          notes.push(`TF.js webgpu not timed: ${errorMessage(e)}`);
          tfjsWanted = false;
        }
      }
      const cpuTimeRatio = tfjs?.cpuSeconds && ours.cpuSeconds ? tfjs.cpuSeconds / ours.cpuSeconds : null;
      rows.push({ n, flop, variants: timed, ours, tfjs, ratio: tfjs ? ours.gflops / tfjs.gflops : null, cpuTimeRatio, maxRelDiffVsTfjs: diff });
    }
  } finally {
    pool.destroy();
  }
  const meta = await benchMeta(ctx, extraVersions);
  return { bench: 'gemm', ...meta, date, warmup, sizes: rows, notes };
}
