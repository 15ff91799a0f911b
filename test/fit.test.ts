// fit(model, data, options): one call trains a CPU or a WebGPU model with any
// optimizer; validation cost and accuracy, early stopping, AbortSignal, progress,
// θ left in the model; and the same call gives the same numbers on both backends.
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import type { Model } from '../src/model-contract.js';
import { fit } from '../src/fit.js';
import { oneHot } from '../src/data/labels.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import { type Matrix } from '../src/matrix.js';
import { gpu } from './helpers/gpu.js';

const aeSpec: NetworkSpec = { layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
const clsSpec: NetworkSpec = { layers: [6, 7, 3], activation: ['tanh', 'softmax'], loss: 'softmax-cross-entropy', lambda: 1e-4 };

function uniform(m: number, n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { rows: m, cols: n, data: Float64Array.from({ length: m * n }, () => rng.uniform()) };
}

/** Three classes, separable by which third of the features is largest, with noise. */
function classes(m: number, seed: number): { X: Matrix; labels: Uint8Array; Y: Matrix } {
  const rng = new Rng(seed);
  const labels = new Uint8Array(m);
  const X = uniform(m, 6, seed + 1);
  for (let i = 0; i < m; i++) {
    const c = Math.floor(rng.uniform() * 3);
    labels[i] = c;
    X.data[i * 6 + 2 * c] += 1.5;
  }
  return { X, labels, Y: oneHot(labels, 3) };
}

async function model(backend: 'cpu' | 'webgpu', spec: NetworkSpec): Promise<Model> {
  // θ rounded to float32 so both backends start from the same point.
  const parameters = Float64Array.from(Float32Array.from(initParameters(resolveSpec(spec), { seed: 5 })));
  return createModel(spec, { backend, parameters, ...(backend === 'webgpu' ? { device: (await gpu()).device } : {}) });
}

describe('fit', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`${backend}: L-BFGS on an autoencoder lowers J and leaves θ in the model`, async () => {
      const m = await model(backend, aeSpec);
      const X = uniform(40, 12, 7);
      const before = (await m.cost(X, undefined, { gradient: false })).cost;
      const iterations: number[] = [];
      const r = await fit(m, { X }, { optimizer: { method: 'lbfgs', maxIterations: 15 }, onProgress: (p) => void iterations.push(p.iteration) });
      expect(r.cost).toBeLessThan(before);
      expect(r.iterations).toBe(iterations.length);
      expect(r.curve).toHaveLength(r.iterations);
      const after = await m.cost(X, undefined, { gradient: false });
      expect(Math.abs(after.cost - r.cost) / r.cost).toBeLessThan(1e-6);
      expect(r.rhoHatMean).toBeCloseTo(after.rhoHat[0]!.reduce((a, b) => a + b, 0) / 5, 5);
      m.dispose();
    }, 120_000);

    it(`${backend}: Adam on a classifier with a validation set: cost and accuracy reported, early stopping on patience`, async () => {
      const m = await model(backend, clsSpec);
      const train = classes(60, 11);
      const val = classes(30, 21);
      const seen: number[] = [];
      const r = await fit(m, { X: train.X, Y: train.Y }, {
        optimizer: { method: 'adam', learningRate: 0.05, epochs: 20, batchSize: 20 },
        validation: { X: val.X, Y: val.Y },
        validateEvery: 3,
        onProgress: (p) => void (p.validation && seen.push(p.validation.iteration)),
      });
      expect(r.reason).toBe('epochs');
      expect(r.iterations).toBe(60);
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => 3 * (i + 1)));
      expect(r.validation.map((v) => v.iteration)).toEqual(seen);
      const last = r.validation.at(-1)!;
      expect(last.accuracy).toBeGreaterThan(0.8); // chance is 1/3
      // The last reading is at the final θ (in the model).
      expect(Math.abs(last.cost - (await m.cost(val.X, val.Y, { gradient: false })).cost)).toBeLessThan(1e-6 * last.cost);
      expect(r.bestValidation!.cost).toBe(Math.min(...r.validation.map((v) => v.cost)));

      // Patience 2 with an improvement threshold no reading can meet: stops at the third reading.
      const stopped = await fit(m, { X: train.X, Y: train.Y }, {
        optimizer: { method: 'adam', learningRate: 0.05, epochs: 20, batchSize: 20 },
        validation: { X: val.X, labels: val.labels }, validateEvery: 2, patience: 2, minDelta: 1e9,
      });
      expect(stopped.reason).toBe('early-stopping');
      expect(stopped.iterations).toBe(6);
      expect(stopped.validation.map((v) => v.iteration)).toEqual([2, 4, 6]);
      m.dispose();
    }, 120_000);

    it(`${backend}: an AbortSignal stops at the next iteration boundary`, async () => {
      const m = await model(backend, aeSpec);
      const abort = new AbortController();
      const r = await fit(m, { X: uniform(40, 12, 7) }, {
        optimizer: { method: 'gd', learningRate: 0.1, iterations: 50 }, signal: abort.signal,
        onProgress: (p) => void (p.iteration === 4 && abort.abort()),
      });
      expect(r.reason).toBe('interrupted');
      expect(r.iterations).toBe(4);
      m.dispose();
    }, 120_000);
  }

  it('the same call gives the same numbers on both backends (float32 tolerance)', async () => {
    const X = uniform(40, 12, 7);
    const opts = { optimizer: { method: 'gd' as const, learningRate: 0.5, iterations: 10 } };
    const [cpu, gpuModel] = [await model('cpu', aeSpec), await model('webgpu', aeSpec)];
    const a = await fit(cpu, { X }, opts);
    const b = await fit(gpuModel, gpuModel.dataset(X), opts);
    expect(Math.abs(a.cost - b.cost) / a.cost).toBeLessThan(1e-4);
    const [ta, tb] = [await cpu.readParameters(), await gpuModel.readParameters()];
    let d = 0;
    for (let i = 0; i < ta.length; i++) d = Math.max(d, Math.abs(ta[i]! - tb[i]!));
    expect(d).toBeLessThan(1e-4);
    gpuModel.dispose();
  }, 120_000);

  it('refuses patience without a validation set, and a data set of the other backend', async () => {
    const cpu = await model('cpu', aeSpec);
    const X = uniform(10, 12, 1);
    await expect(fit(cpu, { X }, { patience: 3 })).rejects.toThrow(/patience.*validation set/);
    const g = await model('webgpu', aeSpec);
    await expect(fit(cpu, g.dataset(X))).rejects.toThrow(/CPU model trains on CPU data sets/);
    await expect(fit(g, cpu.dataset(X))).rejects.toThrow(/WebGPU model trains on GPU data sets/);
    g.dispose();
  }, 120_000);
});
