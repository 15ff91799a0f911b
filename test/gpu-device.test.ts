// The WebGPU device: a smoke test on the adapter set-up provides, compile errors
// with line numbers, device loss as a typed error, and a caller's device left alone.
import { describe, expect, it } from 'vitest';
import { acquireDevice, adapterLabel, DeviceLostError, GpuError } from '../src/gpu/device.js';
import { PipelineCache } from '../src/gpu/shaders.js';
import { createModel } from '../src/model.js';
import { gpu } from './helpers/gpu.js';

describe('WebGPU device', () => {
  it('runs a compute shader on the adapter and reads every element back', async () => {
    const ctx = await gpu();
    expect(adapterLabel(ctx.adapter).length).toBeGreaterThan(0);
    expect(ctx.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    const { device } = ctx;
    const n = 1000;
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
        if (g.x < ${n}u) { v[g.x] = f32(g.x) * 2.0 + 1.0; }
      }`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const buf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, new Float32Array(n).fill(NaN));
    const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    enc.copyBufferToBuffer(buf, 0, read, 0, n * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    for (let i = 0; i < n; i++) expect(out[i], `element ${i}`).toBe(2 * i + 1);
    buf.destroy();
    read.destroy();
  });

  it('reports WGSL compile errors with line numbers', async () => {
    const ctx = await gpu();
    const cache = new PipelineCache(ctx.device);
    // A template value that breaks the activation shader.
    const bad = cache.get(['activation'], { ACT: 0, ALPHA: 'nonsense', HIDDEN_DELTA: true, NEEDS_Z: false, SPARSE: false, BIAS_SUM: false }, 'hidden_delta');
    await expect(bad).rejects.toThrow(GpuError);
    await expect(bad).rejects.toThrow(/failed to compile[\s\S]*line \d+/);
  });

  it('device loss surfaces as DeviceLostError, nothing hangs', async () => {
    const ctx = await acquireDevice();
    const model = await createModel({ layers: [3, 2, 3], activation: 'sigmoid', autoencoder: true }, { backend: 'webgpu', device: ctx.device });
    ctx.device.destroy();
    await ctx.device.lost;
    const X = { rows: 2, cols: 3, data: new Float64Array(6) };
    await expect(model.cost(X)).rejects.toThrow(DeviceLostError);
  });
});

describe('errors on a caller device belong to the caller', () => {
  it("an app's own validation error does not surface as an engine error; on the engine's own device it does", async () => {
    const appCtx = await acquireDevice();
    const device = appCtx.device;
    const model = await createModel({ layers: [3, 2, 3], activation: 'sigmoid', autoencoder: true }, { backend: 'webgpu', device });
    // The app's mistake: MAP_READ may only be combined with COPY_DST.
    device.pushErrorScope('validation');
    device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    expect(await device.popErrorScope()).not.toBeNull();
    device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE }); // uncaptured
    await device.queue.onSubmittedWorkDone();
    const X = { rows: 2, cols: 3, data: new Float64Array(6).fill(0.5) };
    await expect(model.cost(X)).resolves.toHaveProperty('cost');
    model.dispose();
    // The context acquireDevice made owns its device: an uncaptured error there is reported.
    device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 50));
    expect(() => appCtx.check()).toThrow(GpuError);
    appCtx.destroy();
  });
});
