// GPU time of the UFLDL network's five parts of J (data term at m = 10 000, weight
// decay of W1 and W2, KL sparsity, mean ρ̂) summed by Kernels.sums (sums.wgsl, 2
// dispatches) against one reduce.wgsl sum per term (10 dispatches): each list
// recorded 30 times in one submit, three rounds, seeded inputs.
//   npx vite-node bench/experiments/sums-vs-per-term.ts
import { acquireDevice } from '../../src/gpu/device.js';
import { BufferPool, STORAGE, writeF32 } from '../../src/gpu/buffers.js';
import { Kernels, recordDispatches, sumsPartials, SUM_GROUPS, type Dispatch, type SumTerm } from '../../src/gpu/kernels.js';
import { PipelineCache } from '../../src/gpu/shaders.js';
import { Rng } from '../../src/prng.js';

const ctx = await acquireDevice();
const pool = new BufferPool(ctx.device, ctx.limits.maxBufferSize, { maxBindingSize: ctx.limits.maxStorageBufferBindingSize });
const kernels = new Kernels(ctx, pool, new PipelineCache(ctx.device));
const rng = new Rng(1);
const upload = (n: number, lo: number, hi: number): GPUBuffer => {
  const b = pool.acquire(n * 4, STORAGE);
  writeF32(ctx.device, b, Float32Array.from({ length: n }, () => rng.range(lo, hi)));
  return b;
};
const m = 10000;
const A = upload(m * 64, 0, 1);
const X = upload(m * 64, 0, 1);
const theta = upload(3289, -0.5, 0.5);
const rhoHat = upload(25, 0.05, 0.15);
const terms: SumTerm[] = [
  { count: m * 64, map: 'halfSqDiff', x: { buffer: A }, y: { buffer: X }, slot: 0, scale: 1 / m },
  { count: 1600, map: 'square', x: { buffer: theta, offset: 0 }, slot: 1, scale: 5e-5 },
  { count: 1600, map: 'square', x: { buffer: theta, offset: 1625 }, slot: 1, scale: 5e-5 },
  { count: 25, map: 'kl', x: { buffer: rhoHat }, rho: 0.01, slot: 2, scale: 3 },
  { count: 25, map: 'identity', x: { buffer: rhoHat }, slot: 3, scale: 1 / 25 },
];
const scalars = upload(8, 0, 0);
const partials = pool.acquire(Math.max(SUM_GROUPS, sumsPartials(terms)) * 4, STORAGE);
const batched = await kernels.sums(terms, partials, scalars);
const perTerm: Dispatch[] = [];
for (const t of terms) perTerm.push(...(await kernels.sum({ ...t, partials, scalars })));

async function msPerList(list: Dispatch[], reps: number): Promise<number> {
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (let r = 0; r < reps; r++) recordDispatches(pass, list);
  pass.end();
  const t0 = performance.now();
  ctx.device.queue.submit([enc.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / reps;
}

await msPerList(batched, 3);
await msPerList(perTerm, 3);
console.log(`adapter: ${ctx.adapter.description || ctx.adapter.vendor}`);
for (let round = 0; round < 3; round++) {
  const b = await msPerList(batched, 30);
  const p = await msPerList(perTerm, 30);
  console.log(`batched (${batched.length} dispatches) ${b.toFixed(2)} ms; per term (${perTerm.length} dispatches) ${p.toFixed(2)} ms`);
}
ctx.destroy();
