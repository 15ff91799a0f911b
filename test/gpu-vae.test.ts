// The VAE on WebGPU (float32) against the float64 reference: cost, its parts and
// the gradient with the same ε (its uniforms are bit-identical; ε agrees to f32
// rounding), whole and chunked, for the combinations the spec allows.
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { gpu, randomArray, relNormDiff } from './helpers/gpu.js';
import { cpuCost } from '../src/cpu/network.js';
import { corruptMatrix } from '../src/noise.js';
import { initParameters } from '../src/params.js';
import type { GpuModel } from '../src/gpu/model.js';

const GRAD_TOL = 1e-4;
const COST_TOL = 1e-5;

async function compare(spec: NetworkSpec, m: number, seed: number, extra: { maxChunkRows?: number } = {}): Promise<void> {
  const net = resolveSpec(spec);
  const rng = new Rng(seed);
  const X: Matrix = { rows: m, cols: net.layers[0]!, data: Float64Array.from(Float32Array.from(randomArray(rng, m * net.layers[0]!, 0, 1))) };
  const ctx = await gpu();
  const theta = Float64Array.from(Float32Array.from((await (await createModel(net, { backend: 'cpu', init: 'glorot', seed })).readParameters())));
  const cpu = await createModel(net, { backend: 'cpu', parameters: theta });
  const gpuModel = await createModel(net, { backend: 'webgpu', device: ctx.device, parameters: theta, gemmVariant: 'unrolled-4x4', ...extra });
  try {
    for (const noiseSeed of [undefined, 77]) {
      const a = await cpu.cost(X, undefined, { noiseSeed });
      const b = await gpuModel.cost(X, undefined, { noiseSeed });
      const what = `${JSON.stringify(spec.layers)} seed ${noiseSeed} chunk ${extra.maxChunkRows ?? 'whole'}`;
      expect(Math.abs(b.cost - a.cost) / Math.abs(a.cost), `cost ${what}`).toBeLessThan(COST_TOL);
      for (const part of ['data', 'kl', 'weightDecay'] as const) {
        expect(Math.abs(b.parts[part]! - a.parts[part]!) / Math.abs(a.cost), `${part} ${what}`).toBeLessThan(COST_TOL);
      }
      expect(relNormDiff(b.grad!, a.grad!), `gradient ${what}`).toBeLessThan(GRAD_TOL);
      a.rhoHat.forEach((r, k) => expect(relNormDiff(b.rhoHat[k]!, r), `rhoHat ${k} ${what}`).toBeLessThan(1e-4));
    }
  } finally {
    gpuModel.dispose();
  }
}

describe('VAE parity, GPU vs float64 CPU', () => {
  it('a denoising VAE training evaluation: corruption and ε seeded apart, both mirrored', async () => {
    const spec: NetworkSpec = { layers: [12, 7, 4, 7, 12], activation: ['sigmoid', 'identity', 'sigmoid', 'sigmoid'], loss: 'cross-entropy', corruption: { kind: 'gaussian', level: 0.2 }, vae: {} };
    const net = resolveSpec(spec);
    const rng = new Rng(9);
    const m = 17;
    const X: Matrix = { rows: m, cols: 12, data: Float64Array.from(Float32Array.from(randomArray(rng, m * 12, 0, 1))) };
    const ctx = await gpu();
    const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed: 4 })));
    const g = (await createModel(net, { backend: 'webgpu', device: ctx.device, parameters: theta, gemmVariant: 'unrolled-4x4', maxChunkRows: 6 })) as GpuModel;
    try {
      const ds = g.upload(X);
      await g.evaluate(ds, { noiseSeed: 31, epsSeed: 32 });
      const [{ cost }, grad] = await Promise.all([g.readCost(), g.readGradient()]);
      const input = { rows: m, cols: 12, data: corruptMatrix({ rows: m, cols: 12, data: Float32Array.from(X.data) }, net.corruption!, 31) };
      const a = cpuCost(net, theta, X, undefined, { gradient: true, input, noiseSeed: 32 });
      expect(Math.abs(cost - a.cost) / a.cost).toBeLessThan(COST_TOL);
      expect(relNormDiff(grad, a.grad!)).toBeLessThan(GRAD_TOL);
      g.release(ds);
    } finally {
      g.dispose();
    }
  });

  it('Bernoulli, deep tanh, β = 2, weight decay: whole and chunked', async () => {
    const spec: NetworkSpec = { layers: [13, 9, 3, 9, 13], activation: ['tanh', 'identity', 'tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 1e-3, vae: { beta: 2 } };
    await compare(spec, 37, 1);
    await compare(spec, 37, 1, { maxChunkRows: 10 });
  });

  it('Gaussian, relu, one layer each side and 7 layers; denoising (clean input in cost())', async () => {
    await compare({ layers: [11, 2, 11], activation: ['identity', 'identity'], loss: 'squared', vae: {} }, 21, 2, { maxChunkRows: 8 });
    await compare({ layers: [10, 8, 6, 3, 6, 8, 10], activation: ['relu', 'softplus', 'identity', 'elu', 'relu', 'identity'], loss: 'squared', vae: { beta: 0.5 } }, 23, 3);
    await compare({ layers: [12, 7, 4, 7, 12], activation: ['sigmoid', 'identity', 'sigmoid', 'sigmoid'], loss: 'cross-entropy', corruption: { kind: 'mask', level: 0.3 }, vae: {} }, 19, 4, { maxChunkRows: 7 });
  });
});

