// Denoising on the GPU: noise fresh per evaluation, absent at inference, and the
// same fresh noise as the CPU during training. The cost parts and ∇θ of every
// autoencoder option (tied, contractive, k-sparse, denoising), whole and chunked,
// are in the parity table of test/gpu-parity.test.ts.
import { describe, expect, it } from 'vitest';
import { cpuCost } from '../src/cpu/network.js';
import { createGpuModel, type GpuModel } from '../src/gpu/model.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type Network, type NetworkSpec } from '../src/spec.js';
import { type Matrix } from '../src/matrix.js';
import { gpu, randomArray, relNormDiff } from './helpers/gpu.js';

const COST_TOL = 1e-5;

function setup(spec: NetworkSpec, m: number, seed = 1): { net: Network; theta: Float64Array; X: Matrix } {
  const net = resolveSpec(spec);
  const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed })));
  return { net, theta, X: { rows: m, cols: net.layers[0]!, data: Float64Array.from(Float32Array.from(randomArray(new Rng(seed + 10), m * net.layers[0]!, 0, 1))) } };
}

async function gpuEval(model: GpuModel, X: Matrix, noiseSeed?: number): Promise<{ cost: number; parts: Record<string, number>; grad: Float64Array }> {
  const ds = model.upload(X);
  try {
    await model.evaluate(ds, { noiseSeed });
    const { cost, parts } = await model.readCost();
    return { cost, parts: parts as unknown as Record<string, number>, grad: await model.readGradient() };
  } finally {
    model.release(ds);
  }
}

const sae = { activation: 'sigmoid', autoencoder: true, lambda: 1e-3 } as const;

describe('denoising noise: fresh per evaluation, absent at inference', () => {
  it('different seeds give different gradients; the same seed the same; no seed is the clean cost', async () => {
    const { net, theta, X } = setup({ ...sae, layers: [14, 5, 14], corruption: { kind: 'mask', level: 0.3 } }, 25);
    const ctx = await gpu();
    const model = await createGpuModel(net, theta, ctx.device);
    try {
      const a = await gpuEval(model, X, 1);
      const a2 = await gpuEval(model, X, 1);
      const b = await gpuEval(model, X, 2);
      const clean = await gpuEval(model, X);
      expect(relNormDiff(a2.grad, a.grad)).toBe(0);
      expect(relNormDiff(b.grad, a.grad)).toBeGreaterThan(1e-2);
      const want = cpuCost(net, theta, X, undefined, { gradient: false });
      expect(Math.abs(clean.cost - want.cost) / want.cost).toBeLessThan(COST_TOL);
      // Inference after a noisy evaluation reads the clean input.
      const rec = await model.predict(X);
      const cpuRec = cpuCost(net, theta, X, undefined, { gradient: false });
      expect(cpuRec.cost).toBeGreaterThan(0);
      const ref = (await import('../src/cpu/network.js')).cpuPredict(net, theta, X);
      expect(relNormDiff(rec.data, ref.data)).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });
});

describe('training a denoising autoencoder: both objectives draw the same fresh noise', () => {
  it('Adam on mini-batches: GPU θ follows the CPU reference, and differs from training without noise', async () => {
    const { cpuNetworkObjective } = await import('../src/cpu/objective.js');
    const { GpuObjective } = await import('../src/gpu/objective.js');
    const { optimize } = await import('../src/optim/optimize.js');
    const spec = { ...sae, layers: [14, 5, 14], corruption: { kind: 'mask' as const, level: 0.4, seed: 3 } };
    const { net, theta, X } = setup(spec, 30);
    const opts = { method: 'adam' as const, learningRate: 0.05, batchSize: 10, epochs: 2, seed: 4 };
    const cpuObj = cpuNetworkObjective(net, theta, X);
    await optimize(cpuObj, opts);
    const want = await cpuObj.ops.read(cpuObj.theta);
    const plain = cpuNetworkObjective(resolveSpec({ ...sae, layers: [14, 5, 14] }), theta, X);
    await optimize(plain, opts);
    const ctx = await gpu();
    const model = await createGpuModel(net, theta, ctx.device);
    const obj = new GpuObjective(model, X);
    try {
      await optimize(obj, opts);
      const got = await obj.ops.read(obj.theta);
      expect(relNormDiff(got, want)).toBeLessThan(1e-4);
      expect(relNormDiff(await plain.ops.read(plain.theta), want)).toBeGreaterThan(1e-3);
    } finally {
      obj.dispose();
      model.dispose();
    }
  });
});
