// Where a training step's GPU time goes: `wgnn bench step --profile`.
//
// 1. Capture: while one step runs, a tap on the device records every dispatch put
//    into a compute pass (pipeline, bind group, grid; the bind group's label names
//    the kernel) and counts the submits. Nothing in the model changes.
// 2. Replay the captured dispatches, in order, on the same buffers:
//    - with `timestamp-query`: one encoder, one compute pass per dispatch with
//      timestampWrites at its start and end; GPU nanoseconds per dispatch, the
//      median over `reps` replays;
//    - without it: CPU-side timing of each dispatch group (consecutive dispatches of
//      one kernel label), each its own submit + onSubmittedWorkDone; the fixed cost of
//      an empty submit + wait is measured and reported beside them (not subtracted).
// Per kernel label: count, seconds per step and share of the summed kernel time.

import type { GpuContext } from '../gpu/device.js';
import { createGpuModel } from '../gpu/model.js';
import type { DataPrecision } from '../f16.js';
import type { GemmVariant } from '../gpu/kernels.js';
import { initParameters } from '../params.js';
import { Rng } from '../prng.js';
import { resolveSpec } from '../spec.js';
import type { Matrix } from '../matrix.js';

/** One dispatch as recorded into a compute pass. */
export interface CapturedDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  x: number;
  y: number;
  z: number;
  label: string;
}

export interface Capture {
  dispatches: CapturedDispatch[];
  submits: number;
  passes: number;
}

/**
 * Records the dispatches and submits `device` sees while `work` runs (the device's
 * methods are wrapped for that time and restored after). Bind group 0 is the one
 * the engine's kernels use; its label names the kernel.
 */
export async function captureDispatches(device: GPUDevice, work: () => Promise<void>): Promise<Capture> {
  const cap: Capture = { dispatches: [], submits: 0, passes: 0 };
  const queue = device.queue;
  const createEncoder = device.createCommandEncoder;
  const submit = queue.submit;
  const dev = device as GPUDevice & { createCommandEncoder: GPUDevice['createCommandEncoder'] };
  dev.createCommandEncoder = function (desc?: GPUCommandEncoderDescriptor): GPUCommandEncoder {
    const enc = createEncoder.call(device, desc);
    const begin = enc.beginComputePass;
    enc.beginComputePass = function (pd?: GPUComputePassDescriptor): GPUComputePassEncoder {
      const pass = begin.call(enc, pd);
      cap.passes++;
      let pipeline: GPUComputePipeline | null = null;
      let bindGroup: GPUBindGroup | null = null;
      const setPipeline = pass.setPipeline;
      const setBindGroup = pass.setBindGroup;
      const dispatch = pass.dispatchWorkgroups;
      pass.setPipeline = function (p: GPUComputePipeline): undefined {
        pipeline = p;
        return setPipeline.call(pass, p);
      };
      pass.setBindGroup = function (index: number, bg: GPUBindGroup | null, ...rest: unknown[]): undefined {
        if (index === 0) bindGroup = bg;
        return (setBindGroup as (...a: unknown[]) => undefined).call(pass, index, bg, ...rest);
      };
      pass.dispatchWorkgroups = function (x: number, y = 1, z = 1): undefined {
        if (pipeline && bindGroup) cap.dispatches.push({ pipeline, bindGroup, x, y, z, label: bindGroup.label || pipeline.label || 'dispatch' });
        return dispatch.call(pass, x, y, z);
      };
      return pass;
    };
    return enc;
  };
  queue.submit = function (buffers: Iterable<GPUCommandBuffer>): undefined {
    cap.submits++;
    return submit.call(queue, buffers);
  };
  try {
    await work();
    await queue.onSubmittedWorkDone();
  } finally {
    dev.createCommandEncoder = createEncoder;
    queue.submit = submit;
  }
  return cap;
}

export interface KernelTime {
  /** The dispatch label: kernel and shape, e.g. 'gemm NT 256x200x784'. */
  label: string;
  /** Dispatches with this label per step. */
  count: number;
  /** Seconds per step (all its dispatches). */
  seconds: number;
  /** seconds / the sum over kernels. */
  share: number;
}

