// Mini-batches gathered from a data set split over several storage buffers
// (issue 12 §3): the per-chunk gather kernel against a float64 loop (awkward
// sizes, output poisoned), and mini-batch training over a multi-buffer data set
// giving bitwise the θ of the one-buffer data set.
import { describe, expect, it } from 'vitest';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec, type NetworkSpec } from '../src/spec.js';
import { optimize, type OptimizerOptions } from '../src/optim/optimize.js';
import { gpu, harness, randomArray, uploadPermutation } from './helpers/gpu.js';

describe('gather from several chunks', () => {
  it('each chunk writes exactly the batch rows it holds; together they give the gathered batch', async () => {
    const h = await harness();
    const rng = new Rng(11);
    for (const [m, cols, chunk, start, rows] of [[1, 1, 1, 0, 1], [23, 5, 7, 3, 11], [40, 33, 9, 0, 40], [100, 3, 64, 17, 83]] as const) {
      const X = randomArray(rng, m * cols);
      const { perm, order } = uploadPermutation(h, rng, m);
      const dst = h.poisoned(rows * cols);
      const list = [];
      for (let lo = 0; lo < m; lo += chunk) {
        const count = Math.min(chunk, m - lo);
        const src = h.upload(X.subarray(lo * cols, (lo + count) * cols));
        list.push(await h.kernels.gather({ rows, cols, start, src, order, dst, lo, count }));
      }
      // One chunk alone leaves the other rows poisoned.
      const only = h.poisoned(rows * cols);
      const first = Math.min(chunk, m);
      await h.run([await h.kernels.gather({ rows, cols, start, src: h.upload(X.subarray(0, first * cols)), order, dst: only, lo: 0, count: first })]);
      await h.run(list);
      const got = await h.read(dst, rows * cols);
      const gotOnly = await h.read(only, rows * cols);
      for (let r = 0; r < rows; r++) {
        const e = perm[start + r]!;
        for (let c = 0; c < cols; c++) {
          const want = Math.fround(X[e * cols + c]!);
          expect(got[r * cols + c], `${m}×${cols} chunk ${chunk} row ${r}`).toBe(want);
          if (e < first) expect(gotOnly[r * cols + c]).toBe(want);
          else expect(gotOnly[r * cols + c]).toBeNaN();
        }
      }
    }
  });
});

async function trainTheta(spec: NetworkSpec, m: number, options: OptimizerOptions, maxChunkRows?: number, maxDataBytes?: number, maxBindingBytes?: number, rhoHatDecay?: number): Promise<{ theta: Float64Array; chunks: number; streaming: boolean; costs: (number | null)[] }> {
  const net = resolveSpec(spec);
  const rng = new Rng(7);
  const n1 = net.layers[0]!;
  const nL = net.layers[net.layers.length - 1]!;
  const X = { rows: m, cols: n1, data: Float64Array.from({ length: m * n1 }, () => rng.uniform()) };
  const Y = net.autoencoder ? undefined : { rows: m, cols: nL, data: Float64Array.from({ length: m * nL }, () => rng.uniform()) };
  const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 3 })));
  const ctx = await gpu();
  const model = await createGpuModel(net, theta0, ctx.device, { maxChunkRows, maxBindingBytes, gemmVariant: 'unrolled-4x4' });
  const streamed = maxDataBytes !== undefined;
  const data = streamed ? null : model.upload(X, Y);
  const obj = streamed ? new GpuObjective(model, X, Y, { maxDataBytes, rhoHatDecay }) : new GpuObjective(model, data!, undefined, { rhoHatDecay });
  const costs: (number | null)[] = [];
  try {
    await optimize(obj, { ...options, onIteration: (i) => void costs.push(i.cost) });
    return { theta: await obj.ops.read(obj.theta), chunks: data?.chunks.length ?? 0, streaming: obj.streaming, costs };
  } finally {
    obj.dispose();
    if (data) model.release(data);
    model.dispose();
  }
}

