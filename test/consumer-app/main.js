// A WebGPU app using webgpu-nn with its own GPUDevice: trains one gradient step,
// renders W(1) straight from the model's θ buffer with its own pipeline, checks
// that dispose() leaves the device usable. Built with Vite by test/consumer-app.test.ts,
// which reads the JSON report from window.__result (and #out).
import { createModel, GpuObjective, optimize, cpuNetworkObjective, Rng } from 'webgpu-nn';

const SPEC = { layers: [16, 8, 16], activation: 'sigmoid', autoencoder: true, lambda: 1e-3, sparsity: { rho: 0.1, beta: 3 } };

function report(r) {
  window.__result = r;
  document.getElementById('out').textContent = JSON.stringify(r, null, 1);
  console.log(`consumer-app ${JSON.stringify(r)}`);
}

/** The examples: 32 seeded rows of 16 values in [0, 1) (the test rebuilds them the same way). */
function examples() {
  const rng = new Rng(11);
  return { rows: 32, cols: 16, data: Float32Array.from({ length: 32 * 16 }, () => rng.uniform()) };
}

// Draws W(1) (nOut × nIn, row-major at layout.slots[0].w in θ) as a gray image,
// one texel per weight: gray = clamp(0.5 + w / (2 · scale)) (the README's shader).
const SHADER = /* wgsl */ `
struct View { offset: u32, cols: u32, scale: f32, pad: u32 }
@group(0) @binding(0) var<storage, read> theta: array<f32>;
@group(0) @binding(1) var<uniform> view: View;
@vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
  let p = array(vec2f(-1, -1), vec2f(3, -1), vec2f(-1, 3));
  return vec4f(p[i], 0, 1);
}
@fragment fn fs(@builtin(position) pos: vec4f) -> @location(0) vec4f {
  let g = clamp(0.5 + theta[view.offset + u32(pos.y) * view.cols + u32(pos.x)] / (2 * view.scale), 0, 1);
  return vec4f(g, g, g, 1);
}`;

async function renderWeights(device, model) {
  const slot = model.layout.slots[0];
  const [width, height, scale] = [slot.nIn, slot.nOut, 0.5];
  const texture = device.createTexture({ size: [width, height], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
  const uniform = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const u = new ArrayBuffer(16);
  new Uint32Array(u, 0, 2).set([slot.w, slot.nIn]);
  new Float32Array(u, 8, 1)[0] = scale;
  device.queue.writeBuffer(uniform, 0, u);
  const module = device.createShaderModule({ code: SHADER });
  const pipeline = device.createRenderPipeline({
    layout: 'auto',
    vertex: { module, entryPoint: 'vs' },
    fragment: { module, entryPoint: 'fs', targets: [{ format: 'rgba8unorm' }] },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: model.thetaBuffer } },
      { binding: 1, resource: { buffer: uniform } },
    ],
  });
  const bytesPerRow = 256; // ≥ width · 4, a multiple of 256
  const pixels = device.createBuffer({ size: bytesPerRow * height, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  const pass = enc.beginRenderPass({ colorAttachments: [{ view: texture.createView(), loadOp: 'clear', storeOp: 'store', clearValue: [1, 0, 0, 1] }] });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.draw(3);
  pass.end();
  enc.copyTextureToBuffer({ texture }, { buffer: pixels, bytesPerRow }, [width, height]);
  device.queue.submit([enc.finish()]);
  await pixels.mapAsync(GPUMapMode.READ);
  const raw = new Uint8Array(pixels.getMappedRange());
  // Compare with θ as the engine reads it back.
  const theta = await model.readParameters();
  let worst = 0;
  const gray = new Uint8ClampedArray(width * height * 4);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const w = theta[slot.w + r * width + c];
      const want = Math.round(255 * Math.min(1, Math.max(0, 0.5 + w / (2 * scale))));
      const got = raw[r * bytesPerRow + c * 4];
      worst = Math.max(worst, Math.abs(got - want));
      gray.set(raw.subarray(r * bytesPerRow + c * 4, r * bytesPerRow + c * 4 + 4), (r * width + c) * 4);
    }
  }
  pixels.unmap();
  [texture, uniform, pixels].forEach((x) => x.destroy());
  // Shown on the page, 6× larger.
  const canvas = document.getElementById('weights');
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  const tile = new OffscreenCanvas(width, height);
  tile.getContext('2d').putImageData(new ImageData(gray, width, height), 0, 0);
  ctx.drawImage(tile, 0, 0, width * 6, height * 6);
  return { width, height, maxPixelDiff: worst };
}

