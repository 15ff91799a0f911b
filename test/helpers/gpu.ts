// Shared WebGPU plumbing for tests: one device per test file, buffers from
// typed arrays, NaN-poisoned outputs, and readback.
import { acquireDevice, type GpuContext } from '../../src/gpu/device.js';
import { BufferPool, readF32, STORAGE, writeF32 } from '../../src/gpu/buffers.js';
import { Kernels, recordDispatches, type Dispatch } from '../../src/gpu/kernels.js';
import { PipelineCache } from '../../src/gpu/shaders.js';
import { Rng } from '../../src/prng.js';

let shared: Promise<GpuContext> | null = null;
/** One device for the whole test file (SwiftShader on CI). */
export function gpu(): Promise<GpuContext> {
  shared ??= acquireDevice();
  return shared;
}

export interface Harness {
  ctx: GpuContext;
  pool: BufferPool;
  kernels: Kernels;
  upload(values: ArrayLike<number>): GPUBuffer;
  /** A buffer of `count` f32 filled with NaN, so an unwritten element shows. */
  poisoned(count: number): GPUBuffer;
  read(buf: GPUBuffer, count: number, offset?: number): Promise<Float32Array>;
  run(list: Dispatch[]): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const ctx = await gpu();
  const pool = new BufferPool(ctx.device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
  const kernels = new Kernels(ctx, pool, new PipelineCache(ctx.device));
  const upload = (values: ArrayLike<number>): GPUBuffer => {
    const b = pool.acquire(Math.max(1, values.length) * 4, STORAGE);
    writeF32(ctx.device, b, values);
    return b;
  };
  return {
    ctx,
    pool,
    kernels,
    upload,
    poisoned: (count) => upload(new Float32Array(count).fill(NaN)),
    read: async (buf, count, offset = 0) => (await readF32(ctx.device, pool, [{ buffer: buf, offset, count }]))[0]!,
    run: async (list) => {
      const enc = ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      recordDispatches(pass, list);
      pass.end();
      ctx.device.queue.submit([enc.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
      ctx.check();
    },
  };
}

/** A seeded random permutation of 0 … m−1, and a u32 storage buffer holding it (a mini-batch order). */
export function uploadPermutation(h: Harness, rng: Rng, m: number): { perm: Uint32Array; order: GPUBuffer } {
  const perm = new Uint32Array(m);
  for (let i = 0; i < m; i++) perm[i] = i;
  rng.shuffle(perm);
  const order = h.pool.acquire(m * 4, STORAGE);
  h.ctx.device.queue.writeBuffer(order, 0, perm);
  return { perm, order };
}

export function randomArray(rng: Rng, n: number, lo = -1, hi = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.range(lo, hi);
  return a;
}

/** The n × n identity (row-major): with W = I, the CPU hiddenDelta step's Wᵀδ is δ itself. */
export function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** Largest |a − b| / (1 + |b|) over all elements; NaN anywhere gives Infinity. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** ‖a − b‖ / ‖b‖. */
export function relNormDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den || 1);
}

/**
 * Records the bind-group label of every dispatch (direct or indirect) recorded on
 * `device` until `stop()`, in order: which kernels a run dispatched.
 */
export function recordDispatchLabels(device: GPUDevice): { labels: string[]; stop(): void } {
  const labels: string[] = [];
  const origEncoder = device.createCommandEncoder;
  device.createCommandEncoder = function (desc?: GPUCommandEncoderDescriptor) {
    const enc = origEncoder.call(device, desc);
    const origPass = enc.beginComputePass;
    enc.beginComputePass = function (d?: GPUComputePassDescriptor) {
      const pass = origPass.call(enc, d);
      let label = '';
      const setBindGroup = pass.setBindGroup;
      pass.setBindGroup = function (this: GPUComputePassEncoder, ...args: Parameters<GPUComputePassEncoder['setBindGroup']>) {
        label = args[1]?.label ?? '';
        return (setBindGroup as (...a: unknown[]) => void).apply(pass, args);
      } as GPUComputePassEncoder['setBindGroup'];
      const dispatch = pass.dispatchWorkgroups;
      pass.dispatchWorkgroups = function (x: number, y?: number, z?: number) {
        labels.push(label);
        return dispatch.call(pass, x, y, z);
      };
      const indirect = pass.dispatchWorkgroupsIndirect;
      pass.dispatchWorkgroupsIndirect = function (buffer: GPUBuffer, offset: number) {
        labels.push(label);
        return indirect.call(pass, buffer, offset);
      };
      return pass;
    };
    return enc;
  };
  return { labels, stop: () => void (device.createCommandEncoder = origEncoder) };
}
