// Whole-network parity: cost and gradient on WebGPU (float32) against the float64
// CPU reference, for every activation, every loss, weight decay, KL sparsity,
// L1, 1–3 hidden layers, and chunked evaluation.
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import { type Matrix } from '../src/matrix.js';
import type { GpuModel } from '../src/gpu/model.js';
import { gpu, randomArray, relNormDiff } from './helpers/gpu.js';

const GRAD_TOL = 1e-4;
const COST_TOL = 1e-5;

function data(rng: Rng, rows: number, cols: number, lo = 0, hi = 1): Matrix {
  return { rows, cols, data: randomArray(rng, rows * cols, lo, hi) };
}

function oneHot(rng: Rng, rows: number, cols: number): Matrix {
  const d = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols + rng.int(cols)] = 1;
  return { rows, cols, data: d };
}

async function compare(spec: NetworkSpec, m: number, seed: number, extra: { maxChunkRows?: number } = {}): Promise<{ gradDiff: number; costDiff: number }> {
  const net = resolveSpec(spec);
  const rng = new Rng(seed);
  const n1 = net.layers[0]!;
  const nL = net.layers[net.layers.length - 1]!;
  const X = data(rng, m, n1);
  const Y = net.autoencoder ? undefined : net.loss === 'softmax-cross-entropy' ? oneHot(rng, m, nL) : data(rng, m, nL);
  const ctx = await gpu();
  const cpu = await createModel(net, { backend: 'cpu', init: 'glorot', seed });
  const theta = await cpu.readParameters();
  // Round θ to float32 so both backends start from the same point.
  const theta32 = Float64Array.from(Float32Array.from(theta));
  cpu.setParameters(theta32);
  const gpuModel = await createModel(net, { backend: 'webgpu', device: ctx.device, parameters: theta32, ...extra });
  try {
    const a = await cpu.cost(X, Y);
    const b = await gpuModel.cost(X, Y);
    expect(b.parts.data + b.parts.weightDecay + b.parts.sparsity + b.parts.l1).toBeCloseTo(b.cost, 5);
    for (const part of ['data', 'weightDecay', 'sparsity', 'l1'] as const) {
      expect(Math.abs(b.parts[part] - a.parts[part]) / (1e-12 + Math.abs(a.cost)), part).toBeLessThan(COST_TOL);
    }
    a.rhoHat.forEach((r, k) => expect(relNormDiff(b.rhoHat[k]!, r), `rhoHat ${k}`).toBeLessThan(1e-5));
    return { gradDiff: relNormDiff(b.grad!, a.grad!), costDiff: Math.abs(b.cost - a.cost) / Math.abs(a.cost) };
  } finally {
    gpuModel.dispose();
  }
}

const HIDDEN_ACTIVATIONS = ['sigmoid', 'tanh', 'identity', 'relu', 'prelu', 'elu', 'softplus', 'softsign', 'hardtanh'] as const;

