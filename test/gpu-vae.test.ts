// The VAE's API on WebGPU against the float64 reference (its cost and gradient
// parity is in the table of test/gpu-parity.test.ts): encode, predict, decode,
// sample, and the −ELBO / importance-weighted evaluation, chunked.
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { gpu, randomArray, relNormDiff } from './helpers/gpu.js';
import { initParameters } from '../src/params.js';

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

describe('VAE API on both backends', () => {
  it('model.cost: the default ε (the stream\'s first draw) and a given one agree with the reference, chunked', async () => {
    await compare({ layers: [11, 6, 2, 6, 11], activation: ['tanh', 'identity', 'tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 1e-3, vae: {} }, 15, 2, { maxChunkRows: 6 });
  });

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
