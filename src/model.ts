// One model API over both backends. `createModel(spec, { backend })` returns a
// Model whose methods behave the same on the float64 CPU reference and on WebGPU.
// The contract (Model, CostReport, …) lives in model-contract.ts; this module is the factory.

import { paramLayout, initParameters, type InitOptions } from './params.js';
import { resolveSpec, SpecError, type Network, type NetworkSpec } from './spec.js';
import { checkTheta, type BackendName, type Model } from './model-contract.js';
import { CpuModel } from './cpu/model.js';
import type { GpuModelOptions } from './gpu/model.js';

export interface ModelOptions extends InitOptions, GpuModelOptions {
  backend?: BackendName;
  /** WebGPU only: a device owned by the caller; the model never destroys it. */
  device?: GPUDevice;
  /** Initial θ; default: initParameters(net, { init, seed }). */
  parameters?: ArrayLike<number>;
}

export async function createModel(spec: NetworkSpec | Network, opts: ModelOptions = {}): Promise<Model> {
  const net = resolveSpec(spec);
  const layout = paramLayout(net);
  let theta: Float64Array;
  if (opts.parameters) {
    checkTheta(layout, opts.parameters);
    theta = Float64Array.from(opts.parameters);
  } else {
    theta = initParameters(net, opts);
  }
  const backend = opts.backend ?? 'webgpu';
  if (backend === 'cpu') return new CpuModel(net, theta);
  if (backend === 'webgpu') {
    const { createGpuModel } = await import('./gpu/model.js');
    return createGpuModel(net, theta, opts.device, opts);
  }
  throw new SpecError(`unknown backend ${JSON.stringify(backend)}; expected cpu or webgpu`);
}

/**
 * A device for the models of one run to share (a pipeline's stages pass GPU
 * data sets between them): on WebGPU the caller's `device`, or one made here
 * that `release` destroys; on the CPU none.
 */
export async function sharedDevice(backend: BackendName, device?: GPUDevice): Promise<{ device?: GPUDevice; release(): void }> {
  if (backend !== 'webgpu' || device) return { device, release: () => {} };
  const { acquireDevice } = await import('./gpu/device.js');
  const own = await acquireDevice();
  return { device: own.device, release: () => own.destroy() };
}
