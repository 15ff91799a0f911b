// A WebGPU app's own GPUDevice (issue 6 §4): the engine uses it as is, exposes
// θ and ρ̂ as GPU buffers with their layout (an app can copy or bind them on its
// own device), and dispose() destroys every buffer it created while the
// device stays the caller's and usable.
import { describe, expect, it } from 'vitest';
import { acquireDevice } from '../src/gpu/device.js';
import type { GpuModel } from '../src/gpu/model.js';
import { GpuObjective } from '../src/gpu/objective.js';
import { createModel } from '../src/model.js';
import { Rng } from '../src/prng.js';
import type { NetworkSpec } from '../src/spec.js';
import type { Matrix } from '../src/matrix.js';
import { optimize } from '../src/optim/index.js';
import { cpuNetworkObjective } from '../src/cpu/objective.js';

/** Counts the buffers created on `device` from now on that are not destroyed yet. */
function trackBuffers(device: GPUDevice): { alive(): number; created(): number } {
  const alive = new Set<GPUBuffer>();
  let created = 0;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    const b = create(desc);
    created++;
    alive.add(b);
    const destroy = b.destroy.bind(b);
    b.destroy = () => {
      alive.delete(b);
      destroy();
    };
    return b;
  };
  return { alive: () => alive.size, created: () => created };
}

/** The app's own readback: copies `bytes` of `src` into a MAP_READ buffer it owns. */
async function appRead(device: GPUDevice, src: GPUBuffer, offset: number, count: number): Promise<Float32Array> {
  const dst = device.createBuffer({ size: count * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, offset * 4, dst, 0, count * 4);
  device.queue.submit([enc.finish()]);
  await dst.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(dst.getMappedRange().slice(0));
  dst.unmap();
  dst.destroy();
  return out;
}

describe('a caller-provided GPUDevice', () => {
  it('trains on it, exposes θ and ρ̂ with their layout, and dispose() destroys every buffer it created', async () => {
    const own = await acquireDevice();
    const device = own.device;
    try {
      const spec: NetworkSpec = { layers: [12, 6, 12], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };
      const rng = new Rng(3);
      const X: Matrix = { rows: 20, cols: 12, data: Float32Array.from({ length: 240 }, () => rng.uniform()) };
      const tracked = trackBuffers(device);

      const model = (await createModel(spec, { backend: 'webgpu', device, seed: 5 })) as GpuModel;
      const cpu = await createModel(spec, { backend: 'cpu', seed: 5 });
      expect(model.ctx.owned).toBe(false);

      // One gradient-descent step on the GPU and on the float64 reference.
      const objective = new GpuObjective(model, X);
      await optimize(objective, { method: 'gd', learningRate: 0.5, iterations: 1 });
      objective.dispose();
      const reference = cpuNetworkObjective(cpu.network, await cpu.readParameters(), X);
      await optimize(reference, { method: 'gd', learningRate: 0.5, iterations: 1 });
      cpu.setParameters(reference.theta);
      const gpuCost = (await model.cost(X, undefined, { gradient: false })).cost;
      const cpuCost = (await cpu.cost(X, undefined, { gradient: false })).cost;
      expect(Number.isFinite(gpuCost)).toBe(true);
      expect(Math.abs(gpuCost - cpuCost) / cpuCost).toBeLessThan(1e-4);

      // θ's buffer in params.ts order: W(1) of the first layer, read by the app itself.
      const slot = model.layout.slots[0]!;
      expect(model.thetaBuffer.size).toBeGreaterThanOrEqual(model.layout.size * 4);
      const W1 = await appRead(device, model.thetaBuffer, slot.w, slot.nOut * slot.nIn);
      const theta = await model.readParameters();
      for (let i = 0; i < W1.length; i++) expect(W1[i]).toBe(Math.fround(theta[slot.w + i]!));
      // ρ̂ of the hidden layer at rhoOffsets[0], as the last evaluation left it.
      const rhoHat = await appRead(device, model.rhoHatBuffer, model.rhoOffsets[0]!, 6);
      const expected = (await cpu.cost(X, undefined, { gradient: false })).rhoHat[0]!;
      for (let j = 0; j < 6; j++) expect(rhoHat[j]).toBeCloseTo(expected[j]!, 5);

      expect(tracked.alive()).toBeGreaterThan(0);
      model.dispose();
      cpu.dispose();
      expect(tracked.created()).toBeGreaterThan(0);
      expect(tracked.alive(), 'buffers created by the engine and not destroyed by dispose()').toBe(0);

      // The device is still the caller's: not lost, and it still runs work.
      const probe = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(probe, 0, Float32Array.of(1, 2, 3, 4));
      expect(Array.from(await appRead(device, probe, 0, 4))).toEqual([1, 2, 3, 4]);
      probe.destroy();
      expect(model.ctx.lost).toBeNull();
      // A second model on the same device after the first one's dispose().
      const again = await createModel(spec, { backend: 'webgpu', device, seed: 5 });
      expect(Number.isFinite((await again.cost(X)).cost)).toBe(true);
      again.dispose();
      expect(tracked.alive()).toBe(0);
    } finally {
      own.destroy();
    }
  });
});
