// GPU inference (predict, encode, chunked) against the CPU, and the buffer pool
// after dispose. Whole-network cost and gradient parity: test/gpu-parity.test.ts.
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import { type Matrix } from '../src/matrix.js';
import type { GpuModel } from '../src/gpu/model.js';
import { gpu, randomArray, relNormDiff } from './helpers/gpu.js';

function data(rng: Rng, rows: number, cols: number, lo = 0, hi = 1): Matrix {
  return { rows, cols, data: randomArray(rng, rows * cols, lo, hi) };
}

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
