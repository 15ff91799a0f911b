// Column sums (ρ̂ and ∇b of a step) on software adapters: the production colsum
// (16 × 16 workgroup, a tree with barriers) against a barrier-free one in which
// each invocation sums 4 columns as a vec4 down all rows.
//   npx vite-node bench/experiments/colsum-lab.ts [--shapes 256x784,256x200]
import { acquireDevice, adapterLabel } from '../../src/gpu/device.js';
import { BufferPool, readF32, STORAGE, writeF32 } from '../../src/gpu/buffers.js';
import { Kernels, recordDispatches, type Dispatch } from '../../src/gpu/kernels.js';
import { PipelineCache } from '../../src/gpu/shaders.js';
import { Rng } from '../../src/prng.js';

const VEC4_COLSUM = `
struct ColParams { rows: u32, cols: u32, offIn: u32, offOut: u32, scale: f32, beta: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> cp: ColParams;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
// Needs cols % 4 == 0 and offIn, offOut multiples of 4. One invocation per 4 columns, no barriers.
@compute @workgroup_size(16)
fn colsum4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c4 = gid.x;
  let n4 = cp.cols / 4u;
  if (c4 >= n4) { return; }
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  let base = cp.offIn / 4u + c4;
  var r = 0u;
  for (; r + 1u < cp.rows; r += 2u) {
    s0 += X[base + r * n4];
    s1 += X[base + (r + 1u) * n4];
  }
  if (r < cp.rows) { s0 += X[base + r * n4]; }
  let o = cp.offOut / 4u + c4;
  var v = cp.scale * (s0 + s1);
  if (cp.beta != 0.0) { v += cp.beta * out[o]; }
  out[o] = v;
}`;

const args = process.argv.slice(2);
const i = args.indexOf('--shapes');
const shapes = (i >= 0 ? args[i + 1]! : '256x784,256x200').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const ctx = await acquireDevice();
const device = ctx.device;
const pool = new BufferPool(device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
const kernels = new Kernels(ctx, pool, new PipelineCache(device));
console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
const module = device.createShaderModule({ code: VEC4_COLSUM });
const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'colsum4' } });

async function time(d: Dispatch | Dispatch[]): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    recordDispatches(pass, Array.isArray(d) ? d : [d]);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (r > 1) best = Math.min(best, performance.now() - t0);
  }
  return best;
}

for (const [rows, cols] of shapes) {
  const rng = new Rng(rows + cols);
  const x = Float32Array.from({ length: rows * cols }, () => rng.uniform());
  const X = pool.acquire(x.length * 4, STORAGE);
  writeF32(device, X, x);
  const out1 = pool.acquire(cols * 4, STORAGE);
  const out2 = pool.acquire(cols * 4, STORAGE);
  const partials = pool.acquire(64 * cols * 4, STORAGE);
  const prod = await kernels.colsum({ rows, cols, X: { buffer: X }, out: { buffer: out1 }, scale: 1 / rows, partials });
  const params = pool.acquire(32, 0x40 | 0x08);
  const u = new ArrayBuffer(32);
  new Uint32Array(u).set([rows, cols, 0, 0]);
  new Float32Array(u).set([1 / rows, 0], 4);
  device.queue.writeBuffer(params, 0, u);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [params, X, out2].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const mine: Dispatch = { pipeline, bindGroup, x: Math.ceil(cols / 4 / 16), y: 1, label: 'colsum4', params };
  const tProd = await time(prod);
  const tMine = await time(mine);
  const [a, b] = await readF32(device, pool, [{ buffer: out1, count: cols }, { buffer: out2, count: cols }]);
  let diff = 0;
  for (let j = 0; j < cols; j++) diff = Math.max(diff, Math.abs(a![j]! - b![j]!));
  console.log(`${rows}x${cols}: production colsum ${tProd.toFixed(2)} ms, barrier-free vec4 colsum ${tMine.toFixed(2)} ms (×${(tProd / tMine).toFixed(1)}), max |diff| ${diff.toExponential(1)}`);
}
ctx.destroy();
process.exit(0);