describe('VAE API on both backends', () => {
  it('encode (μ, log σ²), predict through μ, decode, sample (deterministic per seed), evaluateVae (−ELBO, IWAE) agree', async () => {
    const spec: NetworkSpec = { layers: [14, 9, 3, 9, 14], activation: ['relu', 'identity', 'relu', 'sigmoid'], loss: 'cross-entropy', vae: {} };
    const net = resolveSpec(spec);
    const rng = new Rng(11);
    const m = 23;
    const X: Matrix = { rows: m, cols: 14, data: Float64Array.from(Float32Array.from(randomArray(rng, m * 14, 0, 1))) };
    const theta = Float64Array.from(Float32Array.from(initParameters(net, { init: 'glorot', seed: 5 })));
    const ctx = await gpu();
    const cpu = await createModel(net, { backend: 'cpu', parameters: theta });
    const g = await createModel(net, { backend: 'webgpu', device: ctx.device, parameters: theta, gemmVariant: 'unrolled-4x4', maxChunkRows: 9 });
    try {
      const [a, b] = [await cpu.encode(X), await g.encode(X)];
      expect([b.rows, b.cols, b.logvar!.rows, b.logvar!.cols]).toEqual([m, 3, m, 3]);
      expect(relNormDiff(b.data, a.data)).toBeLessThan(1e-5);
      expect(relNormDiff(b.logvar!.data, a.logvar!.data)).toBeLessThan(1e-5);
      expect(relNormDiff((await g.predict(X)).data, (await cpu.predict(X)).data)).toBeLessThan(1e-5);
      expect(relNormDiff((await g.decode(a)).data, (await cpu.decode(a)).data)).toBeLessThan(1e-5);
      const s1 = await g.sample(30, { seed: 4 });
      expect([s1.rows, s1.cols]).toEqual([30, 14]);
      expect(Array.from((await g.sample(30, { seed: 4 })).data)).toEqual(Array.from(s1.data));
      expect(relNormDiff(s1.data, (await g.sample(30, { seed: 5 })).data)).toBeGreaterThan(1e-2);
      expect(relNormDiff(s1.data, (await cpu.sample(30, { seed: 4 })).data)).toBeLessThan(1e-5);
      const [ea, eb] = [await cpu.evaluateVae(X, { samples: 12, seed: 3 }), await g.evaluateVae(X, { samples: 12, seed: 3 })];
      expect(Math.abs(eb.negElbo - ea.negElbo) / ea.negElbo).toBeLessThan(1e-5);
      expect(Math.abs(eb.nll! - ea.nll!) / ea.nll!).toBeLessThan(1e-5);
      expect(ea.nll!).toBeLessThan(ea.negElbo + 0.5);
      await expect(g.encode(X, 2)).rejects.toThrow(/latent layer 3/);
      await expect(g.decode({ rows: 1, cols: 2, data: new Float64Array(2) })).rejects.toThrow(/latent layer has 3 units/);
    } finally {
      g.dispose();
    }
  });
});
