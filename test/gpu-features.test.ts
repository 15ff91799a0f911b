// Features passed between models on the GPU (stacked autoencoders): encodeDataset
// against the CPU forward pass, and a second model trained on them without readback.
import { describe, expect, it } from 'vitest';
import { cpuCost, cpuForward } from '../src/cpu/network.js';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { oneHot } from '../src/data/labels.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { type Matrix } from '../src/matrix.js';
import { gpu, maxRelErr } from './helpers/gpu.js';

const ae = resolveSpec({ layers: [19, 7, 19], activation: 'sigmoid', autoencoder: true, lambda: 1e-3 });
const softmax = resolveSpec({ layers: [7, 3], activation: 'softmax', loss: 'softmax-cross-entropy', lambda: 1e-4 });
const f32 = (a: Float64Array): Float64Array => Float64Array.from(Float32Array.from(a));

function examples(m: number): { X: Matrix; labels: Uint8Array } {
  const rng = new Rng(11);
  const X = { rows: m, cols: 19, data: Float64Array.from({ length: m * 19 }, () => rng.uniform()) };
  return { X, labels: Uint8Array.from({ length: m }, () => rng.int(3)) };
}

describe('GpuModel.encodeDataset', () => {
  it('hands hidden features to a second model on the GPU (chunked data, targets attached)', async () => {
    const ctx = await gpu();
    const { X, labels } = examples(33);
    const Y = oneHot(labels, 3);
    const theta1 = f32(initParameters(ae, { seed: 2 }));
    const theta2 = f32(initParameters(softmax, { seed: 3 }));
    const first = await createGpuModel(ae, theta1, ctx.device, { maxChunkRows: 10 });
    const second = await createGpuModel(softmax, theta2, ctx.device);
    const before = first.poolStats();
    const ds = first.upload(X);
    const features = await first.encodeDataset(ds, 2, { targets: Y });
    expect(features.rows).toBe(33);
    expect(features.cols).toBe(7);
    expect(features.chunks.map((c) => c.rows)).toEqual([10, 10, 10, 3]);

    // The CPU reference of the same two stages.
    const H = { rows: 33, cols: 7, data: cpuForward(ae, theta1, X).A[0]! };
    const want = cpuCost(softmax, theta2, H, Y, { gradient: true });
    const obj = new GpuObjective(second, features);
    const cost = await obj.evaluate({ cost: true });
    const grad = await second.readGradient();
    expect(Math.abs(cost! - want.cost) / want.cost).toBeLessThan(1e-5);
    expect(maxRelErr(grad, want.grad!)).toBeLessThan(1e-4);
    obj.dispose();
    // The features are still the first model's: the objective did not free them.
    expect(features.chunks.length).toBe(4);
    first.release(features);
    first.release(ds);
    expect(first.poolStats().live).toBe(before.live);
    expect(first.poolStats().liveBytes).toBe(before.liveBytes);
    first.dispose();
    second.dispose();
  });

  it('rejects a data set of the wrong width', async () => {
    const ctx = await gpu();
    const model = await createGpuModel(ae, initParameters(ae, { seed: 1 }), ctx.device);
    const other = await createGpuModel(softmax, initParameters(softmax, { seed: 1 }), ctx.device);
    const ds = model.upload(examples(5).X);
    expect(() => new GpuObjective(other, ds)).toThrow(/19 features per example but the input layer has 7/);
    await expect(other.encodeDataset(ds)).rejects.toThrow(/19 features/);
    model.dispose();
    other.dispose();
  });
});