export interface StepProfile {
  method: 'timestamp-query' | 'cpu-submit';
  /** How the times were taken (and, without timestamp-query, that it is missing). */
  note: string;
  dispatchesPerStep: number;
  submitsPerStep: number;
  /** Summed kernel seconds per step. */
  kernelSeconds: number;
  /** cpu-submit only: seconds of one empty submit + wait, included in each group's time. */
  emptySubmitSeconds: number | null;
  /** Slowest first. */
  kernels: KernelTime[];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** GPU seconds of each dispatch (timestamp queries), median over `reps` replays. */
async function timeWithTimestamps(device: GPUDevice, list: CapturedDispatch[], reps: number): Promise<number[]> {
  const perSet = 2048; // dispatches per query set (4096 queries, the maximum)
  const times: number[][] = list.map(() => []);
  for (let start = 0; start < list.length; start += perSet) {
    const chunk = list.slice(start, start + perSet);
    const count = chunk.length * 2;
    const qs = device.createQuerySet({ type: 'timestamp', count });
    const resolve = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      for (let r = 0; r < reps; r++) {
        const enc = device.createCommandEncoder();
        chunk.forEach((d, i) => {
          const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
          pass.setPipeline(d.pipeline);
          pass.setBindGroup(0, d.bindGroup);
          pass.dispatchWorkgroups(d.x, d.y, d.z);
          pass.end();
        });
        enc.resolveQuerySet(qs, 0, count, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
        device.queue.submit([enc.finish()]);
        await read.mapAsync(GPUMapMode.READ);
        const ns = new BigInt64Array(read.getMappedRange().slice(0));
        read.unmap();
        chunk.forEach((_, i) => times[start + i]!.push(Math.max(0, Number(ns[2 * i + 1]! - ns[2 * i]!)) / 1e9));
      }
    } finally {
      qs.destroy();
      resolve.destroy();
      read.destroy();
    }
  }
  return times.map(median);
}

/** Wall seconds of each group of consecutive same-label dispatches, one submit + wait each, median over `reps`. */
async function timeWithSubmits(device: GPUDevice, groups: CapturedDispatch[][], reps: number): Promise<number[]> {
  const times: number[][] = groups.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (const [g, group] of groups.entries()) {
      const t0 = performance.now();
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      for (const d of group) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.x, d.y, d.z);
      }
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      times[g]!.push((performance.now() - t0) / 1000);
    }
  }
  return times.map(median);
}

async function emptySubmit(device: GPUDevice, reps: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    device.queue.submit([device.createCommandEncoder().finish()]);
    await device.queue.onSubmittedWorkDone();
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}

/**
 * Times the captured step kernel by kernel (timestamp queries when the device has
 * them, unless `forceCpu`), grouped by label.
 */
export async function profileCapture(ctx: GpuContext, cap: Capture, opts: { reps?: number; forceCpu?: boolean } = {}): Promise<StepProfile> {
  const device = ctx.device;
  const reps = Math.max(1, opts.reps ?? 5);
  const list = cap.dispatches;
  if (!list.length) throw new Error('profile: the captured step recorded no dispatches');
  const useTimestamps = !opts.forceCpu && device.features.has('timestamp-query');
  // Groups of consecutive dispatches with the same label (a sum's two stages keep distinct labels).
  const groups: CapturedDispatch[][] = [];
  for (const d of list) {
    const last = groups.at(-1);
    if (last && last[0]!.label === d.label) last.push(d);
    else groups.push([d]);
  }
  let labelled: { label: string; count: number; seconds: number }[];
  let emptySubmitSeconds: number | null = null;
  let note: string;
  if (useTimestamps) {
    const t = await timeWithTimestamps(device, list, reps);
    labelled = list.map((d, i) => ({ label: d.label, count: 1, seconds: t[i]! }));
    note = `GPU time per dispatch from timestamp queries (one compute pass per dispatch, median of ${reps} replays of the captured step)`;
  } else {
    const t = await timeWithSubmits(device, groups, reps);
    labelled = groups.map((g, i) => ({ label: g[0]!.label, count: g.length, seconds: t[i]! }));
    emptySubmitSeconds = await emptySubmit(device, reps * 2);
    note = `${device.features.has('timestamp-query') ? 'CPU timing forced' : 'this device has no timestamp-query'}: CPU-side time of each dispatch group (submit + onSubmittedWorkDone per group, median of ${reps}); each includes the fixed cost of a submit + wait (${(emptySubmitSeconds * 1e3).toFixed(3)} ms for an empty one)`;
  }
  ctx.check();
  const byLabel = new Map<string, { count: number; seconds: number }>();
  for (const l of labelled) {
    const e = byLabel.get(l.label) ?? { count: 0, seconds: 0 };
    e.count += l.count;
    e.seconds += l.seconds;
    byLabel.set(l.label, e);
  }
  const kernelSeconds = [...byLabel.values()].reduce((s, e) => s + e.seconds, 0);
  const kernels = [...byLabel.entries()]
    .map(([label, e]) => ({ label, count: e.count, seconds: e.seconds, share: kernelSeconds > 0 ? e.seconds / kernelSeconds : 0 }))
    .sort((a, b) => b.seconds - a.seconds);
  return {
    method: useTimestamps ? 'timestamp-query' : 'cpu-submit',
    note,
    dispatchesPerStep: list.length,
    submitsPerStep: cap.submits,
    kernelSeconds,
    emptySubmitSeconds,
    kernels,
  };
}

