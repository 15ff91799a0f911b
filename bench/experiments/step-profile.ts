// Where does a sparse-autoencoder step's time go? Times every dispatch of the
// GpuModel's plan on its own (submit + wait, fastest of a few runs).
//   npx vite-node bench/experiments/step-profile.ts [--layers 784,200,784] [--batch 256] [--variant NAME] [--vec4 NN+NT+TN blocks]
import { acquireDevice, adapterLabel } from '../../src/gpu/device.js';
import type { Dispatch, GemmVariant } from '../../src/gpu/kernels.js';
import { createGpuModel } from '../../src/gpu/model.js';
import { GpuObjective } from '../../src/gpu/objective.js';
import { initParameters } from '../../src/params.js';
import { Rng } from '../../src/prng.js';
import { resolveSpec } from '../../src/spec.js';
import { installVec4Gemm, parseVec4Choice } from './vec4-gemm.js';

const args = process.argv.slice(2);
const flag = (k: string): string | undefined => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const layers = (flag('layers') ?? '784,200,784').split(',').map(Number);
const batch = Number(flag('batch') ?? 256);
const variant = flag('variant') as GemmVariant | undefined;
const vec4 = flag('vec4');
if (vec4) {
  // The proposed kernel (gemm_vec4.wgsl) in place of Kernels.gemm, e.g. --vec4 16x8@4x4+16x16@4x4+8x16@4x4.
  const parts = vec4.split('+').map(parseVec4Choice);
  const [nn, nt, tn] = parts.length === 3 ? parts : [parts[0]!, parts[0]!, parts[0]!];
  installVec4Gemm({ NN: nn!, NT: nt!, TN: tn! });
}

const ctx = await acquireDevice();
const net = resolveSpec({ layers, activation: 'sigmoid', loss: 'squared', autoencoder: true, lambda: 3e-3, sparsity: { rho: 0.1, beta: 3 } });
const model = await createGpuModel(net, initParameters(net, { seed: 1 }), ctx.device, variant ? { gemmVariant: variant } : {});
const rng = new Rng(2);
const X = { rows: batch * 2, cols: layers[0]!, data: Float32Array.from({ length: batch * 2 * layers[0]! }, () => rng.uniform()) };
const obj = new GpuObjective(model, X);
await obj.evaluate({ batch: { start: 0, count: batch }, cost: false });
await obj.ops.flush();
// The plan of the batch data set (private; read for this experiment only).
const plans = (model as unknown as { plans: Map<unknown, { chunks: { forward: Dispatch[]; cost: Dispatch[]; backward: Dispatch[] }[] }> }).plans;
const plan = [...plans.values()].at(-1)!;
const list = [...plan.chunks[0]!.forward, ...plan.chunks[0]!.backward];
const device = ctx.device;
async function time(d: Dispatch): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.x, d.y);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (i > 0) best = Math.min(best, performance.now() - t0);
  }
  return best;
}
console.log(`adapter: ${adapterLabel(ctx.adapter)}; layers ${layers.join('-')}, batch ${batch}, gemm ${vec4 ? `vec4 ${vec4}` : variant ?? 'autotuned'}`);
let total = 0;
for (const d of list) {
  const ms = await time(d);
  total += ms;
  console.log(`${d.label.padEnd(28)} ${String(d.x).padStart(5)} x ${String(d.y).padEnd(4)} ${ms.toFixed(1).padStart(8)} ms`);
}
// An empty submit: the fixed cost of one submit + wait.
const t0 = performance.now();
for (let i = 0; i < 10; i++) {
  device.queue.submit([device.createCommandEncoder().finish()]);
  await device.queue.onSubmittedWorkDone();
}
console.log(`sum of dispatches ${total.toFixed(1)} ms (≈ ${(batch / (total / 1000)).toFixed(0)} samples/s); empty submit+wait ${((performance.now() - t0) / 10).toFixed(2)} ms`);
obj.dispose();
model.dispose();
ctx.destroy();
process.exit(0);