// The README's "Use it in your WebGPU app" drawing: the same pipeline into a WebGPU
// canvas in the preferred format; returns the first validation error, or null.
async function drawToCanvas(device, model) {
  device.pushErrorScope('validation');
  const slot = model.layout.slots[0];
  const module = device.createShaderModule({ code: SHADER });
  const view = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const v = new ArrayBuffer(16);
  new Uint32Array(v, 0, 2).set([slot.w, slot.nIn]);
  new Float32Array(v, 8, 1)[0] = 0.5;
  device.queue.writeBuffer(view, 0, v);
  const canvas = document.createElement('canvas');
  [canvas.width, canvas.height] = [slot.nIn, slot.nOut];
  document.body.append(canvas);
  const context = canvas.getContext('webgpu');
  const format = navigator.gpu.getPreferredCanvasFormat();
  context.configure({ device, format });
  const pipeline = device.createRenderPipeline({ layout: 'auto', vertex: { module, entryPoint: 'vs' }, fragment: { module, entryPoint: 'fs', targets: [{ format }] } });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: model.thetaBuffer } },
      { binding: 1, resource: { buffer: view } },
    ],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginRenderPass({ colorAttachments: [{ view: context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store' }] });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.draw(3);
  pass.end();
  device.queue.submit([encoder.finish()]);
  view.destroy();
  const error = await device.popErrorScope();
  return error ? error.message : null;
}

async function main() {
  if (!navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  let lost = null;
  device.lost.then((info) => (lost = info.reason ?? 'lost'));
  const X = examples();

  // The app's device, used as is; one full-batch gradient step with the library's optimizer.
  const model = await createModel(SPEC, { backend: 'webgpu', device, seed: 2 });
  const before = (await model.cost(X, undefined, { gradient: false })).cost;
  const objective = new GpuObjective(model, X);
  await optimize(objective, { method: 'gd', learningRate: 0.5, iterations: 1 });
  objective.dispose();
  const cost = (await model.cost(X, undefined, { gradient: false })).cost;
  const render = await renderWeights(device, model);
  const canvasError = await drawToCanvas(device, model);

  // The same step on the float64 CPU backend.
  const cpu = await createModel(SPEC, { backend: 'cpu', seed: 2 });
  const reference = cpuNetworkObjective(cpu.network, await cpu.readParameters(), X);
  await optimize(reference, { method: 'gd', learningRate: 0.5, iterations: 1 });
  cpu.setParameters(reference.theta);
  const cpuCost = (await cpu.cost(X, undefined, { gradient: false })).cost;

  model.dispose();
  // The device is still the app's: it runs work after the model is gone.
  const probe = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(probe, 0, Float32Array.of(1, 2, 3, 4));
  await probe.mapAsync(GPUMapMode.READ);
  const deviceUsable = new Float32Array(probe.getMappedRange()).join(',') === '1,2,3,4';
  probe.unmap();
  probe.destroy();
  await device.queue.onSubmittedWorkDone();
  report({ ok: true, before, cost, cpuCost, render, canvasError, deviceUsable, lost, adapter: adapter.info?.description ?? adapter.info?.architecture ?? '' });
}

main().catch((e) => report({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) }));