describe('GPU cost and gradient equal the CPU reference', () => {
  for (const act of HIDDEN_ACTIVATIONS) {
    it(`hidden ${act}, squared error, weight decay`, async () => {
      const r = await compare({ layers: [7, 9, 5], activation: [act, 'sigmoid'], loss: 'squared', lambda: 1e-3 }, 13, 1);
      expect(r.gradDiff).toBeLessThan(GRAD_TOL);
      expect(r.costDiff).toBeLessThan(COST_TOL);
    });
  }

  it('every activation on the output layer with squared error', async () => {
    for (const act of HIDDEN_ACTIVATIONS) {
      const r = await compare({ layers: [6, 5, 4], activation: ['tanh', act], loss: 'squared' }, 9, 2);
      expect(r.gradDiff, act).toBeLessThan(GRAD_TOL);
      expect(r.costDiff, act).toBeLessThan(COST_TOL);
    }
  });

  it('binary cross-entropy (sigmoid output), 2 hidden layers', async () => {
    const r = await compare({ layers: [8, 6, 7, 3], activation: ['relu', 'tanh', 'sigmoid'], loss: 'cross-entropy', lambda: 1e-2 }, 17, 3);
    expect(r.gradDiff).toBeLessThan(GRAD_TOL);
    expect(r.costDiff).toBeLessThan(COST_TOL);
  });

  it('softmax cross-entropy, 3 hidden layers', async () => {
    const r = await compare({ layers: [10, 9, 8, 7, 4], activation: ['elu', 'softplus', 'sigmoid', 'softmax'], loss: 'softmax-cross-entropy', lambda: 3e-3 }, 21, 4);
    expect(r.gradDiff).toBeLessThan(GRAD_TOL);
    expect(r.costDiff).toBeLessThan(COST_TOL);
  });

  it('sparse autoencoder 64-25-64 (ρ = 0.01, β = 3, λ = 1e-4), batch 20', async () => {
    const r = await compare({ layers: [64, 25, 64], activation: 'sigmoid', autoencoder: true, lambda: 1e-4, sparsity: { rho: 0.01, beta: 3 } }, 20, 1);
    expect(r.gradDiff).toBeLessThan(GRAD_TOL);
    expect(r.costDiff).toBeLessThan(COST_TOL);
  });

  it('KL sparsity on two hidden layers and L1 on another, batch 1', async () => {
    const spec: NetworkSpec = {
      layers: [5, 6, 7, 6, 5], activation: ['sigmoid', 'tanh', 'sigmoid', 'identity'], autoencoder: true, lambda: 1e-3,
      sparsity: { rho: 0.2, beta: 0.5, layers: [2, 4] }, l1: { weight: 0.1, layers: [3] },
    };
    for (const m of [1, 33]) {
      const r = await compare(spec, m, 5);
      expect(r.gradDiff, `m=${m}`).toBeLessThan(GRAD_TOL);
      expect(r.costDiff, `m=${m}`).toBeLessThan(COST_TOL);
    }
  });

  it('chunked evaluation (7 examples per chunk) accumulates exactly, ρ̂ over all chunks first', async () => {
    const spec: NetworkSpec = { layers: [9, 6, 9], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
    const r = await compare(spec, 30, 6, { maxChunkRows: 7 });
    expect(r.gradDiff).toBeLessThan(GRAD_TOL);
    expect(r.costDiff).toBeLessThan(COST_TOL);
    const s = await compare({ layers: [9, 6, 4], activation: ['tanh', 'softmax'], loss: 'softmax-cross-entropy' }, 30, 6, { maxChunkRows: 8 });
    expect(s.gradDiff).toBeLessThan(GRAD_TOL);
  });
});

describe('GPU inference', () => {
  it('predict and encode equal the CPU, for chunked data too', async () => {
    const ctx = await gpu();
    const net = resolveSpec({ layers: [6, 5, 4, 3], activation: ['tanh', 'relu', 'softmax'], loss: 'softmax-cross-entropy' });
    const cpu = await createModel(net, { backend: 'cpu', init: 'glorot', seed: 9 });
    const theta = Float64Array.from(Float32Array.from(await cpu.readParameters()));
    cpu.setParameters(theta);
    const g = await createModel(net, { backend: 'webgpu', device: ctx.device, parameters: theta, maxChunkRows: 4 });
    const X = data(new Rng(2), 11, 6, -1, 1);
    for (const layer of [2, 3, 4]) {
      const a = await cpu.encode(X, layer);
      const b = await g.encode(X, layer);
      expect([b.rows, b.cols]).toEqual([a.rows, a.cols]);
      expect(relNormDiff(b.data, a.data), `layer ${layer}`).toBeLessThan(1e-5);
    }
    const p = await g.predict(X);
    for (let i = 0; i < p.rows; i++) {
      let s = 0;
      for (let j = 0; j < p.cols; j++) s += p.data[i * p.cols + j]!;
      expect(s).toBeCloseTo(1, 5);
    }
    expect(relNormDiff(await g.readParameters(), theta)).toBe(0);
    g.dispose();
  });

  it('dispose returns the pool to its baseline, and a caller device survives', async () => {
    const ctx = await gpu();
    const spec: NetworkSpec = { layers: [8, 5, 8], activation: 'sigmoid', autoencoder: true, sparsity: { rho: 0.1, beta: 3 } };
    const X = data(new Rng(1), 10, 8);
    for (let cycle = 0; cycle < 3; cycle++) {
      const m = (await createModel(spec, { backend: 'webgpu', device: ctx.device, seed: cycle })) as GpuModel;
      const base = m.poolStats();
      for (let i = 0; i < 3; i++) await m.cost(X);
      const ds = m.upload(X);
      await m.evaluate(ds);
      m.release(ds);
      expect(m.poolStats().live, 'live buffers after cost/evaluate/release').toBe(base.live);
      expect(m.poolStats().liveBytes).toBe(base.liveBytes);
      m.dispose();
      expect(m.poolStats()).toEqual({ live: 0, liveBytes: 0, pooled: 0 });
    }
    expect(ctx.lost).toBeNull();
  });
});