export interface ProfileStepOptions {
  layers?: number[];
  batch?: number;
  gemmVariant?: GemmVariant;
  /** Untimed steps before the capture (pipelines compiled, autotuning done; default 2). */
  warmup?: number;
  reps?: number;
  forceCpu?: boolean;
  seed?: number;
  /** How the examples are stored on the GPU (DatasetOptions.dataPrecision; default 'f32'). */
  dataPrecision?: DataPrecision;
  log?: (line: string) => void;
}

export interface StepProfileResult extends StepProfile {
  layers: number[];
  batch: number;
  /** Wall seconds of the captured step (submit to completion, captured with the tap on). */
  stepSeconds: number;
}

/**
 * Profiles one step of the sparse-autoencoder benchmark (benchStep's step: SGD update
 * recorded into the next evaluation; sigmoid, ρ 0.1, β 3, λ 3e-3) on seeded uniform data.
 */
export async function profileStep(ctx: GpuContext, opts: ProfileStepOptions = {}): Promise<StepProfileResult> {
  const layers = opts.layers ?? [784, 200, 784];
  const batch = opts.batch ?? 256;
  const seed = opts.seed ?? 1;
  const log = opts.log ?? (() => {});
  if (!(batch >= 1) || layers.length < 2) throw new RangeError(`profile: need batch ≥ 1 and at least 2 layers, got batch ${batch}, layers ${layers.join(',')}`);
  const net = resolveSpec({ layers, activation: 'sigmoid', loss: 'squared', autoencoder: true, lambda: 3e-3, sparsity: { rho: 0.1, beta: 3 } });
  const theta0 = initParameters(net, { init: 'ufldl', seed });
  const rng = new Rng(seed + 1);
  const batches = 2;
  const X: Matrix = { rows: batch * batches, cols: layers[0]!, data: new Float32Array(batch * batches * layers[0]!) };
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.uniform();
  log(`profile: ${layers.join('-')} batch ${batch} (setup)`);
  const model = await createGpuModel(net, theta0, ctx.device, opts.gemmVariant ? { gemmVariant: opts.gemmVariant } : {});
  const obj = model.objective(model.dataset(X, undefined, { dataPrecision: opts.dataPrecision ?? 'f32' }));
  try {
    obj.shuffle(seed);
    const step = async (s: number): Promise<void> => {
      obj.ops.axpy(-0.1, obj.grad, obj.theta);
      await obj.evaluate({ batch: { start: (s % batches) * batch, count: batch }, cost: false });
      await obj.ops.flush();
    };
    const warmup = opts.warmup ?? 2;
    for (let s = 0; s < warmup; s++) await step(s);
    await ctx.device.queue.onSubmittedWorkDone();
    log('profile: capturing one step');
    const t0 = performance.now();
    const cap = await captureDispatches(ctx.device, () => step(warmup));
    const stepSeconds = (performance.now() - t0) / 1000;
    log(`profile: timing ${cap.dispatches.length} dispatches`);
    const prof = await profileCapture(ctx, cap, { reps: opts.reps, forceCpu: opts.forceCpu });
    return { ...prof, layers: [...layers], batch, stepSeconds };
  } finally {
    obj.dispose();
    model.dispose();
  }
}

/** The profile as a text table: kernel, count, ms per step, share. */
export function formatProfile(p: StepProfileResult, adapter: string): string {
  const lines = [
    `step profile: ${p.layers.join('-')} batch ${p.batch} on ${adapter}`,
    `method: ${p.method} — ${p.note}`,
    `${p.dispatchesPerStep} dispatches, ${p.submitsPerStep} submit(s) per step; step wall time ${(p.stepSeconds * 1e3).toFixed(3)} ms; kernels sum ${(p.kernelSeconds * 1e3).toFixed(3)} ms`,
    '',
    `${'kernel'.padEnd(32)} ${'count'.padStart(5)} ${'ms/step'.padStart(10)} ${'share'.padStart(7)}`,
  ];
  for (const k of p.kernels) {
    lines.push(`${k.label.padEnd(32)} ${String(k.count).padStart(5)} ${(k.seconds * 1e3).toFixed(3).padStart(10)} ${`${(k.share * 100).toFixed(1)}%`.padStart(7)}`);
  }
  return lines.join('\n');
}