describe('mini-batch training over a data set in several buffers', () => {
  const sparseAe: NetworkSpec = { layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
  const regression: NetworkSpec = { layers: [6, 4, 3], activation: ['tanh', 'identity'], lambda: 1e-3 };

  it('Adam: bitwise the same θ as over one buffer (autoencoder)', async () => {
    const opts: OptimizerOptions = { method: 'adam', learningRate: 0.01, batchSize: 7, epochs: 2, seed: 5 };
    const one = await trainTheta(sparseAe, 40, opts);
    const many = await trainTheta(sparseAe, 40, opts, 6);
    expect(one.chunks).toBe(1);
    expect(many.chunks).toBe(7);
    expect(Array.from(many.theta)).toEqual(Array.from(one.theta));
  });

  it('Adam: bitwise the same θ with targets in several buffers too (regression)', async () => {
    const opts: OptimizerOptions = { method: 'adam', learningRate: 0.02, batchSize: 5, epochs: 2, seed: 9 };
    const one = await trainTheta(regression, 23, opts);
    const many = await trainTheta(regression, 23, opts, 4);
    expect(many.chunks).toBe(6);
    expect(Array.from(many.theta)).toEqual(Array.from(one.theta));
    // The binding limit capped (θ's 43 floats must still fit one binding): 200 bytes hold 8 rows of the widest layer (6).
    const capped = await trainTheta(regression, 23, opts, undefined, undefined, 200);
    expect(capped.chunks).toBe(3);
    expect(Array.from(capped.theta)).toEqual(Array.from(one.theta));
  });
});

describe('a training set over maxDataBytes streams from host memory', () => {
  const sparseAe: NetworkSpec = { layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
  const regression: NetworkSpec = { layers: [6, 4, 3], activation: ['tanh', 'identity'], lambda: 1e-3 };

  it('Adam with cost readings: bitwise the resident θ and costs (autoencoder, last batch short)', async () => {
    const opts: OptimizerOptions = { method: 'adam', learningRate: 0.01, batchSize: 7, epochs: 3, seed: 5, costEvery: 2 };
    const resident = await trainTheta(sparseAe, 40, opts);
    const streamed = await trainTheta(sparseAe, 40, opts, undefined, 1000);
    expect(resident.streaming).toBe(false);
    expect(streamed.streaming).toBe(true);
    expect(Array.from(streamed.theta)).toEqual(Array.from(resident.theta));
    expect(streamed.costs).toEqual(resident.costs);
  });

  it('a running ρ̂ estimate across the two stream buffers: bitwise the resident θ and costs', async () => {
    const opts: OptimizerOptions = { method: 'adam', learningRate: 0.02, batchSize: 6, epochs: 2, seed: 4, costEvery: 1 };
    const resident = await trainTheta(sparseAe, 40, opts, undefined, undefined, undefined, 0.9);
    const streamed = await trainTheta(sparseAe, 40, opts, undefined, 1000, undefined, 0.9);
    const perBatch = await trainTheta(sparseAe, 40, opts, undefined, 1000);
    expect(Array.from(streamed.theta)).toEqual(Array.from(resident.theta));
    expect(streamed.costs).toEqual(resident.costs);
    expect(Array.from(perBatch.theta)).not.toEqual(Array.from(resident.theta));
  });

  it('momentum SGD with targets: bitwise the resident θ (regression)', async () => {
    const opts: OptimizerOptions = { method: 'momentum', learningRate: 0.05, momentum: 0.9, batchSize: 5, epochs: 2, seed: 9 };
    const resident = await trainTheta(regression, 23, opts, 4);
    const streamed = await trainTheta(regression, 23, opts, undefined, 1);
    expect(Array.from(streamed.theta)).toEqual(Array.from(resident.theta));
  });

  it('a full-batch evaluation of a streamed set uploads it in chunks of at most the cap: bitwise J, ∇J and dots of the resident set chunked alike; a bad cap is refused', async () => {
    const net = resolveSpec(sparseAe);
    const ctx = await gpu();
    const theta = initParameters(net, { seed: 1 });
    const rng = new Rng(3);
    const X = { rows: 11, cols: 12, data: Float64Array.from({ length: 132 }, () => rng.uniform()) };
    // 100 bytes hold 2 examples (48 bytes each): 6 chunks, like the resident set of 2-row chunks.
    const resident = await createGpuModel(net, theta, ctx.device, { maxChunkRows: 2 });
    const streamed = await createGpuModel(net, theta, ctx.device);
    const a = new GpuObjective(resident, X);
    const b = new GpuObjective(streamed, X, undefined, { maxDataBytes: 100 });
    try {
      expect([a.streaming, b.streaming]).toEqual([false, true]);
      const got = [];
      for (const obj of [a, b]) {
        const cost = await obj.evaluate();
        const grad = await obj.ops.read(obj.grad);
        const { dots } = await obj.evaluateDots([[obj.grad, obj.grad], [obj.grad, obj.theta]]);
        got.push({ cost, grad: Array.from(grad), dots: Array.from(dots), full: (await obj.fullCost()).cost });
      }
      expect(got[1]).toEqual(got[0]);
      expect(got[0]!.cost).toBe(got[0]!.full);
      // The stream's buffers hold one chunk: 2 rows × 12 floats (a pool class of 256 bytes).
      expect(b.deviceEvaluations).toBe(2);
      expect(() => new GpuObjective(streamed, X, undefined, { maxDataBytes: 0 })).toThrow(/maxDataBytes must be a positive number/);
    } finally {
      a.dispose();
      b.dispose();
      resident.dispose();
      streamed.dispose();
    }
  });
});
