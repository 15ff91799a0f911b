// Models created and disposed one after another, each on its own
// engine-created device, leave none of the engine's resources behind: live
// GPU buffers, cached pipelines and devices all return to zero.
//
// Cycle count: a bare create/dispose cycle (device creation, θ upload) costs
// about 0.1–0.3 s on SwiftShader on the shared 2-core test machine, one with a
// cost evaluation (pipeline compilation) several seconds; 60 bare cycles and 2
// evaluated ones keep the test near 20 s. 200 cycles would take about a minute.
import { describe, expect, it } from 'vitest';
import { createModel } from '../src/model.js';
import { engineCounters } from '../src/gpu/counters.js';
import { SpecError } from '../src/spec.js';
import { matrix } from '../src/matrix.js';
import { GpuObjective } from '../src/gpu/objective.js';
import type { GpuModel } from '../src/gpu/model.js';
import { optimize } from '../src/optim/optimize.js';

const spec = { layers: [3, 2, 3], activation: 'sigmoid' as const, autoencoder: true, sparsity: { rho: 0.1, beta: 1 } };
const X = matrix(4, 3, Array.from({ length: 12 }, (_, i) => i / 12));

describe('engine counters', () => {
  it('create/dispose cycles on engine-created devices leave no buffers, pipelines or devices', async () => {
    expect(engineCounters()).toEqual({ buffers: 0, pipelines: 0, devices: 0 });
    for (let i = 0; i < 2; i++) {
      const m = await createModel(spec, { seed: i, gemmVariant: 'unrolled-8x4' });
      await m.cost(X);
      await m.predict(X);
      const during = engineCounters();
      expect(during.devices).toBe(1);
      expect(during.buffers).toBeGreaterThan(5);
      expect(during.pipelines).toBeGreaterThan(3);
      // Plain JS arrays are refused alike on both backends (bad-inputs.test.ts has the CPU's).
      await expect(m.cost({ rows: 4, cols: 3, data: Array.from(X.data) as never })).rejects.toThrow(/X\.data must be a Float64Array or Float32Array/);
      await expect(m.cost({ rows: 2.5, cols: 3, data: X.data })).rejects.toThrow(/X\.rows must be a non-negative integer, got the number 2\.5/);
      // optimize on a disposed objective says so.
      const objective = new GpuObjective(m as GpuModel, X);
      objective.dispose();
      await expect(optimize(objective, { method: 'gd', iterations: 1 })).rejects.toThrow(/objective has been disposed/);
      m.dispose();
      expect(engineCounters()).toEqual({ buffers: 0, pipelines: 0, devices: 0 });
      // A disposed model says so, on every method.
      await expect(m.cost(X)).rejects.toThrow(/disposed/);
      await expect(m.readParameters()).rejects.toThrow(SpecError);
    }
    for (let i = 0; i < 60; i++) {
      const m = await createModel(spec, { seed: i });
      expect(engineCounters().devices).toBe(1);
      m.dispose();
    }
    expect(engineCounters()).toEqual({ buffers: 0, pipelines: 0, devices: 0 });
  });

  it('a model refused for its size allocates nothing and leaves no device', async () => {
    await expect(createModel({ layers: [784, 200000, 784], activation: 'sigmoid' })).rejects.toThrow(/313,800,784 parameters, over the limit .* W1 \(layer 1 → 2, 200000 × 784/);
    await expect(createModel({ layers: [4, 2, 4], activation: 'sigmoid' }, { gemmVariant: 'fast' as never })).rejects.toThrow(/gemmVariant "fast" is not one of/);
    expect(engineCounters()).toEqual({ buffers: 0, pipelines: 0, devices: 0 });
  });
});
