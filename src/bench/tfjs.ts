// TF.js as the point of comparison: its WebGPU backend built over *our*
// GPUDevice (so both engines run on the same adapter, side by side), and its
// WebAssembly backend as the CPU reference point. TF.js is a development
// dependency: it is loaded on demand and its absence is reported, not fatal.

import type * as TFNamespace from '@tensorflow/tfjs';
import type { GpuContext } from '../gpu/device.js';
import { readPackageVersion } from './common.js';

export type TF = typeof TFNamespace;

/** A TF.js backend made current, with a way to wait for its queued work. */
export interface TfEngine {
  tf: TF;
  /** TF.js backend name ('webgpu-nn-shared-…' or 'wasm'). */
  name: string;
  /** Returns once every op issued so far has finished (no readback). */
  sync(): Promise<void>;
  /** Facts worth printing next to the figure (threads, SIMD…). */
  info: Record<string, string | number | boolean>;
}

interface WebGpuBackendLike {
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Modules handed in by a bundled page (bench/browser/main.ts), where a bare
 * `import(name)` cannot be resolved at run time: '@tensorflow/tfjs',
 * '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'.
 */
const provided = new Map<string, unknown>();
const providedVersions: Record<string, string> = {};
let providedWasmPaths: string | null = null;

export interface ProvidedTf {
  tf: unknown;
  webgpu?: unknown;
  wasm?: unknown;
  /** Where the wasm backend's .wasm files are served (a URL folder ending in '/'). */
  wasmPaths?: string;
  /** Package versions to report, e.g. from the bundler ('@tensorflow/tfjs-backend-webgpu': '4.22.0'). */
  versions?: Record<string, string>;
}

/** Makes the benchmarks use these TF.js modules instead of importing them by name (browser pages). */
export function provideTfModules(p: ProvidedTf): void {
  provided.set('@tensorflow/tfjs', p.tf);
  if (p.webgpu) provided.set('@tensorflow/tfjs-backend-webgpu', p.webgpu);
  if (p.wasm) provided.set('@tensorflow/tfjs-backend-wasm', p.wasm);
  providedWasmPaths = p.wasmPaths ?? null;
  Object.assign(providedVersions, p.versions ?? {});
}

async function importModule<T>(name: string): Promise<T> {
  const mod = (provided.get(name) ?? (await import(/* @vite-ignore */ name))) as { default?: T } & T;
  // CommonJS bundles: the namespace's default is module.exports, which has every export.
  return (mod.default && typeof mod.default === 'object' ? mod.default : mod) as T;
}

let tfPromise: Promise<TF> | null = null;

/** @tensorflow/tfjs, or an Error saying how to get it. */
export function loadTf(): Promise<TF> {
  tfPromise ??= importModule<TF>('@tensorflow/tfjs').catch((e: unknown) => {
    tfPromise = null;
    throw new Error(`@tensorflow/tfjs could not be loaded (${(e as Error).message.split('\n')[0]}); install it with \`npm install --no-save @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-backend-wasm\` to compare`);
  });
  return tfPromise;
}

/** Versions of @tensorflow/tfjs and of the named backend packages (from their package.json). */
export async function tfVersions(tf: TF, backends: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = { '@tensorflow/tfjs': (tf.version as unknown as Record<string, string>).tfjs ?? '' };
  for (const b of backends) out[`@tensorflow/${b}`] = (await readPackageVersion(`@tensorflow/${b}`)) ?? providedVersions[`@tensorflow/${b}`] ?? '';
  return out;
}

let nodeGpu: GPU | null = null;

/**
 * tfjs-backend-webgpu refuses to construct without `navigator.gpu`, which Node 20
 * lacks: give it Dawn's GPU object (the `webgpu` package).
 */
async function ensureNavigatorGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return;
  if (!nodeGpu) {
    const webgpu = await importModule<{ create(opts: string[]): GPU }>('webgpu');
    nodeGpu = webgpu.create([]);
  }
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: nodeGpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: nodeGpu }, configurable: true, writable: true });
}

const sharedNames = new WeakMap<GPUDevice, string>();
let sharedCount = 0;

/**
 * TF.js's WebGPU backend over ctx.device, registered under its own name (with
 * copies of the 'webgpu' kernels) and made the current backend.
 */
export async function useTfWebGpu(ctx: GpuContext): Promise<TfEngine> {
  const tf = await loadTf();
  let name = sharedNames.get(ctx.device);
  if (!name) {
    const mod = await importModule<{ WebGPUBackend: new (device: GPUDevice, info?: { vendor: string; architecture: string }) => unknown }>(
      '@tensorflow/tfjs-backend-webgpu',
    ).catch((e: unknown) => {
      throw new Error(`@tensorflow/tfjs-backend-webgpu could not be loaded: ${(e as Error).message.split('\n')[0]}`);
    });
    await ensureNavigatorGpu();
    name = `webgpu-nn-shared-${++sharedCount}`;
    // Kernels are registered per backend name; ours reuses the 'webgpu' ones.
    for (const k of tf.getKernelsForBackend('webgpu')) tf.registerKernel({ ...k, backendName: name });
    const info = { vendor: ctx.adapter.vendor, architecture: ctx.adapter.architecture };
    const Backend = mod.WebGPUBackend;
    tf.registerBackend(name, () => new Backend(ctx.device, info) as ReturnType<Parameters<TF['registerBackend']>[1]>, 0);
    sharedNames.set(ctx.device, name);
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js could not initialize its WebGPU backend over our device`);
  const backend = tf.findBackend(name) as unknown as WebGpuBackendLike;
  const device = ctx.device;
  return {
    tf,
    name,
    info: { deferredSubmitBatch: tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'), cpuForward: tf.env().getBool('WEBGPU_CPU_FORWARD') },
    async sync() {
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await device.queue.onSubmittedWorkDone();
    },
  };
}

let wasmReady: Promise<{ threads: number }> | null = null;

/** TF.js's WebAssembly backend (XNNPACK), made the current backend. */
export async function useTfWasm(): Promise<TfEngine> {
  const tf = await loadTf();
  wasmReady ??= (async () => {
    const wasm = await importModule<{ setWasmPaths(p: string): void; getThreadsCount(): number }>('@tensorflow/tfjs-backend-wasm');
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (providedWasmPaths) {
      wasm.setWasmPaths(providedWasmPaths);
    } else if (proc?.versions?.node) {
      // In Node the .wasm files are read from the package's dist folder.
      const { createRequire } = await import('node:module');
      const path = await import('node:path');
      const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(path.dirname(main) + path.sep);
    }
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not initialize its wasm backend');
    let threads = 1;
    try {
      threads = wasm.getThreadsCount();
    } catch {
      threads = 1;
    }
    return { threads };
  })().catch((e: unknown) => {
    wasmReady = null;
    throw e;
  });
  const { threads } = await wasmReady;
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not initialize its wasm backend');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return { tf, name: 'wasm', info: { threads, simd: !!simd, multithread: !!mt }, sync: async () => {} };
}
