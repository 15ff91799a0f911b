// `wgnn bench lbfgs|cg|adam` on a tiny problem, and the GPU's deferred cost
// readings and one-readback evaluations (issue 12). No timing assertions.
import { describe, expect, it } from 'vitest';
import { benchOptimizer, formatBenchTable, syntheticPatches, UFLDL_NETWORK } from '../src/bench/index.js';
import { createGpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { initParameters } from '../src/params.js';
import { resolveSpec } from '../src/spec.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';
import { adam } from '../src/optim/sgd.js';
import type { CostReading } from '../src/optim/types.js';
import { gpu } from './helpers/gpu.js';

describe('bench lbfgs|cg|adam', () => {
  it('L-BFGS: about one readback per iteration, submits and dispatches counted, a run per latency', async () => {
    const ctx = await gpu();
    const r = await benchOptimizer(ctx, { method: 'lbfgs', patches: 100, iterations: 3, latencies: [0, 3] });
    expect(r.bench).toBe('optimizer');
    expect(r.runs.map((x) => x.latencyMs)).toEqual([0, 3]);
    for (const x of r.runs) {
      expect(x.iterations).toBe(3);
      // One per evaluation (the start's holds J and ‖∇J‖², each trial's J and its dots), plus ‖∇J‖₁ once.
      expect(x.readbacksPerIteration).toBeCloseTo((x.evaluations + 1) / 3, 10);
      expect(x.submitsPerIteration).toBeGreaterThan(0);
      expect(x.dispatchesPerIteration).toBeGreaterThan(10);
    }
    // The same path whatever the latency.
    expect(r.runs[1]!.finalCost).toBe(r.runs[0]!.finalCost);
    expect(r.slowdown).toHaveLength(1);
    expect(formatBenchTable(r)).toContain('readbacks / iteration');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    ctx.check();
  });

  it('Adam: one reading per costEvery steps, never waited for', async () => {
    const ctx = await gpu();
    const r = await benchOptimizer(ctx, { method: 'adam', patches: 100, iterations: 10, batchSize: 20, costEvery: 5, latencies: [3] });
    expect(r.runs[0]!.readbacksPerIteration).toBe(0.2);
    expect(r.config).toMatchObject({ costEvery: 5, costsInFlight: 4, batchSize: 20 });
  });

  it('rejects bad settings with the value named', async () => {
    const ctx = await gpu();
    await expect(benchOptimizer(ctx, { method: 'cg', iterations: 0 })).rejects.toThrow(/iterations must be a positive integer, got 0/);
    await expect(benchOptimizer(ctx, { method: 'cg', latencies: [-1] })).rejects.toThrow(/latencies .* got -1/);
  });

  it('synthetic patches are seeded and lie in [0.1, 0.9]', () => {
    const a = syntheticPatches(50, 3);
    expect(Array.from(syntheticPatches(50, 3).data)).toEqual(Array.from(a.data));
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(0.1 - 1e-12);
    expect(Math.max(...a.data)).toBeLessThanOrEqual(0.9 + 1e-12);
  });
});

describe('GPU cost readings in flight', () => {
  it('Adam with readings in flight: the same θ as waiting for each, and costs that follow the CPU reference', async () => {
    const ctx = await gpu();
    const net = resolveSpec(UFLDL_NETWORK);
    const X = syntheticPatches(60, 5); // 5 batches of 12
    const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 2 })));
    const base = { learningRate: 0.01, batchSize: 12, epochs: 2, costEvery: 2, seed: 3 };
    const runGpu = async (inFlight: number): Promise<{ theta: Float64Array; costs: number[] }> => {
      const model = await createGpuModel(net, theta0, ctx.device, { readbackLatencyMs: 2 });
      const obj = new GpuObjective(model, X);
      const costs: number[] = [];
      try {
        await adam(obj, { ...base, costsInFlight: inFlight, onCost: (r: CostReading) => void costs.push(r.cost), onIteration: (i) => void (i.cost !== null && costs.push(i.cost)) });
        return { theta: await obj.ops.read(obj.theta), costs };
      } finally {
        obj.dispose();
        model.dispose();
      }
    };
    const [waited, pipelined] = [await runGpu(0), await runGpu(3)];
    expect(Array.from(pipelined.theta)).toEqual(Array.from(waited.theta));
    expect(pipelined.costs).toEqual(waited.costs);
    const cpu = cpuNetworkObjective(net, theta0, X);
    const cpuCosts: number[] = [];
    await adam(cpu, { ...base, onIteration: (i) => void (i.cost !== null && cpuCosts.push(i.cost)) });
    expect(cpuCosts).toHaveLength(5); // 5 batches × 2 epochs, a reading every 2 steps
    pipelined.costs.forEach((c, k) => expect(Math.abs(c - cpuCosts[k]!) / cpuCosts[k]!, `reading ${k}`).toBeLessThan(1e-3));
  });

  it('evaluateDots: J, the operations after the evaluation and the dots in one submit and ONE readback, as on the CPU', async () => {
    const ctx = await gpu();
    const net = resolveSpec(UFLDL_NETWORK);
    const X = syntheticPatches(37, 6);
    const theta0 = Float64Array.from(Float32Array.from(initParameters(net, { seed: 4 })));
    const model = await createGpuModel(net, theta0, ctx.device);
    const obj = new GpuObjective(model, X);
    try {
      const cpu = cpuNetworkObjective(net, theta0, X);
      const [y, yc] = [obj.ops.alloc(), cpu.ops.alloc()];
      obj.ops.write(y, new Array(obj.ops.n).fill(NaN)); // poisoned: `after` must overwrite it
      const reads0 = model.kernels.pool.readbacks;
      const g = await obj.evaluateDots([[obj.grad, obj.grad], [obj.grad, y], [y, obj.theta]], { after: () => (obj.ops.copy(obj.grad, y), obj.ops.scale(-3, y)) });
      expect(model.kernels.pool.readbacks - reads0).toBe(1);
      cpu.ops.fill(0, yc);
      const c = await cpu.evaluateDots!([[cpu.grad, cpu.grad], [cpu.grad, yc], [yc, cpu.theta]], { after: () => (cpu.ops.copy(cpu.grad, yc), cpu.ops.scale(-3, yc)) });
      expect(Math.abs(g.cost! - c.cost!) / c.cost!).toBeLessThan(1e-5);
      Array.from(c.dots).forEach((v, k) => expect(Math.abs(g.dots[k]! - v) / (Math.abs(v) + 1e-6), `dot ${k}`).toBeLessThan(1e-4));
      expect(Math.abs(g.dots[1]! + 3 * g.dots[0]!) / g.dots[0]!).toBeLessThan(1e-5);
    } finally {
      obj.dispose();
      model.dispose();
    }
  });
});
