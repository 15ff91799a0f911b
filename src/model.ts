// One model API over both backends. `createModel(spec, { backend })` returns a
// Model whose methods behave the same on the float64 CPU reference and on WebGPU.
// The contract (Model, CostReport, …) lives in model-contract.ts; this module is the factory.

import { paramLayout, initParameters, type InitOptions } from './params.js';
import { resolveSpec, SpecError, type Network, type NetworkSpec } from './spec.js';
import { checkTheta, type BackendName, type Model } from './model-contract.js';
import { CpuModel } from './cpu/model.js';
import type { GpuModelOptions } from './gpu/model.js';
import { checkShape, type ObjectShape } from './schema.js';
import { checkParameterCount } from './limits.js';

export interface ModelOptions extends InitOptions, GpuModelOptions {
  backend?: BackendName;
  /** WebGPU only: a device owned by the caller; the model never destroys it. */
  device?: GPUDevice;
  /** Initial θ; default: initParameters(net, { init, seed }). */
  parameters?: ArrayLike<number>;
}

/** The keys of ModelOptions (schema.ts): createModel refuses any other. */
const MODEL_OPTIONS_SHAPE: ObjectShape = {
  fields: { backend: 'string', device: 'any', parameters: 'any', init: 'string', seed: 'number', epsilon: 'number', gemmVariant: 'any', maxChunkRows: 'integer', maxBindingBytes: 'integer' },
};

export async function createModel(spec: NetworkSpec | Network, opts: ModelOptions = {}): Promise<Model> {
  const net = resolveSpec(spec);
  checkShape(opts, MODEL_OPTIONS_SHAPE, 'options');
  const backend = opts.backend ?? 'webgpu';
  if (backend !== 'cpu' && backend !== 'webgpu') throw new SpecError(`unknown backend ${JSON.stringify(backend)}; expected cpu or webgpu`);
  // Sizes first (limits.ts): nothing of θ's size is allocated before they pass.
  checkParameterCount(net);
  const layout = paramLayout(net);
  const theta = (): Float64Array => {
    if (opts.parameters) {
      checkTheta(layout, opts.parameters);
      return Float64Array.from(opts.parameters);
    }
    return initParameters(net, opts);
  };
  if (backend === 'cpu') return new CpuModel(net, theta());
  const { createGpuModel } = await import('./gpu/model.js');
  return createGpuModel(net, theta, opts.device, opts);
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
