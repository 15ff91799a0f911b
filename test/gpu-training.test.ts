// Optimizers on GPU vectors against the same optimizers on CPU vectors.
import { describe, expect, it } from 'vitest';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { initParameters } from '../src/params.js';
import { Rng } from '../src/prng.js';
import { resolveSpec } from '../src/spec.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import { optimize, type OptimizerOptions } from '../src/optim/optimize.js';
import type { IterationInfo } from '../src/optim/types.js';
import { gpu, relNormDiff } from './helpers/gpu.js';

const net = resolveSpec({ layers: [12, 5, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } });

function data(m: number): { rows: number; cols: number; data: Float64Array } {
  const rng = new Rng(7);
  return { rows: m, cols: 12, data: Float64Array.from({ length: m * 12 }, () => rng.uniform()) };
}

async function run(backend: 'cpu' | 'webgpu', options: OptimizerOptions, m = 40, rhoHatDecay = 0): Promise<{ costs: (number | null)[]; theta: Float64Array; readbacks: number }> {
  const X = data(m);
  // θ rounded to float32 so both start from the same point.
  const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 3 })));
  const costs: (number | null)[] = [];
  const onIteration = (i: IterationInfo): void => void costs.push(i.cost);
  if (backend === 'cpu') {
    const obj = cpuNetworkObjective(net, theta0, X, undefined, { rhoHatDecay });
    await optimize(obj, { ...options, onIteration });
    return { costs, theta: await obj.ops.read(obj.theta), readbacks: 0 };
  }
  const ctx = await gpu();
  const model = await createGpuModel(net, theta0, ctx.device);
  const obj = new GpuObjective(model, X, undefined, { rhoHatDecay });
  try {
    await optimize(obj, { ...options, onIteration });
    const readbacks = obj.readbacks;
    return { costs, theta: await obj.ops.read(obj.theta), readbacks };
  } finally {
    obj.dispose();
    model.dispose();
  }
}

describe('optimizers on the GPU follow the CPU path', () => {
  it('L-BFGS: the first iterations agree within float32 tolerance', async () => {
    const opts: OptimizerOptions = { method: 'lbfgs', maxIterations: 6 };
    const [a, b] = [await run('cpu', opts), await run('webgpu', opts)];
    expect(b.costs.length).toBe(a.costs.length);
    a.costs.forEach((c, i) => expect(Math.abs(b.costs[i]! - c!) / c!, `iteration ${i + 1}`).toBeLessThan(1e-4));
    expect(relNormDiff(b.theta, a.theta)).toBeLessThan(1e-3);
    expect(b.readbacks).toBeGreaterThan(0);
  });

  it('CG: the first iterations agree', async () => {
    // CG's stricter line search (c2 = 0.2) can branch differently on float32
    // rounding after a few iterations; the first three must match.
    const opts: OptimizerOptions = { method: 'cg', maxIterations: 3 };
    const [a, b] = [await run('cpu', opts), await run('webgpu', opts)];
    a.costs.forEach((c, i) => expect(Math.abs(b.costs[i]! - c!) / c!, `iteration ${i + 1}`).toBeLessThan(1e-4));
  });

  it('mini-batch Adam with momentum-free batches: same θ after two epochs, no readbacks', async () => {
    const opts: OptimizerOptions = { method: 'adam', learningRate: 0.01, batchSize: 7, epochs: 2, seed: 5 };
    const [a, b] = [await run('cpu', opts), await run('webgpu', opts)];
    expect(relNormDiff(b.theta, a.theta)).toBeLessThan(1e-4);
    expect(b.readbacks).toBe(0);
  });

  it('mini-batch SGD with Nesterov momentum: same θ', async () => {
    const opts: OptimizerOptions = { method: 'momentum', learningRate: 0.05, momentum: 0.9, nesterov: true, batchSize: 9, epochs: 2, seed: 2 };
    const [a, b] = [await run('cpu', opts), await run('webgpu', opts)];
    expect(relNormDiff(b.theta, a.theta)).toBeLessThan(1e-4);
  });

  it('a running ρ̂ estimate over mini-batches: GPU equals CPU, and differs from per-batch ρ̂', async () => {
    const opts: OptimizerOptions = { method: 'adam', learningRate: 0.02, batchSize: 6, epochs: 2, seed: 4, costEvery: 1 };
    const [a, b] = [await run('cpu', opts, 40, 0.9), await run('webgpu', opts, 40, 0.9)];
    expect(relNormDiff(b.theta, a.theta)).toBeLessThan(1e-4);
    a.costs.forEach((c, i) => expect(Math.abs(b.costs[i]! - c!) / c!, `iteration ${i + 1}`).toBeLessThan(1e-4));
    const perBatch = await run('cpu', opts, 40, 0);
    expect(relNormDiff(perBatch.theta, a.theta)).toBeGreaterThan(1e-6);
  });
});
